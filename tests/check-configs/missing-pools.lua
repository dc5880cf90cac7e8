-- proxy-lua-check corpus: no mcp_config_pools
function mcp_config_routes(p) end

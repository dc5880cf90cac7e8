-- proxy-lua-check corpus: an error while loading the file
local x = nil + 1
function mcp_config_pools() return {} end
function mcp_config_routes(p) end

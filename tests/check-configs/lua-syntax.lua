-- proxy-lua-check corpus: a syntax error
function mcp_config_pools()
    return mcp.pool({ mcp.backend("a", "h", "1") }
end

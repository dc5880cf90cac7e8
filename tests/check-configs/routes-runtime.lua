-- proxy-lua-check corpus: a runtime error in mcp_config_routes
function mcp_config_pools()
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    local t = nil; t.x = 1
end

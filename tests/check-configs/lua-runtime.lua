-- proxy-lua-check corpus: a runtime error in mcp_config_pools
function mcp_config_pools()
    local t = nil; t.x = 1
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

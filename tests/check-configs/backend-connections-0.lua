-- proxy-lua-check corpus: connections 0
function mcp_config_pools()
    mcp.backend({ label = "a", host = "h", port = "1", connections = 0 })
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

-- proxy-lua-check corpus: server_stats of an unknown group
function mcp_config_pools()
    mcp.server_stats("bogus")
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

-- proxy-lua-check corpus: seed not a string
function mcp_config_pools()
    mcp.pool({ mcp.backend("a", "h", "1") }, { seed = 5 })
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

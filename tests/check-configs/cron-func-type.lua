-- proxy-lua-check corpus: cron func not a function
function mcp_config_pools()
    mcp.register_cron("c", { func = 1, every = 1 })
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

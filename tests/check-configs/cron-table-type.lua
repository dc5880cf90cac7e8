-- proxy-lua-check corpus: cron options not a table
function mcp_config_pools()
    mcp.register_cron("c", 5)
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

-- proxy-lua-check corpus: backend_flap_backoff_ramp of a table
function mcp_config_pools()
    mcp.backend_flap_backoff_ramp({})
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

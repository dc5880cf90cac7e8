-- proxy-lua-check corpus: label of the wrong type
function mcp_config_pools()
    mcp.backend({ label = {}, host = "h", port = "1" })
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

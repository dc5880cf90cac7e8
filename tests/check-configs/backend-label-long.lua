-- proxy-lua-check corpus: label over 511 bytes
function mcp_config_pools()
    mcp.backend(string.rep("l", 512), "127.0.0.1", "1")
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

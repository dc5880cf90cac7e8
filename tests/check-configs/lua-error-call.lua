-- proxy-lua-check corpus: error() in mcp_config_pools
function mcp_config_pools()
    error("custom failure")
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

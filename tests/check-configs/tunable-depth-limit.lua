-- proxy-lua-check corpus: negative backend_depth_limit
function mcp_config_pools()
    mcp.backend_depth_limit(-3)
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

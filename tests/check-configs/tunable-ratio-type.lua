-- proxy-lua-check corpus: luagc_ratio of nil
function mcp_config_pools()
    mcp.luagc_ratio(nil)
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

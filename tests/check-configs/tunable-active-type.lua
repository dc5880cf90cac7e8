-- proxy-lua-check corpus: active_req_limit of a string
function mcp_config_pools()
    mcp.active_req_limit("many")
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "END\r\n" end)
end

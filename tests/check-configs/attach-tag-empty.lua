-- proxy-lua-check corpus: attach tag empty
function mcp_config_pools()
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function() end, "")
end

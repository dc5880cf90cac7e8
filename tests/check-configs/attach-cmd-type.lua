-- proxy-lua-check corpus: attach with a string command
function mcp_config_pools()
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.attach("get", function() end)
end

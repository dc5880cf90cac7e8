-- proxy-lua-check corpus: mcp.log of a table
function mcp_config_pools()
    return mcp.pool({ mcp.backend("ok", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    mcp.log({})
end

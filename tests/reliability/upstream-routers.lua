-- Upstream finding (docs/RELIABILITY.md): many routers built and dropped in
-- one mcp_config_routes; collecting them runs proxy_luafgen.c
-- mcp_funcgen_cleanup. Not in proxy_lua.c.
function mcp_config_pools()
    return mcp.pool({ mcp.backend("b1", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    local keep
    for i = 1, 200 do
        local fgs = {}
        for j = 1, 4 do
            local fg = mcp.funcgen_new()
            local h = fg:new_handle(p)
            fg:ready({ n = "f" .. j, f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
            fgs["k" .. j] = fg
        end
        keep = mcp.router_new({ map = fgs })
        collectgarbage()
    end
    mcp.attach(mcp.CMD_GET, keep)
end

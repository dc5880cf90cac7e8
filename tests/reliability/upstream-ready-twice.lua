-- Upstream finding (docs/RELIABILITY.md): calling fgen:ready() twice on one
-- function generator (proxy_luafgen.c). Not in proxy_lua.c.
function mcp_config_pools()
    return mcp.pool({ mcp.backend("b1", "127.0.0.1", "11999") })
end
function mcp_config_routes(p)
    local fg = mcp.funcgen_new()
    local h = fg:new_handle(p)
    fg:ready({ n = "one", f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
    fg:ready({ n = "two", f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
    mcp.attach(mcp.CMD_GET, fg)
end

-- Reload soak config A (scripts/reliability/soak.py): two backends in one pool,
-- defaults. proxy_arg: b1_PORT:b2_PORT:b3_PORT.
local a = mcp.start_arg
function mcp_config_pools()
    -- collects the previous config's objects between reloads, so the
    -- backend count settles on this config's own (checked by the soak)
    mcp.register_cron("gc", { every = 1, func = function() collectgarbage() end })
    return mcp.pool({ mcp.backend("b1", "127.0.0.1", a.b1), mcp.backend("b2", "127.0.0.1", a.b2) })
end
function mcp_config_routes(pool)
    local fg = mcp.funcgen_new()
    local h = fg:new_handle(pool)
    fg:ready({ n = "a", f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

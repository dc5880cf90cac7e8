-- Reload soak config C: drops backend b1, moves the pool to the IO thread,
-- two connections per backend, another seed.
local a = mcp.start_arg
function mcp_config_pools()
    -- collects the previous config's objects between reloads, so the
    -- backend count settles on this config's own (checked by the soak)
    mcp.register_cron("gc", { every = 1, func = function() collectgarbage() end })
    mcp.backend_read_timeout(1)
    mcp.tcp_keepalive(true)
    return mcp.pool({
        mcp.backend({ label = "b2", host = "127.0.0.1", port = a.b2, connections = 2 }),
        mcp.backend({ label = "b3", host = "127.0.0.1", port = a.b3, connections = 2 }),
    }, { iothread = true, seed = "soak" })
end
function mcp_config_routes(pool)
    local fg = mcp.funcgen_new()
    local h = fg:new_handle(pool)
    fg:ready({ n = "c", f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

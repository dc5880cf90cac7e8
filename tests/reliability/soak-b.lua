-- Reload soak config B: adds the third backend, a second pool with a key
-- filter and a ring hash, changes tunables, logs one backend.
-- Ring hash in omode "ketama": the default omode crashes memcached before
-- 1.6.45, stock C as ours (docs/RELIABILITY.md, "Upstream 1.6.38").
local a = mcp.start_arg
function mcp_config_pools()
    -- collects the previous config's objects between reloads, so the
    -- backend count settles on this config's own (checked by the soak)
    mcp.register_cron("gc", { every = 1, func = function() collectgarbage() end })
    mcp.backend_read_timeout(2)
    mcp.backend_connect_timeout(3)
    mcp.backend_failure_limit(4)
    local b3 = mcp.backend({ label = "b3", host = "127.0.0.1", port = a.b3, log = { rate = 1000, tag = "soak" } })
    return {
        main = mcp.pool({ mcp.backend("b1", "127.0.0.1", a.b1), mcp.backend("b2", "127.0.0.1", a.b2), b3 }),
        filt = mcp.pool({ mcp.backend("b2", "127.0.0.1", a.b2), b3 },
            { filter = "stop", filter_conf = "/k", dist = mcp.dist_ring_hash, omode = "ketama", beprefix = "f" }),
    }
end
function mcp_config_routes(p)
    local fg = mcp.funcgen_new()
    local hm, hf = fg:new_handle(p.main), fg:new_handle(p.filt)
    fg:ready({ n = "b", f = function(rctx)
        return function(r)
            if r:key():byte(2) == 48 then return rctx:enqueue_and_wait(r, hf) end
            return rctx:enqueue_and_wait(r, hm)
        end
    end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

-- A realistic config for the allocation-failure sweep and the memcheck run:
-- every pool shape (plain, logging with a tag, stop and tags filters, ring
-- hash, an IO-thread pool), tunables, a cron, and routes by key prefix
-- (plain/, log/, multi/, stop/, tags/, internal/). proxy_arg: b_PORT:alloc
-- (with a ":" memcached splits it into the mcp.start_arg table).
-- Ring hash in omode "ketama": the default omode crashes memcached before
-- 1.6.45, stock C as ours (docs/RELIABILITY.md, "Upstream 1.6.38").
local a = mcp.start_arg
function mcp_config_pools()
    mcp.backend_connect_timeout(2)
    mcp.backend_read_timeout(1)
    mcp.backend_failure_limit(5)
    mcp.active_req_limit(1000)
    mcp.register_cron("tick", { every = 60, func = function() end })
    local function be(label, extra)
        local t = { label = label, host = "127.0.0.1", port = a.b }
        for k, v in pairs(extra or {}) do t[k] = v end
        return mcp.backend(t)
    end
    return {
        plain = mcp.pool({ be("p1"), be("p2") }),
        log = mcp.pool({ be("l1", { log = { rate = 1, tag = "alloc" } }) }),
        stop = mcp.pool({ be("s1"), be("s2") }, { filter = "stop", filter_conf = "|#|" }),
        tags = mcp.pool({ be("t1"), be("t2") }, { filter = "tags", filter_conf = "{}", dist = mcp.dist_ring_hash, omode = "ketama" }),
        io = mcp.pool({ be("i1") }, { iothread = true, beprefix = "io" }),
    }
end
function mcp_config_routes(p)
    local fg = mcp.funcgen_new()
    local h = {}
    for name, pool in pairs(p) do h[name] = fg:new_handle(pool) end
    fg:ready({ n = "alloc", f = function(rctx)
        return function(r)
            local k = r:key()
            local pfx = k:match("^(%a+)/")
            if pfx == "internal" then return mcp.internal(r) end
            if pfx == "multi" then pfx = "plain" end
            return rctx:enqueue_and_wait(r, h[pfx] or h.plain)
        end
    end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

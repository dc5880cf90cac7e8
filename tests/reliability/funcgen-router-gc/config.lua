-- Upstream crash (memcached 1.6.45, proxy_luafgen.c; the stock C build and
-- ours alike): a funcgen that was closed and cleaned up is accepted again by
-- mcp.router_new (which, unlike fgen:new_handle and mcp.attach, does not
-- check fgen->closed), so when the router is collected the funcgen is
-- cleaned up a second time and mcp_funcgen_cleanup reads its freed list:
-- SIGSEGV at proxy_luafgen.c:513 via mcp_funcgen_router_cleanup, in the
-- worker VM's garbage collection.
--
-- Reduced by ddmin (5 calls left of the 4,001 in the generated config of
-- /work/shared/repro/funcgen-router-gc) and rewritten as plain mcp.* calls.
-- Write-up: docs/RELIABILITY.md.
--
-- Run (each start dies during the config load, well under a second):
--     tests/reliability/funcgen-router-gc/run.sh path/to/memcached-debug [N]
-- or by hand:
--     memcached-debug -u root -U 0 -s /tmp/x.sock -t 2 -m 64 \
--         -o proxy_config=tests/reliability/funcgen-router-gc/config.lua
--
-- Without the two collectgarbage() calls at the end the crash still comes,
-- from the proxy's own background GC step (proto_proxy.c:
-- proxy_gc_timerpoke), about 8 seconds after the start with no traffic.

function mcp_config_pools()
    return {}
end

function mcp_config_routes(c)
    -- sub: an ordinary funcgen with one request slot (free == total == 1).
    local sub = mcp.funcgen_new()
    sub:ready({ f = function(rctx) return function(r) end end })

    -- top uses sub as a handle: sub's refcount is 1, and top's request slot
    -- pins sub's only slot (sub: free == 0, total == 1).
    local top = mcp.funcgen_new()
    top:new_handle(sub)
    top:ready({ f = function(rctx) return function(r) end end })

    -- Attach top, then replace it: top's refcount drops to 0 and it is
    -- cleaned up; cleaning its slot releases sub's pinned slot (sub total 0),
    -- and releasing its handle dereferences sub to 0 with free == total == 0,
    -- so sub is cleaned up too: closed, self_ref dropped, fgen->list freed
    -- and set to NULL.
    mcp.attach(mcp.CMD_INCR, top)
    mcp.attach(mcp.CMD_INCR, function(r) end)

    -- router_new takes the closed sub as its default without complaint and
    -- references it again (new self_ref, refcount 1). The router itself is
    -- garbage.
    mcp.router_new({ cmap = {}, default = sub })

    -- Collecting the router: mcplib_funcgen_gc -> mcp_funcgen_cleanup ->
    -- mcp_funcgen_router_cleanup -> mcp_funcgen_dereference(sub) -> refcount
    -- 0, free == total -> mcp_funcgen_cleanup(sub) again -> sub->list[x]
    -- with list == NULL.
    collectgarbage("collect")
    collectgarbage("collect")
end

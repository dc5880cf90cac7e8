-- The smallest hand-made form of config.lua's upstream crash (see the
-- comments there and docs/RELIABILITY.md): a funcgen that never had
-- :ready() called has no request slots (free == total == 0), so the first
-- time its refcount reaches 0 it is cleaned up at once; mcp.router_new then
-- accepts it again, and collecting that router cleans it up a second time:
-- SIGSEGV at proxy_luafgen.c:513. Both routers are only garbage; no
-- mcp.attach involved. Run: run.sh path/to/memcached-debug [N] minimal.lua

function mcp_config_pools()
    return {}
end

function mcp_config_routes(c)
    local f = mcp.funcgen_new()
    mcp.router_new({ cmap = {}, default = f }) -- router 1 (garbage) references f
    collectgarbage("collect")
    collectgarbage("collect")                  -- router 1 collected: f closed and cleaned up
    mcp.router_new({ cmap = {}, default = f }) -- router 2 (garbage) references closed f again
    collectgarbage("collect")
    collectgarbage("collect")                  -- router 2 collected: f cleaned up twice -> SIGSEGV
end

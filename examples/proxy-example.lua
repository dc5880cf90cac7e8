-- Example route config for memcached's proxy, run by `make run`.
--
-- Two backend memcached instances on loopback (ports given through
-- `-o proxy_arg=b1_PORT:b2_PORT`, which memcached exposes as
-- mcp.start_arg = { b1 = "PORT", b2 = "PORT" }), one pool hashing keys over
-- them with the default XXH3 + jump hash, and a route that sends every
-- storage command to the pool.

local ports = mcp.start_arg or {}

function mcp_config_pools()
    -- Backend options: the table form of mcp.backend.
    local b1 = mcp.backend({ label = "b1", host = "127.0.0.1", port = ports.b1 or "11312",
                             connecttimeout = 2, readtimeout = 1 })
    local b2 = mcp.backend("b2", "127.0.0.1", ports.b2 or "11313")
    return mcp.pool({ b1, b2 })
end

function mcp_config_routes(pool)
    local fg = mcp.funcgen_new()
    local handle = fg:new_handle(pool)
    fg:ready({
        n = "example_route",
        f = function(rctx)
            return function(r)
                return rctx:enqueue_and_wait(r, handle)
            end
        end,
    })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

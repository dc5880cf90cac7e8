-- Benchmark config for `make bench` (config load and reload): 8 pools of
-- 256 backends each. The backends are marked `down` so that the event
-- threads never connect: what is measured is building the config (our
-- mcp.backend/mcp.pool, the backend cache, the handoff to the event
-- threads), not connection churn. proxy_arg: b_PORT (unused port is fine).
local a = mcp.start_arg
function mcp_config_pools()
    local pools = {}
    for p = 1, 8 do
        local list = {}
        for i = 1, 256 do
            list[i] = mcp.backend({ label = 'p' .. p .. 'b' .. i, host = '127.0.0.1',
                                    port = a.b, down = true })
        end
        pools['pool' .. p] = mcp.pool(list, { beprefix = 'p' .. p })
    end
    return pools
end
function mcp_config_routes(pools)
    local fg = mcp.funcgen_new()
    local h = fg:new_handle(pools.pool1)
    fg:ready({ n = "large", f = function(rctx)
        return function(r) return rctx:enqueue_and_wait(r, h) end
    end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

-- Benchmark config for scripts/bench/bench.sh: keys "r/..." go to a plain pool,
-- keys "l/..." to a pool whose backend logs every request (rate = 1).
local a = mcp.start_arg
function mcp_config_pools()
    local b = mcp.backend('b', '127.0.0.1', a.b)
    local bl = mcp.backend({ label = 'bl', host = '127.0.0.1', port = a.b, log = { rate = 1, tag = 'bench' } })
    return { r = mcp.pool({ b, mcp.backend('b2', '127.0.0.1', a.b) }), l = mcp.pool({ bl }) }
end
function mcp_config_routes(p)
    local fg = mcp.funcgen_new()
    local hr, hl = fg:new_handle(p.r), fg:new_handle(p.l)
    fg:ready({ n = "bench", f = function(rctx)
        return function(r)
            if string.byte(r:key(), 1) == 108 then return rctx:enqueue_and_wait(r, hl) end
            return rctx:enqueue_and_wait(r, hr)
        end
    end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

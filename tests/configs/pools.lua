-- proxy-lua-rs own test config: pools with every option, driven through the
-- real memcached-debug by tests/pools.t. Backend ports come in proxy_arg:
-- b1_PORT:b2_PORT.
-- Ring hash in omode "ketama": the default omode crashes memcached before
-- 1.6.45, stock C as ours (docs/RELIABILITY.md, "Upstream 1.6.38").
local a = mcp.start_arg

function mcp_config_pools()
    mcp.backend_read_timeout(2)
    mcp.backend_connect_timeout(2)
    local b1 = mcp.backend('b1', '127.0.0.1', a.b1)
    local b2 = mcp.backend({ label = 'b2', host = '127.0.0.1', port = a.b2 })
    local c1 = mcp.backend({ label = 'c1', host = '127.0.0.1', port = a.b1, connections = 3 })
    local c2 = mcp.backend({ label = 'c2', host = '127.0.0.1', port = a.b2, connections = 3 })
    return {
        plain = mcp.pool({ b1, b2 }),
        io = mcp.pool({ b1, b2 }, { iothread = true }),
        stop = mcp.pool({ b1, b2 }, { filter = 'stop', filter_conf = '|#|', seed = 'stopseed' }),
        tags = mcp.pool({ b1, b2 }, { filter = 'tags', filter_conf = '{}' }),
        ring = mcp.pool({ b1, b2 }, { dist = mcp.dist_ring_hash, omode = 'ketama' }),
        conns = mcp.pool({ c1, c2 }),
        pfx = mcp.pool({ b1, b2 }, { beprefix = 'other' }),
    }
end

function mcp_config_routes(pools)
    local fg = mcp.funcgen_new()
    local h = {}
    for name, p in pairs(pools) do
        h[name] = fg:new_handle(p)
    end
    fg:ready({ n = "bypool", f = function(rctx)
        return function(r)
            -- keys look like "<pool>/<rest>"
            local k = r:key()
            local name = string.match(k, "^(%w+)/")
            local handle = h[name]
            if handle == nil then
                return "SERVER_ERROR no such pool\r\n"
            end
            return rctx:enqueue_and_wait(r, handle)
        end
    end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

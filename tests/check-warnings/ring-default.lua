-- proxy-lua-check warns (on memcached before 1.6.45): a ring hash pool in
-- its default omode, whose ring upstream leaves uninitialised there.
function mcp_config_pools()
    local b1 = mcp.backend("b1", "127.0.0.1", 11311)
    local b2 = mcp.backend("b2", "127.0.0.1", 11312)
    return {
        ring = mcp.pool({ b1, b2 }, { dist = mcp.dist_ring_hash }),
        ring_default = mcp.pool({ b1, b2 }, { dist = mcp.dist_ring_hash, omode = "default" }),
        ketama = mcp.pool({ b1, b2 }, { dist = mcp.dist_ring_hash, omode = "ketama" }),
        jump = mcp.pool({ b1, b2 }),
    }
end
function mcp_config_routes(p)
    local fg = mcp.funcgen_new()
    local h = fg:new_handle(p.ketama)
    fg:ready({ n = "r", f = function(rctx) return function(r) return rctx:enqueue_and_wait(r, h) end end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

-- Reproduction (docs/RELIABILITY.md, "backend released twice"): rebuilding
-- pools in a loop during one config load; the Lua GC collects backends
-- created in the same load while their event thread has not taken them yet.
-- Upstream's mcplib_backend_wrap_gc then links them into beconn_head_in a
-- second time (double free / "Assertion be->transferred failed").
function mcp_config_pools()
    local pools = {}
    for round = 1, 3 do
        pools = {}
        for i = 1, 400 do
            local be = mcp.backend('r' .. round .. 'b' .. i, '127.0.0.1', 12000 + i)
            pools['p' .. i] = mcp.pool({ be }, { beprefix = string.format('x%05d', round) })
        end
    end
    return pools
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "SERVER_ERROR x\r\n" end)
end

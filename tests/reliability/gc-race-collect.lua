-- Reproduction (docs/RELIABILITY.md): an explicit collectgarbage() after
-- dropping a pool inside mcp_config_pools collects its backend before the
-- event thread took it.
function mcp_config_pools()
    local keep = {}
    for i = 1, 50 do
        local p = mcp.pool({ mcp.backend('drop' .. i, '127.0.0.1', 13000 + i) })
        p = nil
        collectgarbage()
        keep['k' .. i] = mcp.pool({ mcp.backend('keep' .. i, '127.0.0.1', 14000 + i) })
    end
    return keep
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_GET, function(r) return "SERVER_ERROR x\r\n" end)
end

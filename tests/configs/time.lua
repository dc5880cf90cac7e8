-- tests/time.t: mcp.time_real_millis() and mcp.time_mono_millis() through a
-- route that returns them in the reply.
function mcp_config_pools()
    return {}
end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_MG, function(r)
        return string.format("HD real=%d mono=%d\r\n", mcp.time_real_millis(), mcp.time_mono_millis())
    end)
end

-- proxy-lua-rs own test config (tests/logging.t): automatic backend logging
-- (mcplib_rqu_log) with the backend `log` options, mcp.log_req and
-- mcp.log_reqsample from a route, in the real memcached-debug.
local a = mcp.start_arg

function mcp_config_pools()
    local always = mcp.backend({ label = 'always', host = '127.0.0.1', port = a.b1,
                                 log = { rate = 1, tag = 'ratetag' } })
    local errors = mcp.backend({ label = 'errors', host = '127.0.0.1', port = a.dead,
                                 connecttimeout = 0.2, log = { errors = true, tag = 'errtag' } })
    local quiet = mcp.backend({ label = 'quiet', host = '127.0.0.1', port = a.b1 })
    return { always = mcp.pool({ always }), errors = mcp.pool({ errors }), quiet = mcp.pool({ quiet }) }
end

function mcp_config_routes(p)
    local fg = mcp.funcgen_new()
    local h = { always = fg:new_handle(p.always), errors = fg:new_handle(p.errors), quiet = fg:new_handle(p.quiet) }
    fg:ready({ n = "logging", f = function(rctx)
        return function(r)
            local name = string.match(r:key(), "^(%w+)/")
            if name == "req" then
                local res = rctx:enqueue_and_wait(r, h.quiet)
                mcp.log_req(r, res, "logreq detail", 77)
                return res
            elseif name == "sample" then
                local res = rctx:enqueue_and_wait(r, h.quiet)
                -- rate 1: always; ms 0 and no errors would not log
                mcp.log_reqsample(0, 1, false, r, res, "sampled")
                mcp.log_reqsample(0, 0, false, r, res, "never")
                return res
            end
            return rctx:enqueue_and_wait(r, h[name])
        end
    end })
    mcp.attach(mcp.CMD_ANY_STORAGE, fg)
end

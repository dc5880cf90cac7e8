-- proxy-lua-rs own test config (tests/errors.t): every error string of the
-- config-VM and worker-VM functions, raised in the real memcached-debug.
-- Results go to the worker VMs in the pools table; `mg err/<name>` returns
-- "RESULT <message>" (newlines escaped as \n).
local a = mcp.start_arg

local function e(f, ...)
    local ok, err = pcall(f, ...)
    if ok then return "no error" end
    return tostring(err)
end

function mcp_config_pools()
    local r = {}
    local B = function(t) t.label = t.label or 'l'; t.host = t.host or 'h'; t.port = t.port or '1'; return t end
    r.be_label = e(mcp.backend, { host = 'h', port = '1' })
    r.be_host = e(mcp.backend, { label = 'l', port = '1' })
    r.be_port = e(mcp.backend, { label = 'l', host = 'h' })
    r.be_failurelimit = e(mcp.backend, B{ failurelimit = -1 })
    r.be_depthlimit = e(mcp.backend, B{ depthlimit = -1 })
    r.be_conns0 = e(mcp.backend, B{ connections = 0 })
    r.be_conns9 = e(mcp.backend, B{ connections = 9 })
    r.be_logtype = e(mcp.backend, B{ log = 'x' })
    r.be_logdeadline = e(mcp.backend, B{ log = { deadline = -1 } })
    r.be_lograte = e(mcp.backend, B{ log = { rate = -1 } })
    r.be_labellen = e(mcp.backend, string.rep('x', 512), 'h', '1')
    r.be_namelen = e(mcp.backend, 'l', string.rep('h', 255), '1')
    r.be_portlen = e(mcp.backend, 'l', 'h', 1234567)
    local b = mcp.backend('ok', '127.0.0.1', a.b1)
    r.pool_filter = e(mcp.pool, { b }, { filter = 'bogus' })
    r.pool_filterconf = e(mcp.pool, { b }, { filter = 'stop' })
    r.pool_filterconf1 = e(mcp.pool, { b }, { filter = 'tags', filter_conf = '{' })
    r.pool_filterconf6 = e(mcp.pool, { b }, { filter = 'stop', filter_conf = '123456' })
    r.pool_distnew = e(mcp.pool, { b }, { dist = {} })
    local jump = mcp.dist_jump_hash
    mcp.dist_jump_hash = nil
    r.pool_nodist = e(mcp.pool, { b }, {})
    mcp.dist_jump_hash = jump
    r.failure_limit = e(mcp.backend_failure_limit, -1)
    r.depth_limit = e(mcp.backend_depth_limit, -1)
    r.use_tls = e(mcp.backend_use_tls, true)
    r.init_tls = e(mcp.init_tls)
    r.cron_func = e(mcp.register_cron, 'c', { every = 1 })
    r.cron_every = e(mcp.register_cron, 'c', { func = function() end })
    r.cron_every0 = e(mcp.register_cron, 'c', { func = function() end, every = 1.5 })
    r.stats_bogus = e(mcp.server_stats, 'bogus')
    -- server_stats in the real binary
    local st = mcp.server_stats()
    r.stats_plain = (st.pid and st.uptime and st.curr_connections) and "ok" or "missing"
    r.stats_settings = mcp.server_stats('settings').maxconns and "ok" or "missing"
    r.stats_proxy = mcp.server_stats('proxy').buffer_memory_used and "ok" or "missing"
    r.stats_slabs = type(mcp.server_stats('slabs').active_slabs) == "string" and "ok" or "missing"
    r.stats_conns = type(mcp.server_stats('conns')) == "table" and "ok" or "missing"
    r.stats_extstore = type(mcp.server_stats('extstore')) == "table" and "ok" or "missing"
    mcp.register_cron('logger', { every = 1, func = function() mcp.log("cron ran") end })
    return { r = r, p = mcp.pool({ b }) }
end

function mcp_config_routes(c)
    local r = c.r
    local w = {}
    w.attach_func = e(mcp.attach, mcp.CMD_GET, 5)
    w.attach_tag = e(mcp.attach, mcp.CMD_GET, function() end, '123456789')
    -- upstream C writes outside the hook array here: not run against it
    w.attach_cmd = a.stock and "skipped" or e(mcp.attach, 99, function() end)
    w.time = (math.type(mcp.time_real_millis()) == "integer" and math.type(mcp.time_mono_millis()) == "integer") and "ok" or "bad"
    local fg = mcp.funcgen_new()
    fg:ready({ n = "errors", f = function(rctx)
        return function(req)
            local k = string.match(req:key(), "^err/(.*)$")
            local v = r[k] or w[k] or "no such result"
            return "RESULT " .. string.gsub(v, "\n", "\\n") .. "\r\n"
        end
    end })
    mcp.attach(mcp.CMD_MG, fg)
end

-- Differential fuzzing of the mcp.* API (`make fuzz`, scripts/reliability/fuzz.py).
--
-- memcached loads this as its proxy config with
--   -o proxy_config=tests/fuzz/fuzz.lua,proxy_arg=seed_S:calls_N:out_DIR
-- In mcp_config_pools (config VM) and mcp_config_routes (worker VM) it makes
-- N random calls of the mcp functions of that VM, each in pcall, from a
-- generator seeded with S (Lua's own xoshiro256**: the same corpus on every
-- build), with random argument types, sizes, nesting and boundary values,
-- and writes one line per call: "<n> <function> ok <result type>" or
-- "<n> <function> err <message>" into DIR/config.out and DIR/worker.out,
-- then "DONE". The harness runs the same seeds on memcached with
-- proxy-lua-rs and on the stock C build and compares the files.

local arg = mcp.start_arg or {}
local SEED = tonumber(arg.seed) or 1
local CALLS = tonumber(arg.calls) or 1000
local OUT = arg.out or "/tmp"
-- safe_1: leave out the calls known to crash upstream's C build (a third
-- argument to mcp.register_cron, mcp.attach out of range, collecting
-- backends created in the same load: docs/RELIABILITY.md), so that the
-- stock build lives through the run and every outcome can be compared
local SAFE = arg.safe ~= nil

local R = math.random

local function pick(t) return t[R(#t)] end

local INTS = { 0, 1, -1, 2, 7, 8, 9, 100, 255, 256, 511, 512, 513, 1000, 65535, 65536,
    2147483647, -2147483648, 2147483648, 4294967295, 4294967296,
    math.maxinteger, math.mininteger }
local FLOATS = { 0.0, 0.5, -0.5, 1.1, 1.09, 2.5, 1e6, -1e6, 1e19, -1e19, 1e300,
    1 / 0, -1 / 0, 0 / 0, 3.999999 }
local STRS = { "", "a", "ab", "abc", "12", "-3", "1e3", "0x10", " 5 ", "a\0b", "stop", "tags",
    "{}", "$$", "||", "|#|", "127.0.0.1", "localhost", "11211", "0", "99999", "x:y",
    "settings", "conns", "proxy", "proxyfuncs", "proxybe", "items", "slabs", "sizes", "extstore",
    "bogus", "CMD_GET", "\255\254", "nul\0in\0middle" }

local objs = {} -- values returned by earlier calls (backends, pools, ...)

local function rstring()
    local k = R(10)
    if k <= 6 then return pick(STRS) end
    if k == 7 then return string.rep(string.char(R(32, 126)), pick({ 6, 7, 8, 9, 255, 256, 511, 512, 513, 600 })) end
    if k == 8 then return string.rep("k", R(0, 300)) end
    if k == 9 then return tostring(R(-5, 70000)) end
    return string.char(R(0, 255), R(0, 255), R(0, 255))
end

local rvalue

local function rtable(depth)
    local t = {}
    local n = R(0, 4)
    for i = 1, n do t[i] = rvalue(depth + 1) end
    if R(3) == 1 then t[rstring()] = rvalue(depth + 1) end
    return t
end

rvalue = function(depth)
    depth = depth or 0
    local k = R(depth > 2 and 7 or 10)
    if k == 1 then return nil end
    if k == 2 then return R(2) == 1 end
    if k == 3 then return pick(INTS) end
    if k == 4 then return pick(FLOATS) end
    if k == 5 or k == 6 then return rstring() end
    if k == 7 then
        if #objs > 0 then return objs[R(#objs)] end
        return pick(INTS)
    end
    if k == 8 then return rtable(depth) end
    if k == 9 then return function() end end
    return pick({ mcp.dist_jump_hash, mcp.dist_ring_hash, mcp.hash_xxhash, mcp.internal_handler, mcp })
end

local BACKEND_OPTS = { "label", "host", "port", "tcpkeepalive", "tls", "failurelimit", "depthlimit",
    "connecttimeout", "retrytimeout", "retrywaittime", "readtimeout", "down", "flaptime",
    "flapbackofframp", "flapbackoffmax", "connections", "log" }

local function rbackend_table()
    local t = {}
    -- mostly valid, sometimes not
    if R(8) > 1 then t.label = R(6) > 1 and ("b" .. R(50)) or rvalue(1) end
    if R(8) > 1 then t.host = R(4) > 1 and "127.0.0.1" or rvalue(1) end
    if R(8) > 1 then t.port = R(4) > 1 and tostring(R(1, 9)) or rvalue(1) end
    for _ = 1, R(0, 5) do
        local o = pick(BACKEND_OPTS)
        if o == "log" and R(2) == 1 then
            local l = {}
            for _, k in ipairs({ "deadline", "rate", "errors", "tag" }) do
                if R(2) == 1 then l[k] = rvalue(2) end
            end
            t.log = l
        elseif o == "connections" and R(2) == 1 then
            t.connections = R(-1, 10)
        else
            t[o] = rvalue(1)
        end
    end
    t.down = R(3) > 1 and true or t.down -- mostly: no connection attempts
    return t
end

local function rbackend_args()
    local k = R(6)
    if k <= 4 then return { rbackend_table() } end
    if k == 5 then return { "b" .. R(50), "127.0.0.1", tostring(R(1, 9)) } end
    return { rvalue(), rvalue(), rvalue(), n = 3 }
end

local function rpool_args()
    local list = {}
    local k = R(8)
    if k <= 6 then
        for i = 1, R(0, 4) do
            local ok, be = pcall(mcp.backend, { label = "pb" .. R(30), host = "127.0.0.1",
                port = tostring(R(1, 9)), down = true })
            list[i] = ok and be or nil
        end
    elseif k == 7 then
        for i = 1, R(0, 3) do list[i] = rvalue(1) end
    else
        list = rvalue()
    end
    if R(3) == 1 then return { list, n = 1 } end
    local o = {}
    for _ = 1, R(0, 6) do
        local key = pick({ "dist", "hash", "filter", "filter_conf", "beprefix", "iothread", "seed", rstring() })
        local v
        if key == "dist" then v = R(3) > 1 and pick({ mcp.dist_jump_hash, mcp.dist_ring_hash }) or rvalue(1)
        elseif key == "hash" then v = R(3) > 1 and mcp.hash_xxhash or rvalue(1)
        elseif key == "filter" then v = R(3) > 1 and pick({ "stop", "tags" }) or rvalue(1)
        elseif key == "filter_conf" then v = R(3) > 1 and string.rep(pick({ "|", "{}", "#" }), R(0, 4)) or rvalue(1)
        elseif key == "iothread" then v = R(3) > 1 and (R(2) == 1) or rvalue(1)
        else v = rvalue(1) end
        o[key] = v
    end
    return { list, R(8) > 1 and o or rvalue(), n = 2 }
end

local notes
local function out(f, n, name, ok, r)
    if ok then
        f:write(n, " ", name, " ok ", type(r), "\n")
    else
        f:write(n, " ", name, " err ", tostring(r):gsub("\n", "\\n"), "\n")
    end
end

local CONFIG_FUNCS = {
    { "backend", 20, rbackend_args },
    { "pool", 12, rpool_args },
    { "add_stat", 2, function() return { rvalue(), rvalue(), n = 2 } end },
    { "ratelim_global_tbf", 2, function() return { R(2) == 1 and { limit = rvalue(1), fillrate = rvalue(1), tickrate = rvalue(1) } or rvalue(), n = 1 } end },
    { "luagc_ratio", 2, function() return { rvalue(), n = 1 } end },
    { "stat_limit", 2, function() return { R(2) == 1 and R(0, 2000) or rvalue(), n = 1 } end },
    { "backend_connect_timeout", 2, function() return { rvalue(), n = 1 } end },
    { "backend_retry_timeout", 2, function() return { rvalue(), n = 1 } end },
    { "backend_retry_waittime", 2, function() return { rvalue(), n = 1 } end },
    { "backend_read_timeout", 2, function() return { rvalue(), n = 1 } end },
    { "backend_failure_limit", 2, function() return { rvalue(), n = 1 } end },
    { "backend_depth_limit", 2, function() return { rvalue(), n = 1 } end },
    { "backend_flap_time", 2, function() return { rvalue(), n = 1 } end },
    { "backend_flap_backoff_ramp", 2, function() return { rvalue(), n = 1 } end },
    { "backend_flap_backoff_max", 2, function() return { rvalue(), n = 1 } end },
    { "backend_use_iothread", 2, function() return { rvalue(), n = 1 } end },
    { "backend_use_tls", 1, function() return { rvalue(), n = 1 } end },
    { "init_tls", 1, function() return {} end },
    { "tcp_keepalive", 2, function() return { rvalue(), n = 1 } end },
    { "active_req_limit", 2, function() return { rvalue(), n = 1 } end },
    { "buffer_memory_limit", 2, function() return { rvalue(), n = 1 } end },
    { "register_cron", 3, function()
        local t = {}
        if R(4) > 1 then t.func = R(3) > 1 and function() end or rvalue(1) end
        if R(4) > 1 then t.every = R(3) > 1 and R(-2, 100) or rvalue(1) end
        if R(3) == 1 then t.rerun = rvalue(1) end
        -- rarely a third argument: upstream then crashes (docs/RELIABILITY.md)
        if R(100) == 1 and not SAFE then return { R(3) > 1 and ("cron" .. R(5)) or rvalue(), t, rvalue(), n = 3 } end
        return { R(3) > 1 and ("cron" .. R(5)) or rvalue(), R(6) > 1 and t or rvalue(), n = 2 }
    end },
    { "server_stats", 2, function() return { R(4) > 1 and pick(STRS) or rvalue(), n = 1 } end },
    { "log", 2, function() return { rvalue(), n = 1 } end },
    -- mcp.schedule_config_reload is left out: it would reload (and rerun)
    -- this config.
}

local WORKER_FUNCS = {
    { "attach", 10, function()
        local cmd = R(10) > 1 and R(0, mcp.CMD_ANY_STORAGE) or rvalue()
        -- rarely out of range: upstream writes outside the hook array
        if R(200) == 1 and not SAFE then cmd = pick({ -1, 200, 1000 }) end
        if SAFE then
            -- in range: 0 .. CMD_SIZE-1, CMD_ANY, CMD_ANY_STORAGE (numeric
            -- strings convert as in luaL_checkinteger)
            local num = (type(cmd) == "number" or type(cmd) == "string") and tonumber(cmd)
            local top = mcp.CMD_ANY_STORAGE
            if num and not (num >= 0 and num <= top and num ~= top - 2) then cmd = R(0, top - 3) end
        end
        local f = R(4) > 1 and function(r) return "SERVER_ERROR x\r\n" end or rvalue()
        if R(3) == 1 then
            local ok, fg = pcall(mcp.funcgen_new)
            if ok then
                pcall(fg.ready, fg, { n = "fz" .. R(5), f = function(rctx) return function(r) return "END\r\n" end end })
                f = fg
            end
        end
        return { cmd, f, R(3) == 1 and (R(2) == 1 and string.rep("t", R(0, 10)) or rvalue()) or nil, n = 3 }
    end },
    { "log", 3, function() return { rvalue(), n = 1 } end },
    { "log_req", 3, function() return { rvalue(), rvalue(), rvalue(), rvalue(), n = 4 } end },
    { "log_reqsample", 3, function() return { rvalue(), rvalue(), rvalue(), rvalue(), rvalue(), rvalue(), rvalue(), n = 7 } end },
    { "time_real_millis", 2, function() return {} end },
    { "time_mono_millis", 2, function() return {} end },
    { "stat", 1, function() return { rvalue(), rvalue(), n = 2 } end },
    { "ratelim_tbf", 1, function() return { R(2) == 1 and { limit = rvalue(1), fillrate = rvalue(1), tickrate = rvalue(1) } or rvalue(), n = 1 } end },
}

local function weighted(funcs)
    local list = {}
    for _, e in ipairs(funcs) do
        for _ = 1, e[2] do list[#list + 1] = e end
    end
    return list
end

local function run(which, funcs, calls)
    math.randomseed(SEED, which == "config" and 1 or 2)
    local f = assert(io.open(OUT .. "/" .. which .. ".out", "w"))
    notes = assert(io.open(OUT .. "/" .. which .. ".notes", "w"))
    notes:setvbuf("line")
    f:setvbuf("line") -- a crash must not lose the lines before it
    local list = weighted(funcs)
    for n = 1, calls do
        local e = pick(list)
        local fn = mcp[e[1]]
        local args = e[3]()
        -- exactly the arguments generated (trailing nils included: args.n)
        local ok, r = pcall(fn, table.unpack(args, 1, args.n or #args))
        out(f, n, e[1], ok, r)
        -- a beprefix's length, for scripts/reliability/fuzz.py: C builds without the
        -- beprefix clamp (before 1.6.40) overrun the pool with a long one
        if e[1] == "pool" and type(args[2]) == "table" and type(args[2].beprefix) == "string" then
            notes:write(n, " beprefix ", #args[2].beprefix, "\n")
        end
        if ok and (type(r) == "userdata" or type(r) == "table") and R(2) == 1 then
            objs[#objs + 1] = r
            if #objs > 64 then table.remove(objs, 1) end
        end
        if n % 97 == 0 and R(4) == 1 and not SAFE then objs = {} collectgarbage() end
    end
    f:write("DONE\n")
    f:close()
    notes:close()
end

function mcp_config_pools()
    run("config", CONFIG_FUNCS, CALLS)
    objs = {}
    collectgarbage()
    -- a valid pool so the routes have something
    return mcp.pool({ mcp.backend({ label = "final", host = "127.0.0.1", port = "1", down = true }) })
end

function mcp_config_routes(pool)
    run("worker", WORKER_FUNCS, math.max(1, CALLS // 4))
    mcp.attach(mcp.CMD_ANY_STORAGE, function(r) return "END\r\n" end)
end

-- proxy-lua-check's inspector. memcached loads it before the checked
-- config (proxy_config=inspect.lua:CONFIG) in the config VM and, as it does
-- with every config file, in the worker VM. It changes nothing the config
-- sees: it only sets a debug hook that watches calls of the mcp.* functions
-- and reads their arguments and results, so every call, every error and
-- every message is memcached's own. When mcp_config_routes returns, it
-- writes what it saw (summary.json, summary.txt) into $PROXY_LUA_CHECK_OUT
-- and the checker stops memcached.
local OUT = os.getenv("PROXY_LUA_CHECK_OUT")
if not OUT or type(mcp) ~= "table" then return end
local ALL = os.getenv("PROXY_LUA_CHECK_ALL") == "1"
-- the version `memcached -V` printed (for warnings about upstream bugs)
local MCVERSION = os.getenv("PROXY_LUA_CHECK_MCVERSION") or ""

local getinfo, getlocal = debug.getinfo, debug.getlocal
local SELF = debug.getinfo(1, "S").source
local VM = mcp.attach and "worker" or "config"
local state_file = OUT .. "/" .. VM .. ".lua"

-- ---- what was seen ----
local S = { backends = {}, pools = {}, tunables = {}, crons = {}, stats = {}, routes = {},
            funcgens = {}, calls = 0, errors = {} }
local backend_of = setmetatable({}, { __mode = "k" }) -- userdata -> record
local pool_of = setmetatable({}, { __mode = "k" })
local fgen_of = setmetatable({}, { __mode = "k" })

local function where()
    -- the config line that made the call being hooked (levels: this
    -- function 1, the hook 2, the called function 3, its caller 4)
    -- (with --all, the call comes through pcall and this file's wrapper:
    -- skip C frames and this file's)
    local lv, i = 4, getinfo(4, "Sl")
    while i and (i.what == "C" or i.source == SELF) and lv < 12 do
        lv = lv + 1
        i = getinfo(lv, "Sl")
    end
    if i and i.currentline and i.currentline > 0 then return i.short_src .. ":" .. i.currentline end
    return "?"
end

local function secs(v) return type(v) == "number" and v or tostring(v) end

local function val(v)
    local t = type(v)
    if t == "string" or t == "number" or t == "boolean" then return v end
    if t == "nil" then return nil end
    if backend_of[v] then return "backend " .. backend_of[v].label end
    return t
end

local DIST = {}
local function dist_name(v)
    if v == nil then return "jump_hash (default)" end
    if v == mcp.dist_jump_hash then return "jump_hash" end
    if v == mcp.dist_ring_hash then return "ring_hash" end
    return type(v)
end
local function hash_name(v)
    if v == nil then return "xxhash (default)" end
    if v == mcp.hash_xxhash then return "xxhash" end
    return type(v)
end

local CMDNAME = {}
for k, v in pairs(mcp) do
    if type(k) == "string" and k:match("^CMD_") and type(v) == "number" then CMDNAME[v] = k end
end

-- ---- handlers: on the call (arguments) and on the return (results) ----
local on_call, on_return = {}, {}

local TUNABLES = { "backend_connect_timeout", "backend_retry_timeout", "backend_retry_waittime",
    "backend_read_timeout", "backend_failure_limit", "backend_depth_limit", "backend_flap_time",
    "backend_flap_backoff_ramp", "backend_flap_backoff_max", "backend_use_iothread", "backend_use_tls",
    "tcp_keepalive", "active_req_limit", "buffer_memory_limit", "luagc_ratio", "stat_limit" }

if VM == "config" then
    on_return[mcp.backend] = function(a, r, at)
        local rec
        if type(a[1]) == "table" then
            local t = a[1]
            rec = { label = t.label, host = t.host, port = t.port, options = {} }
            for k, v in pairs(t) do
                if k ~= "label" and k ~= "host" and k ~= "port" then
                    if k == "log" and type(v) == "table" then
                        rec.log = { deadline = v.deadline, rate = v.rate, errors = v.errors, tag = v.tag }
                    else
                        rec.options[k] = val(v)
                    end
                end
            end
        else
            rec = { label = a[1], host = a[2], port = a[3], options = {} }
        end
        rec.at = at
        if r[1] ~= nil then backend_of[r[1]] = rec end
        S.backends[#S.backends + 1] = rec
    end
    on_return[mcp.pool] = function(a, r, at)
        local rec = { backends = {}, at = at }
        if type(a[1]) == "table" then
            for i, b in ipairs(a[1]) do rec.backends[i] = backend_of[b] and backend_of[b].label or tostring(b) end
        end
        local o = type(a[2]) == "table" and a[2] or {}
        rec.dist = dist_name(o.dist)
        rec.hash = hash_name(o.hash)
        rec.filter = o.filter
        rec.filter_conf = o.filter_conf
        rec.beprefix = o.beprefix
        rec.iothread = o.iothread
        rec.seed = o.seed
        if o.dist == mcp.dist_ring_hash then rec.omode = o.omode end
        if r[1] ~= nil then pool_of[r[1]] = rec end
        S.pools[#S.pools + 1] = rec
    end
    for _, name in ipairs(TUNABLES) do
        if mcp[name] then
            on_return[mcp[name]] = function(a, r, at) S.tunables[#S.tunables + 1] = { name = name, value = val(a[#a]), at = at } end
        end
    end
    on_return[mcp.register_cron] = function(a, r, at)
        local t = type(a[2]) == "table" and a[2] or {}
        S.crons[#S.crons + 1] = { name = a[1], every = t.every, rerun = t.rerun, at = at }
    end
    on_return[mcp.add_stat] = function(a, r, at) S.stats[#S.stats + 1] = { id = a[1], name = a[2], at = at } end
else
    on_return[mcp.attach] = function(a, r, at)
        local h = a[2]
        local handler = type(h)
        if fgen_of[h] then handler = "funcgen " .. (fgen_of[h].name or "?") end
        local cmd = a[1]
        S.routes[#S.routes + 1] = { command = CMDNAME[cmd] or tostring(cmd), handler = handler,
                                    tag = a[3], at = at }
    end
    on_return[mcp.funcgen_new] = function(a, r, at)
        local fg = r[1]
        if fg == nil then return end
        fgen_of[fg] = { handles = {} }
        local mt = getmetatable(fg)
        if type(mt) == "table" and mt.ready and not on_return[mt.ready] then
            on_return[mt.ready] = function(a2, r2, at)
                local rec = fgen_of[a2[1]]
                if rec and type(a2[2]) == "table" then
                    rec.name = a2[2].n
                    S.funcgens[#S.funcgens + 1] = { name = a2[2].n, handles = rec.handles, at = at }
                end
            end
            on_return[mt.new_handle] = function(a2, r2, at)
                local rec = fgen_of[a2[1]]
                if rec then rec.handles[#rec.handles + 1] = S.pool_names and S.pool_names[a2[2]] or type(a2[2]) end
            end
        end
    end
end

-- the pools table mcp_config_pools returns, and its names in the worker
local function walk_pools(t, prefix, out, seen)
    if type(t) ~= "table" or seen[t] then return end
    seen[t] = true
    for k, v in pairs(t) do
        local name = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
        if type(v) == "table" then walk_pools(v, name, out, seen) else out[v] = name end
    end
end

local pending = {}
local in_main = false -- inside mcp_config_pools (config VM) / mcp_config_routes (worker VM)
local finish          -- defined below: what to do when it returns

local function hook(ev)
    local info = getinfo(2, "f")
    local f = info and info.func
    local main = VM == "config" and _G.mcp_config_pools or _G.mcp_config_routes
    if ev == "call" or ev == "tail call" then
        if f == main and f ~= nil then
            in_main = true
            if VM == "worker" then
                -- the pools argument: pool proxies by name
                local _, p = getlocal(2, 1)
                local names = {}
                if type(p) == "table" then walk_pools(p, nil, names, {}) elseif p ~= nil then names[p] = "(the pool)" end
                S.pool_names = names
            end
        elseif on_return[f] then
            local args, i = {}, 1
            while true do
                local n, v = getlocal(2, i)
                if not n then break end
                args[i] = v
                i = i + 1
            end
            -- (C frames: the last slot is the hook's own)
            if getinfo(2, "S").what == "C" then args[#args] = nil end
            pending[#pending + 1] = { f = f, args = args, at = where() }
            S.calls = S.calls + 1
        end
    elseif ev == "return" then
        local r = getinfo(2, "r")
        local res = {}
        for i = r.ftransfer, r.ftransfer + r.ntransfer - 1 do
            local _, v = getlocal(2, i)
            res[#res + 1] = v
        end
        -- a call that raised (caught by --all's pcall) never returned: drop
        -- what is above the function returning now
        for j = #pending, 1, -1 do
            if pending[j].f == f then
                local top = pending[j]
                for k = #pending, j, -1 do pending[k] = nil end
                local h = on_return[f]
                if h then pcall(h, top.args, res, top.at) end
                break
            end
        end
        -- The end of mcp_config_pools/mcp_config_routes: the return to
        -- memcached's C (no Lua frame above). It may have tail-called
        -- another function (`return mcp.pool(...)`), which returns in its
        -- place: its results are the main function's.
        if in_main and getinfo(3, "f") == nil then
            in_main = false
            finish(res)
        end
    end
end

-- ---- output ----
local function json(v, ind)
    ind = ind or ""
    local t = type(v)
    if t == "nil" then return "null" end
    if t == "boolean" then return tostring(v) end
    if t == "number" then
        if v ~= v or v == math.huge or v == -math.huge then return string.format("%q", tostring(v)) end
        return tostring(v)
    end
    if t == "string" then
        return '"' .. v:gsub('[%c"\\]', function(c)
            local m = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
            return m[c] or string.format("\\u%04x", c:byte())
        end) .. '"'
    end
    if t == "table" then
        local n = #v
        local keys = {}
        for k in pairs(v) do if not (type(k) == "number" and k >= 1 and k <= n) then keys[#keys + 1] = k end end
        if n > 0 and #keys == 0 then
            local parts = {}
            for i = 1, n do parts[i] = ind .. "  " .. json(v[i], ind .. "  ") end
            return "[\n" .. table.concat(parts, ",\n") .. "\n" .. ind .. "]"
        end
        if n == 0 and #keys == 0 then return "{}" end
        table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
        local parts = {}
        for _, k in ipairs(keys) do parts[#parts + 1] = ind .. "  " .. json(tostring(k)) .. ": " .. json(v[k], ind .. "  ") end
        return "{\n" .. table.concat(parts, ",\n") .. "\n" .. ind .. "}"
    end
    return json(tostring(v))
end

local function lua_lit(v, ind)
    ind = ind or ""
    local t = type(v)
    if t == "string" then return string.format("%q", v) end
    if t == "number" then
        if v ~= v then return "0/0" elseif v == math.huge then return "math.huge" elseif v == -math.huge then return "-math.huge" end
        return string.format("%.17g", v)
    end
    if t == "boolean" or t == "nil" then return tostring(v) end
    if t == "table" then
        local parts = {}
        for k, x in pairs(v) do
            if type(k) == "string" or type(k) == "number" then
                parts[#parts + 1] = ind .. "  [" .. lua_lit(k) .. "] = " .. lua_lit(x, ind .. "  ")
            end
        end
        return "{\n" .. table.concat(parts, ",\n") .. "\n" .. ind .. "}"
    end
    return string.format("%q", tostring(v))
end

local function text_summary(C, W, warns)
    local o = {}
    local function p(...) o[#o + 1] = table.concat({ ... }) end
    local function s(v) return v == nil and "-" or tostring(v) end
    p("pools: ", #C.pools)
    for _, pl in ipairs(C.pools) do
        p("  ", s(pl.name or "(unnamed)"), ": ", #pl.backends, " backend(s), dist ", s(pl.dist), ", hash ", s(pl.hash),
          pl.filter and (", filter " .. s(pl.filter) .. " '" .. s(pl.filter_conf) .. "'") or "",
          pl.beprefix and (", beprefix '" .. s(pl.beprefix) .. "'") or "", pl.iothread and ", io thread" or "",
          pl.seed and (", seed '" .. s(pl.seed) .. "'") or "", pl.omode and (", omode " .. s(pl.omode)) or "",
          "  (", s(pl.at), ")")
        p("    backends: ", table.concat(pl.backends, ", "))
    end
    p("backends: ", #C.backends)
    for _, b in ipairs(C.backends) do
        local opts = {}
        for k, v in pairs(b.options or {}) do opts[#opts + 1] = k .. "=" .. s(v) end
        table.sort(opts)
        if b.log then
            opts[#opts + 1] = "log={" .. (b.log.rate and ("rate=" .. s(b.log.rate) .. " ") or "") ..
                (b.log.deadline and ("deadline=" .. s(b.log.deadline) .. " ") or "") ..
                (b.log.errors ~= nil and ("errors=" .. s(b.log.errors) .. " ") or "") ..
                (b.log.tag and ("tag=" .. s(b.log.tag)) or "") .. "}"
        end
        p("  ", s(b.label), " ", s(b.host), ":", s(b.port), #opts > 0 and ("  " .. table.concat(opts, " ")) or "", "  (", s(b.at), ")")
    end
    p("tunables and limits set: ", #C.tunables)
    for _, t in ipairs(C.tunables) do p("  ", t.name, " = ", s(t.value), "  (", s(t.at), ")") end
    p("crons: ", #C.crons)
    for _, c in ipairs(C.crons) do p("  ", s(c.name), " every ", s(c.every), "s", c.rerun == false and ", once" or "", "  (", s(c.at), ")") end
    p("stats: ", #C.stats)
    for _, c in ipairs(C.stats) do p("  ", s(c.id), " ", s(c.name), "  (", s(c.at), ")") end
    p("routes: ", #W.routes)
    for _, r in ipairs(W.routes) do p("  ", s(r.command), " -> ", s(r.handler), r.tag and (" [tag " .. s(r.tag) .. "]") or "", "  (", s(r.at), ")") end
    p("function generators: ", #W.funcgens)
    for _, g in ipairs(W.funcgens) do p("  ", s(g.name), ": handles to ", #g.handles > 0 and table.concat(g.handles, ", ") or "-", "  (", s(g.at), ")") end
    if #warns > 0 then
        p("warnings: ", #warns)
        for _, x in ipairs(warns) do p("  ", x) end
    end
    local errs = {}
    for _, e in ipairs(C.errors or {}) do errs[#errs + 1] = e end
    for _, e in ipairs(W.errors or {}) do errs[#errs + 1] = e end
    if #errs > 0 then
        p("errors: ", #errs)
        for _, e in ipairs(errs) do p("  ", e) end
    end
    return table.concat(o, "\n") .. "\n"
end

-- Known problems of the memcached that loads the config, which it loads
-- without an error. Each names the pool and the config line.
local function before(version, want) -- "1.6.38" before { 1, 6, 45 }?
    local v = {}
    for n in version:gmatch("%d+") do v[#v + 1] = tonumber(n) end
    if #v < 3 then return false end -- unknown: no warning
    for i = 1, 3 do
        if v[i] ~= want[i] then return v[i] < want[i] end
    end
    return false
end

local function warnings(C)
    local w = {}
    for _, pl in ipairs(C.pools) do
        -- proxy_ring_hash.c before 1.6.45 (fixed by upstream commit
        -- 9dcfdef76): the default omode writes every point into the first
        -- slot of the ring and leaves the rest uninitialised
        if pl.dist == "ring_hash" and (pl.omode == nil or pl.omode == "default") and before(MCVERSION, { 1, 6, 45 }) then
            w[#w + 1] = "pool " .. tostring(pl.name or "(unnamed)") .. ": mcp.dist_ring_hash in its default omode: " ..
                "memcached " .. MCVERSION .. " (before 1.6.45, unless patched with upstream commit 9dcfdef76) " ..
                "leaves most of the ring uninitialised, so keys land on arbitrary backends and a key can select " ..
                "none and crash a worker thread; set omode = \"ketama\" (or another omode)  (" .. tostring(pl.at) .. ")"
        end
    end
    return w
end

local function save_state()
    if VM == "config" then
        local f = io.open(state_file, "w")
        if f then f:write("return ", lua_lit(S)) f:close() end
        return
    end
    local chunk = loadfile(OUT .. "/config.lua")
    local C = chunk and chunk() or { backends = {}, pools = {}, tunables = {}, crons = {}, stats = {}, errors = {} }
    local W = S
    local cfg = {}
    for k, v in pairs(C) do if k ~= "errors" and k ~= "calls" then cfg[k] = v end end
    local errs = {}
    for _, x in ipairs(C.errors or {}) do errs[#errs + 1] = x end
    for _, x in ipairs(W.errors or {}) do errs[#errs + 1] = x end
    local warns = warnings(C)
    local all = { ok = #errs == 0, config = cfg, routes = W.routes, funcgens = W.funcgens, errors = errs,
                  warnings = warns }
    local f = io.open(OUT .. "/summary.json", "w")
    if f then f:write(json(all), "\n") f:close() end
    f = io.open(OUT .. "/summary.txt", "w")
    if f then f:write(text_summary(C, W, warns)) f:close() end
end

if VM == "config" then
    finish = function(res)
        local names = {}
        for _, v in ipairs(res) do
            if type(v) == "table" then walk_pools(v, nil, names, {}) elseif v ~= nil then names[v] = "(the pool)" end
        end
        for ud, name in pairs(names) do if pool_of[ud] then pool_of[ud].name = name end end
        save_state()
    end
else
    finish = function()
        S.pool_names = nil
        save_state()
        local f = io.open(OUT .. "/done", "w")
        if f then f:write("ok\n") f:close() end
    end
end

if ALL then
    -- --all: every mcp function behind a wrapper that records an error with
    -- the caller's position (the message memcached would print for it) and
    -- lets the config go on (the call returns nothing). The original is
    -- called through a table field of the same name, so Lua names it in
    -- messages as it would for the config's own call.
    local real = {}
    local function wrap(name, fn)
        real[name] = fn
        -- `real.NAME(...)` with NAME in the bytecode: Lua then names the
        -- function in its messages ('bad argument #1 to 'NAME'') as it does
        -- for the config's `mcp.NAME(...)`
        local call = load("local real = ... return function(...) return table.pack(real." .. name .. "(...)) end",
            SELF)(real)
        return function(...)
            local ok, r = pcall(call, ...)
            if ok then return table.unpack(r, 1, r.n) end
            r = { true, r }
            local msg = tostring(r[2])
            local i = getinfo(2, "Sl")
            local pos = (i and i.currentline and i.currentline > 0) and (i.short_src .. ":" .. i.currentline .. ": ") or ""
            -- a luaL_where prefix names this wrapper's line: the config's instead
            local own = getinfo(1, "S").short_src
            if msg:sub(1, #own + 1) == own .. ":" then
                msg = pos .. msg:gsub("^[^:]*:%d+: ", "")
            end
            -- the line memcached prints when this is the first error
            S.errors[#S.errors + 1] = (VM == "config" and "ERROR: Failed to execute mcp_config_pools: "
                or "Failed to execute mcp_config_routes: ") .. msg
            return nil
        end
    end
    local names = {}
    for k, v in pairs(mcp) do if type(v) == "function" then names[#names + 1] = k end end
    for _, k in ipairs(names) do mcp[k] = wrap(k, mcp[k]) end
    -- the hook must still see the originals: map them
    for _, k in ipairs(names) do
        if on_return[real[k]] == nil and on_return[mcp[k]] ~= nil then on_return[real[k]] = on_return[mcp[k]] end
    end
end

debug.sethook(hook, "cr")

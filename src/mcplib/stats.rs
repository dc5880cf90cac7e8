//! `mcp.server_stats` and its ADD_STAT consumers (proxy_lua.c:12-116).

use core::ffi::CStr;

use crate::ffi::lua::*;
use crate::host::ConfigVm;
use crate::host::stats::{self, ProxyStats, StatSink};
use crate::vm::{LResult, LuaError, Vm};

/// proxy_lua.c:16 `_mcplib_append_stats`: `t[key] = val` into the table at
/// the top of the stack.
struct AppendStats<'a>(&'a mut Vm);

impl StatSink for AppendStats<'_> {
    fn add(&mut self, key: &[u8], val: &[u8]) {
        self.0.push_bytes(key);
        self.0.push_bytes(val);
        self.0.rawset(-3);
    }
}

/// proxy_lua.c:33 `_mcplib_append_section_stats`: `items:N:stat` and
/// `N:stat` keys go into `t[N][stat]`, others into `t[key]`.
struct AppendSectionStats<'a>(&'a mut Vm);

impl StatSink for AppendSectionStats<'_> {
    fn add(&mut self, key: &[u8], val: &[u8]) {
        let vm = &mut *self.0;
        // the table must be at the top when this is called.
        let tidx = vm.absindex(-1);
        match section_key(key) {
            Some((section, stat)) => {
                // stats [items, slabs, conns]
                if vm.rawgeti(tidx, section) == LUA_TNIL {
                    vm.pop(1); // drop the nil
                    vm.newtable(); // the sub-section table
                    vm.push_value(-1);
                    vm.rawseti(tidx, section);
                }
                vm.push_bytes(stat);
                vm.push_bytes(val);
                vm.rawset(-3); // into the sub-table
                vm.pop(1); // the sub-table
            }
            None => {
                // a normal counter
                vm.push_bytes(key);
                vm.push_bytes(val);
                vm.rawset(tidx);
            }
        }
    }
}

/// C's `isspace` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `sscanf`'s `%ld`: leading white space, an optional sign, decimal digits
/// (saturating like strtol). Returns the value and the rest.
fn scan_ld(s: &[u8]) -> Option<(i64, &[u8])> {
    let mut i = s.iter().take_while(|&&c| is_space(c)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in &s[i..i + digits] {
        let d = (c - b'0') as i64;
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    Some((v, &s[i + digits..]))
}

/// `sscanf`'s `%s`: leading white space, then one or more non-space bytes.
fn scan_s(s: &[u8]) -> Option<&[u8]> {
    let i = s.iter().take_while(|&&c| is_space(c)).count();
    let n = s[i..].iter().take_while(|&&c| !is_space(c)).count();
    if n == 0 { None } else { Some(&s[i..i + n]) }
}

/// `sscanf(key, "items:%ld:%s", ...) == 2 || sscanf(key, "%ld:%s", ...) == 2`
/// (memcached's stat keys; up to the first NUL, as sscanf reads them).
pub fn section_key(key: &[u8]) -> Option<(lua_Integer, &[u8])> {
    fn scan(s: &[u8]) -> Option<(lua_Integer, &[u8])> {
        let (n, rest) = scan_ld(s)?;
        let stat = scan_s(rest.strip_prefix(b":")?)?;
        Some((n, stat))
    }
    let key = crate::vm::upto_nul(key);
    key.strip_prefix(b"items:").and_then(scan).or_else(|| scan(key))
}

/// proxy_lua.c:77 `mcplib_server_stats` (`mcp.server_stats([cmd])`).
///
/// Unlike upstream, the config VM's garbage collector is paused while the
/// stats are gathered: memcached calls our ADD_STAT callbacks with its locks
/// held (`process_proxy_stats` holds the proxy's `stats_lock`), and a GC
/// step in a callback's allocation can run `mcplib_backend_wrap_gc`, which
/// takes that same lock to count the backend down: a self-deadlock of the
/// config thread (found by the fuzzer; docs/RELIABILITY.md). Nothing else
/// changes: no Lua code runs in between, and the collector resumes after.
pub fn mcplib_server_stats(vm: &mut ConfigVm) -> LResult {
    let gc = vm.gc_pause();
    let r = server_stats(vm);
    vm.gc_resume(gc);
    r
}

fn server_stats(vm: &mut ConfigVm) -> LResult {
    let argc = vm.gettop();
    let ctx = vm.ctx();
    vm.newtable(); // the table to return.

    if argc == 0 || vm.is_nil(1) {
        stats::general(&mut AppendStats(vm));
        return Ok(1);
    }
    // The group name as C sees it; copied, since the callbacks push onto
    // the stack it lives on. No group name is this long: a longer one is
    // unknown, as get_stats would find.
    let mut name = [0u8; 64];
    let cmd = vm.check_cbytes(1)?;
    let known = cmd.len() < name.len();
    if known {
        name[..cmd.len()].copy_from_slice(cmd);
    }
    let cmd = CStr::from_bytes_until_nul(&name).unwrap_or(c"");
    let ok = match cmd.to_bytes() {
        _ if !known => false,
        b"settings" => {
            stats::settings_stats(&mut AppendStats(vm));
            true
        }
        b"conns" => {
            stats::conns(&mut AppendSectionStats(vm));
            true
        }
        #[cfg(mcp_extstore)]
        b"extstore" => {
            stats::extstore(&mut AppendStats(vm));
            true
        }
        b"proxy" => {
            stats::proxy(ctx, ProxyStats::Proxy, &mut AppendStats(vm));
            true
        }
        b"proxyfuncs" => {
            stats::proxy(ctx, ProxyStats::Funcs, &mut AppendStats(vm));
            true
        }
        b"proxybe" => {
            stats::proxy(ctx, ProxyStats::Backends, &mut AppendStats(vm));
            true
        }
        _ => stats::named(cmd, &mut AppendSectionStats(vm)),
    };
    if !ok {
        return Err(LuaError::Str(c"unknown subcommand passed to server_stats"));
    }
    Ok(1) // the table
}

//! mcp.server_stats (proxy_lua.c:12-116), against the stats stand-ins of
//! test-support/c/standins.c.

use super::*;

#[test]
fn plain_and_sectioned_stats() {
    let _g = serial();
    let vm = Vm::config();
    // no argument (or nil): server_stats + get_stats(NULL)
    for call in ["mcp.server_stats()", "mcp.server_stats(nil)"] {
        assert_eq!(
            vm.eval(&format!(
                "local t = {call} return t.pid .. ',' .. t.uptime .. ',' .. t.cmd_get"
            )),
            "42,7,3"
        );
        // the END marker (klen 0) adds nothing
        assert_eq!(
            vm.eval(&format!(
                "local n = 0 for k in pairs({call}) do n = n + 1 end return n"
            )),
            "3"
        );
    }
    assert_eq!(
        vm.eval("return mcp.server_stats('settings').maxbytes"),
        "67108864"
    );
    assert_eq!(
        vm.eval("local t = mcp.server_stats('conns') return t[17].state .. ' ' .. t[17].addr"),
        "conn_listening tcp:0"
    );
    assert_eq!(
        vm.eval("return mcp.server_stats('proxy').proxy_backend_total"),
        "0"
    );
    assert_eq!(
        vm.eval("return mcp.server_stats('proxyfuncs').funcgen_anonymous"),
        "1"
    );
    assert_eq!(
        vm.eval("return mcp.server_stats('proxybe')['bad_127.0.0.1:11211']"),
        "0"
    );
    if HAVE_EXTSTORE {
        assert_eq!(
            vm.eval("return mcp.server_stats('extstore').extstore_page_count"),
            "0"
        );
    }
    // items:N:stat and N:stat keys become t[N][stat]; others stay flat
    assert_eq!(
        vm.eval(
            "local t = mcp.server_stats('items') return t[1].number .. ',' .. t[1].age .. ',' .. t[12].number"
        ),
        "5,10,1"
    );
    assert_eq!(
        vm.eval("local t = mcp.server_stats('slabs') return t[1].chunk_size .. ',' .. t.active_slabs"),
        "96,1"
    );
    assert_eq!(
        vm.eval("return mcp.server_stats('sizes').sizes_status"),
        "disabled"
    );
    // values are strings
    assert_eq!(vm.eval("return type(mcp.server_stats().pid)"), "string");
}

#[test]
fn every_error_string() {
    let _g = serial();
    let vm = Vm::config();
    assert_eq!(
        vm.err("mcp.server_stats('bogus')"),
        "unknown subcommand passed to server_stats"
    );
    assert_eq!(
        vm.argerr("mcp.server_stats({})"),
        "bad argument #1 to 'server_stats' (string expected, got table)"
    );
}

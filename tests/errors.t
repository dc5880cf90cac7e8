#!/usr/bin/env perl
# proxy-lua-rs own test: the error strings of proxy_lua.c's functions,
# raised inside the real memcached-debug (config VM and worker VMs), plus
# mcp.server_stats on the real stats, mcp.time_*, and a cron that logs
# through the config thread's logger (mcp.log in the config VM).
# Run from the built memcached tree (cwd), like upstream's t/.
use strict;
use warnings;
use Test::More;
use lib "t/lib";
use MemcachedTest;
use FindBin qw($Bin);

my $b1 = new_memcached('-l 127.0.0.1', free_port());
my $p = new_memcached("-t 2 -o proxy_config=$Bin/configs/errors.lua,proxy_arg=b1_" . $b1->port . ($ENV{MCP_STOCK} ? ":stock" : ":t"));
my $ps = $p->sock;

my %want = (
    be_label => "backend must have a label argument",
    be_host => "backend must have a host argument",
    be_port => "backend must have a port argument",
    be_failurelimit => "failurelimit must be >= 0",
    be_depthlimit => "depthlimit must be >= 0",
    be_conns0 => "backend connections argument must be >= 0",
    be_conns9 => "backend connections argument must be <= 8",
    be_logtype => "backend log option must be a table",
    be_logdeadline => "backend log deadline must be >= 0",
    be_lograte => "backend log sample rate must be >= 0",
    be_labellen => "backend label too long",
    be_namelen => "backend name too long",
    be_portlen => "backend port too long",
    pool_filter => 'unknown hash filter specified: bogus\n',
    pool_filterconf => "hash filter requires 'filter_conf' string",
    pool_filterconf1 => "hash filter conf must be between 2 and 5 characters",
    pool_filterconf6 => "hash filter conf must be between 2 and 5 characters",
    pool_distnew => "key distribution object missing 'new' function",
    pool_nodist => "cannot create pool missing 'dist' argument",
    failure_limit => "backend_failure_limit must be >= 0",
    depth_limit => "backend_depth_limit must be >= 0",
    use_tls => "cannot set mcp.backend_use_tls: TLS support not compiled",
    init_tls => "cannot run mcp.init_tls: TLS support not compiled",
    cron_func => "proxy cron entry missing 'func' field",
    cron_every => "proxy cron entry missing 'every' field",
    cron_every0 => "proxy cron entry 'every' must be > 0",
    stats_bogus => "unknown subcommand passed to server_stats",
    stats_plain => "ok",
    stats_settings => "ok",
    stats_proxy => "ok",
    stats_slabs => "ok",
    stats_conns => "ok",
    stats_extstore => "ok",
    attach_func => "mcp.attach: must pass a function",
    attach_tag => "mcp.attach: tag must be 1 to 8 characters",
    time => "ok",
);
# Upstream C has no range check for mcp.attach's command (it writes outside
# the hook array); only check ours.
$want{attach_cmd} = "mcp.attach: invalid command" unless $ENV{MCP_STOCK};

for my $k (sort keys %want) {
    print $ps "mg err/$k v\r\n";
    is(scalar <$ps>, "RESULT $want{$k}\r\n", "$k");
}

# the cron runs every second on the config thread and logs through its logger
my $w = $p->new_sock;
print $w "watch proxyuser\n";
is(<$w>, "OK\r\n", "watcher enabled");
like(<$w>, qr/type=proxy_user msg=cron ran/, "cron ran and mcp.log (config VM) logged");

# a proxy_arg field without a name: a clean refusal (upstream: Lua PANIC, abort)
unless ($ENV{MCP_STOCK}) {
    my $exe = get_memcached_exe();
    my $user = $< == 0 ? "-u root" : "";
    my $out = `$exe $user -p 0 -U 0 -o proxy_config=$Bin/configs/errors.lua,proxy_arg=a:___ 2>&1`;
    is($? >> 8, 1, "proxy_arg with a nameless field: exit status 1");
    like($out, qr/^ERROR: proxy_arg: a ':'-separated field has no name/m, "and a clear message");
}

done_testing();

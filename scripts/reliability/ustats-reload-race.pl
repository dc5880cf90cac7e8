#!/usr/bin/perl
# Upstream proxyustats.t's "reload not started" assertions, as a measurement:
#   scripts/reliability/ustats-reload-race.pl TREE [N [PORT]]
# N times (default 20): TREE's memcached-debug started on t/proxyustats.lua
# with a `watch proxyevents` watcher, then a config whose mcp_config_pools
# raises in mcp.add_stat (C code, proxy_ustats.c) and SIGHUP. memcached logs
# "status=start", runs the config and exits (proxy_config.c); the test expects
# the watcher to see nothing, which holds only when the process exits before
# the logger thread (asleep up to 1 s when idle, logger.c) passes the line on.
# Prints how often the watcher saw it, for comparing our build with stock C
# (`make ustats-race`; docs/debian.md). Uses /tmp/proxyustats.lua, as the
# upstream test does: not beside a run of it.
use strict; use warnings;
use IO::Socket::INET; use Time::HiRes qw(time sleep); use POSIX ":sys_wait_h";
my ($tree, $n, $port) = @ARGV;
die "usage: $0 TREE [N [PORT]]\n" unless $tree && -x "$tree/memcached-debug";
$n ||= 20; $port ||= 11999;
die "port $port is already in use\n" if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
my $cfg = "/tmp/proxyustats.lua";
my ($seen, @h) = (0);
for (1..$n) {
    open(my $fh, ">", $cfg) or die; print $fh 'return "a 1 0"'; close $fh;
    my $pid = fork();
    if (!$pid) {
        chdir $tree; open(STDERR, ">", "/dev/null"); open(STDOUT, ">", "/dev/null");
        exec("./memcached-debug", "-o", "proxy_config=./t/proxyustats.lua", "-t", "1",
             "-u", "root", "-p", $port, "-U", "0", "-l", "127.0.0.1") or die;
    }
    my $w;
    for (1..3000) {
        $w = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") and last;
        die "memcached-debug exited at start\n" if waitpid($pid, WNOHANG) > 0;
        sleep 0.01;
    }
    die "memcached-debug did not listen on $port\n" unless $w;
    print $w "watch proxyevents\n";
    my $ok = <$w>; die "watch: $ok" unless $ok eq "OK\r\n";
    open($fh, ">", $cfg) or die; print $fh 'return "a 0 0"'; close $fh;
    my $t0 = time;
    kill 'HUP', $pid;
    waitpid($pid, 0);
    my $t1 = time;
    push @h, ($t1 - $t0) * 1000;
    my $line = <$w> // "";
    $seen++ if $line =~ /status=start/;
    close $w;
}
@h = sort { $a <=> $b } @h;
printf "%s: n=%d, SIGHUP to exit median %.0f ms (the reload waits for the 1 s clock); watcher saw status=start %d times\n",
    $tree, $n, $h[@h / 2], $seen;

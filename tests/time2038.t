#!/usr/bin/env perl
# proxy-lua-rs own test: mcp.time_real_millis and mcp.time_mono_millis past
# 2^31 seconds (the year-2038 boundary of a 32-bit time_t): memcached runs
# with tests/support/fakeclock.c preloaded, which moves every clock_gettime
# forward by 2^31 s. Where memcached's time_t is 64-bit (every 64-bit
# architecture, and Debian's armhf/armel with -D_TIME_BITS=64) both clocks
# must read past 2^31 s: it fails if the library read the clock through a
# 32-bit time_t entry point that memcached's flags do not select. Where
# memcached's own time_t is 32-bit (i386) no such time exists for it, and
# the test says so instead of running.
use strict;
use warnings;
use Test::More;
use Config;
use Time::HiRes qw(time);
use lib "t/lib";
use MemcachedTest;
use FindBin qw($Bin);

# memcached's time_t: 64-bit on 64-bit targets; on a 32-bit one, only when
# the binary binds the 64-bit clock (glibc's __clock_gettime64).
my $t64 = $Config{ptrsize} == 8;
if (!$t64) {
    my $real = readlink("./memcached-debug") // "./memcached-debug";
    # the conformance harness's production wrapper names the binary it runs
    if (open(my $fh, '<', "./memcached-debug")) {
        local $/; my $txt = <$fh>; close $fh;
        $real = $1 if $txt =~ /^exec "([^"]+)"/m;
    }
    $t64 = (`nm -D "$real" 2>/dev/null` =~ /__clock_gettime64/) ? 1 : 0;
}
plan skip_all => "memcached's time_t is 32-bit in this build: no time past 2^31 s exists for it" if !$t64;

my $so = "/tmp/mcp-fakeclock-$$.so";
system("cc -shared -fPIC -O2 -o $so $Bin/support/fakeclock.c -ldl") == 0 or die "cannot build $so";
my $off = 2**31;
$ENV{MCP_FAKECLOCK_OFFSET} = $off;
$ENV{LD_PRELOAD} = $so;
my $p = new_memcached("-t 1 -o proxy_config=$Bin/configs/time.lua");
delete $ENV{LD_PRELOAD};
my $ps = $p->sock;
my $before = int((time() + $off) * 1000);
print $ps "mg anything v\r\n";
my $l = <$ps>;
my $after = int((time() + $off) * 1000);
like($l, qr/^HD real=(\d+) mono=(\d+)\r\n$/, "time functions answer");
my ($real, $mono) = $l =~ /real=(\d+) mono=(\d+)/;
cmp_ok($real, '>', 2**31 * 1000, "real milliseconds past 2^31 seconds");
cmp_ok($real, '>=', $before - 1000, "real clock = the (moved) wall clock, not behind");
cmp_ok($real, '<=', $after + 1000, "real clock = the (moved) wall clock, not ahead");
cmp_ok($mono, '>', 2**31 * 1000, "monotonic milliseconds past 2^31 seconds");
print $ps "mg again v\r\n";
my ($real2, $mono2) = (<$ps> =~ /real=(\d+) mono=(\d+)/);
cmp_ok($mono2, '>=', $mono, "monotonic clock does not go back");
unlink $so;
done_testing();

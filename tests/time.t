#!/usr/bin/env perl
# proxy-lua-rs own test: mcp.time_real_millis and mcp.time_mono_millis in a
# worker VM. The real clock in milliseconds is past 2^32 (and past 2^31
# seconds * 1000): computed in 64 bits even where time_t is 32-bit (i386),
# as upstream does since 1.6.45 (1.6.38's C overflowed there).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use lib "t/lib";
use MemcachedTest;
use FindBin qw($Bin);

my $p = new_memcached("-t 1 -o proxy_config=$Bin/configs/time.lua");
my $ps = $p->sock;
my $before = int(time() * 1000);
print $ps "mg anything v\r\n";
my $l = <$ps>;
my $after = int(time() * 1000);
like($l, qr/^HD real=(\d+) mono=(\d+)\r\n$/, "time functions answer");
my ($real, $mono) = $l =~ /real=(\d+) mono=(\d+)/;
cmp_ok($real, '>', 4294967296, "real milliseconds past 2^32 (no 32-bit overflow)");
cmp_ok($real, '>=', $before - 1000, "real clock not behind the wall clock");
cmp_ok($real, '<=', $after + 1000, "real clock not ahead of the wall clock");
cmp_ok($mono, '>', 0, "monotonic milliseconds positive");
print $ps "mg again v\r\n";
my ($real2, $mono2) = (<$ps> =~ /real=(\d+) mono=(\d+)/);
cmp_ok($mono2, '>=', $mono, "monotonic clock does not go back");
done_testing();

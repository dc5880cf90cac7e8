#!/usr/bin/env perl
# proxy-lua-rs own test: mcp.pool with every option through the real
# memcached-debug (4 worker threads, two real backend memcached instances):
# routing round trips, where keys land (filters, seed, dist), backend
# reuse by the per-config cache (backend_total) and across a reload.
# Run from the built memcached tree (cwd), like upstream's t/.
use strict;
use warnings;
use Test::More;
use lib "t/lib";
use MemcachedTest;
use FindBin qw($Bin);

my $b1 = new_memcached('-l 127.0.0.1', free_port());
my $b2 = new_memcached('-l 127.0.0.1', free_port());
my ($p1, $p2) = ($b1->port, $b2->port);
my $p = new_memcached("-t 4 -o proxy_config=$Bin/configs/pools.lua,proxy_arg=b1_$p1:b2_$p2");
my $ps = $p->sock;

sub where {
    my $key = shift;
    my @on;
    for my $b ([$b1, 'b1'], [$b2, 'b2']) {
        my $s = $b->[0]->sock;
        print $s "mg $key v\r\n";
        my $l = <$s>;
        if ($l =~ /^VA/) { <$s>; push @on, $b->[1]; }
    }
    return join(',', @on);
}

sub set_get {
    my ($s, $key, $val) = @_;
    print $s "set $key 0 0 " . length($val) . "\r\n$val\r\n";
    my $r = <$s>;
    return "set: $r" if $r ne "STORED\r\n";
    print $s "get $key\r\n";
    my $v = <$s>;
    my $d = <$s>;
    my $e = <$s>;
    return $d;
}

# round trips over several connections (different worker threads)
for my $pool (qw(plain io stop tags ring conns pfx)) {
    my $ok = 1;
    for my $c (1 .. 4) {
        my $s = $p->new_sock;
        for my $i (1 .. 10) {
            my $key = "$pool/k$c-$i";
            my $got = set_get($s, $key, "v$i");
            $ok = 0 if !defined $got || $got ne "v$i\r\n";
            $ok = 0 if where($key) !~ /^b[12]$/;
        }
    }
    ok($ok, "pool '$pool': set/get through the proxy, each key on exactly one backend");
}

# both backends get keys
my %seen;
$seen{ where("plain/k1-$_") }++ for 1 .. 10;
ok($seen{b1} && $seen{b2}, "plain pool spreads keys over both backends");

# stop filter: only the part before |#| is hashed
my %grp;
for my $i (1 .. 12) {
    my $key = "stop/grp" . ($i % 3) . "|#|rest$i";
    set_get($ps, $key, "x");
    $grp{$i % 3}{ where($key) }++;
}
is(scalar(keys %{$grp{$_}}), 1, "stop filter: group $_ lands on one backend") for 0 .. 2;

# tags filter: only what is between { and } is hashed
my %tg;
for my $i (1 .. 12) {
    my $key = "tags/a$i\{t" . ($i % 3) . "}b$i";
    set_get($ps, $key, "x");
    $tg{$i % 3}{ where($key) }++;
}
is(scalar(keys %{$tg{$_}}), 1, "tags filter: tag $_ lands on one backend") for 0 .. 2;

sub backend_total {
    print $ps "stats\r\n";
    my $n;
    while (my $l = <$ps>) {
        last if $l =~ /^END/;
        $n = $1 if $l =~ /^STAT proxy_backend_total (\d+)/;
    }
    return $n;
}
# 4 workers x (b1, b2) shared by plain/stop/tags/ring, 2 io-thread backends,
# 4 x (c1, c2), 4 x prefixed (b1, b2).
is(backend_total(), 8 + 2 + 8 + 8, "backend_total: per-worker backends, shared through the cache");

# reload the same config: every backend is reused from the cache, the old
# pools are collected, the total is unchanged.
$p->reload();
sleep 2;
is(backend_total(), 26, "backend_total unchanged after a reload with the same config");
is(set_get($ps, "plain/after-reload", "r"), "r\r\n", "routing works after the reload");

done_testing();

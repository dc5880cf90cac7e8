#!/usr/bin/env perl
# proxy-lua-rs own test: request logging through memcached's logger in the
# real memcached-debug: automatic backend logging (mcplib_rqu_log) with
# rate=1 and errors-only options and their tags, mcp.log_req and
# mcp.log_reqsample, read back with `watch proxyreqs`.
use strict;
use warnings;
use Test::More;
use lib "t/lib";
use MemcachedTest;
use FindBin qw($Bin);

my $b1 = new_memcached('-l 127.0.0.1', free_port());
my $dead = free_port(); # nothing listens there
my $p = new_memcached("-t 1 -o proxy_config=$Bin/configs/logging.lua,proxy_arg=b1_" . $b1->port . ":dead_$dead");
my $ps = $p->sock;
my $w = $p->new_sock;
print $w "watch proxyreqs\n";
is(<$w>, "OK\r\n", "watcher enabled");
my $be = "127.0.0.1:" . $b1->port;

print $ps "mg always/a v\r\n";
is(scalar <$ps>, "EN\r\n", "miss through the 'always' backend");
like(<$w>, qr/type=proxy_req elapsed=\d+ type=\d+ code=\d+ status=0 res=\w+ cfd=\d+ be=\Q$be\E detail=ratetag req=mg always\/a v/,
     "rate=1 backend logs every request with its tag");

print $ps "mg quiet/a v\r\n";
is(scalar <$ps>, "EN\r\n", "miss through the 'quiet' backend (no log options)");

print $ps "mg errors/a v\r\n";
like(scalar <$ps>, qr/^SERVER_ERROR/, "the dead backend fails");
like(<$w>, qr/type=proxy_req .* status=-?[1-9]\d* res=\w+ cfd=\d+ be=127\.0\.0\.1:$dead detail=errtag req=mg errors\/a v/,
     "errors-only backend logs the failure with its tag (and nothing for the quiet one before it)");

print $ps "mg req/a v\r\n";
is(scalar <$ps>, "EN\r\n", "log_req route");
like(<$w>, qr/type=proxy_req .* status=0 res=ok cfd=77 be=\Q$be\E detail=logreq detail req=mg req\/a v/, "mcp.log_req entry");

print $ps "mg sample/a v\r\n";
is(scalar <$ps>, "EN\r\n", "log_reqsample route");
like(<$w>, qr/detail=sampled req=mg sample\/a v/, "mcp.log_reqsample with rate 1 logged");
print $ps "mg always/b v\r\n";
is(scalar <$ps>, "EN\r\n", "one more request");
like(<$w>, qr/detail=ratetag req=mg always\/b v/, "next entry is the next request: the rate 0 sample logged nothing");

done_testing();

# proxy-lua-rs: top-level entry points (see README.md).
#
#   make run     build memcached with proxy-lua-rs, run it as a proxy on the
#                example config, print a set/get round trip, serve until
#                interrupted (make run ONESHOT=1: exit after the round trip)
#   make test    every test: link checks, header check, cargo tests and C
#                tests (both layouts), layout-mismatch test, our own tests/
#                and upstream's t/proxy*.t on memcached-debug and memcached,
#                then the sanitizer run (make test-asan)
#   make test-asan  memcached's C built with -fsanitize=address,undefined,
#                the whole proxy suite against it
#   make test-system-lua  the Debian linkage (system liblua5.4): build, link
#                checks, proxy suite on both binaries
#   make lint    cargo fmt --check, cargo clippy -D warnings
#   make tree    only build build/memcached-1.6.45/
#   make header  regenerate include/proxy_lua_rs.h

SHELL := /bin/bash
export PATH := $(PATH):$(HOME)/.cargo/bin
# a version the user gave (environment or command line), before the default:
# test-arch takes its suite's own release (trixie 1.6.38) unless one is given
MCP_GIVEN_VERSION := $(MEMCACHED_VERSION)
MEMCACHED_VERSION ?= 1.6.45
export MEMCACHED_VERSION
TREE := build/memcached-$(MEMCACHED_VERSION)
LAYOUTS := memcached-debug memcached

.PHONY: all tree run test ustats-race check-link cargo-test c-tests check-header header \
        lint unsafe-report check-no-drop layout-mismatch own-tests conformance conformance-debug conformance-prod \
        test-asan test-system-lua test-reliability fuzz test-soak test-faults test-gc-race test-alloc-fail test-i386 test-arch test-versions drift-table check-tool test-check \
        bench deb deb-check fuzz-keys clean

all: tree

# Every entry point first checks (as root: installs) what it needs.
tree:
	@scripts/build/prereqs.sh run
	scripts/build/build-tree.sh

run:
	@scripts/build/prereqs.sh run
	scripts/build/build-tree.sh
	scripts/build/run-example.sh

test:
	@scripts/build/prereqs.sh test
	scripts/build/build-tree.sh
	$(MAKE) --no-print-directory check-link
	$(MAKE) --no-print-directory check-header
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unsafe-report
	$(MAKE) --no-print-directory check-no-drop
	$(MAKE) --no-print-directory cargo-test
	$(MAKE) --no-print-directory c-tests
	$(MAKE) --no-print-directory layout-mismatch
	scripts/checks/test-drift.sh
	$(MAKE) --no-print-directory own-tests
	$(MAKE) --no-print-directory conformance
	$(MAKE) --no-print-directory test-check
	scripts/tests/test-fetch.sh
	scripts/tests/test-stall-guard.sh
	scripts/tests/test-conformance-status.sh
	$(MAKE) --no-print-directory test-reliability
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-system-lua
	@echo "make test: all tests passed (memcached $(MEMCACHED_VERSION))"

check-link:
	scripts/checks/check-link.sh

# How much of the crate is inside `unsafe` blocks, per module (targets:
# crate <= 15%, src/mcplib <= 5% and no unsafe fn; every block documented).
unsafe-report:
	@scripts/checks/unsafe-report.py

# No type the library handles has drop glue (what makes Lua's longjmp over
# our frames sound); with a control that must be detected.
check-no-drop:
	scripts/checks/check-no-drop.sh

# cargo test once per layout (the build script measures the structs with the
# flags of that binary), each in its own target dir.
cargo-test:
	@set -e; for l in $(LAYOUTS); do \
	  echo "== cargo test ($$l layout)"; \
	  eval "$$(scripts/build/tree-env.sh $$l)"; \
	  cargo test --locked --target-dir target/test-$$l; \
	done

c-tests:
	@set -e; for l in $(LAYOUTS); do echo "== c-tests ($$l layout)"; c-tests/run.sh $$l; done

# rustfmt and clippy (warnings are errors), with the debug layout's flags.
lint:
	cargo fmt --check
	@eval "$$(scripts/build/tree-env.sh memcached-debug)"; \
	  cargo clippy --locked --target-dir target/test-memcached-debug --all-targets -- -D warnings

header:
	cargo run --locked -q --manifest-path tools/gen-header/Cargo.toml --target-dir target/gen-header -- . include/proxy_lua_rs.h

check-header:
	@mkdir -p target
	cargo run --locked -q --manifest-path tools/gen-header/Cargo.toml --target-dir target/gen-header -- . target/proxy_lua_rs.h.new
	@if ! diff -u include/proxy_lua_rs.h target/proxy_lua_rs.h.new; then \
	  echo "check-header: include/proxy_lua_rs.h is stale: run 'make header' and commit it" >&2; exit 1; fi
	@echo "check-header: include/proxy_lua_rs.h is up to date"
	@head -3 Cargo.lock | grep -q '^version = 3$$' || { echo "check-header: Cargo.lock must be lockfile version 3" >&2; exit 1; }

layout-mismatch:
	scripts/checks/test-lua-api-mismatch.sh memcached-debug
	scripts/checks/test-layout-mismatch.sh memcached-debug

own-tests:
	scripts/tests/own-tests.sh memcached-debug
	scripts/tests/own-tests.sh memcached

conformance: conformance-debug conformance-prod

conformance-debug:
	scripts/tests/conformance.sh memcached-debug

conformance-prod:
	scripts/tests/conformance.sh memcached

test-asan:
	scripts/tests/test-asan.sh

# Reliability (docs/RELIABILITY.md). The short versions run in make test;
# the full ones are targets of their own.
STOCK_TREE := build/stock/memcached-$(MEMCACHED_VERSION)
test-reliability:
	MCP_STOCK=1 scripts/build/build-tree.sh
	scripts/reliability/test-gc-race.sh 10
	python3 scripts/reliability/fuzz.py --ours $(TREE)/memcached --stock $(STOCK_TREE)/memcached --seeds 5 --calls 4000
	python3 scripts/reliability/fuzz.py --safe --ours $(TREE)/memcached --stock $(STOCK_TREE)/memcached --seeds 3 --calls 4000 --out /tmp/mcpfuzzsafe
	python3 scripts/reliability/soak.py --bin $(TREE)/memcached --reloads 50 --warmup 30
	python3 scripts/reliability/fault-storm.py --tree $(TREE) --bin stock=$(STOCK_TREE)/memcached --bin ours=$(TREE)/memcached --duration 12
	scripts/reliability/fuzz-keys.sh $(TREE) --short --if-behaviour-tree
	scripts/tests/test-routing.sh $(TREE) $(STOCK_TREE) 100
	python3 scripts/reliability/reload-failures.py --bin ours=$(TREE)/memcached --bin ours-debug=$(TREE)/memcached-debug \
	  --bin stock=$(STOCK_TREE)/memcached --check-doc docs/config-check.md
	scripts/reliability/test-alloc-fail.sh 25 $(TREE)
	MEMCHECK=1 scripts/reliability/test-alloc-fail.sh 60 $(TREE)
	python3 scripts/reliability/alloc-sequence.py --ours $(TREE)/memcached --stock $(STOCK_TREE)/memcached
	python3 scripts/reliability/alloc-sequence.py --ours $(TREE)/memcached-debug --stock $(STOCK_TREE)/memcached-debug

# >= 1,000,000 calls against the stock C build; then without the calls known
# to crash the stock build, so that every outcome is compared; then on the
# ASan build.
fuzz:
	@scripts/build/prereqs.sh fuzz
	scripts/build/build-tree.sh
	MCP_STOCK=1 scripts/build/build-tree.sh
	python3 scripts/reliability/fuzz.py --ours $(TREE)/memcached --stock $(STOCK_TREE)/memcached --seeds 125 --calls 8000
	python3 scripts/reliability/fuzz.py --safe --ours $(TREE)/memcached --stock $(STOCK_TREE)/memcached --seeds 50 --calls 8000 \
	  --out /tmp/mcpfuzzsafe
	scripts/tests/test-asan.sh --build-only
	python3 scripts/reliability/fuzz.py --asan --ours build/asan/memcached-$(MEMCACHED_VERSION)/memcached-debug \
	  --stock $(STOCK_TREE)/memcached-debug --seeds 25 --calls 8000

# Untrusted keys (docs/RELIABILITY.md, "Key routing"): the routing helper
# against upstream's proxy_lua.c in one process (scripts/reliability/fuzz-keys.sh:
# 100 M seeded keys, 5 M on ASan+UBSan, libFuzzer with coverage from our
# Rust for 10 minutes, the debug layout, coverage of our routing code),
# then 1,000,000 keys through real proxies, ours beside stock C.
fuzz-keys:
	@scripts/build/prereqs.sh test
	scripts/build/build-tree.sh
	MCP_STOCK=1 scripts/build/build-tree.sh
	scripts/reliability/fuzz-keys.sh $(TREE) --keys 100000000 --asan-keys 5000000 --sancov --fuzz 600 --merge
	scripts/reliability/fuzz-keys.sh $(TREE) --layout memcached-debug --keys 20000000 --asan-keys 1000000
	scripts/reliability/fuzz-keys.sh $(TREE) --keys 0 --asan-keys 0 --coverage
	scripts/tests/test-routing.sh $(TREE) $(STOCK_TREE) 4630

# 1,000 reloads under load, ours then the stock C build.
test-soak:
	scripts/build/build-tree.sh
	MCP_STOCK=1 scripts/build/build-tree.sh
	python3 scripts/reliability/soak.py --bin $(TREE)/memcached --reloads 1000
	-python3 scripts/reliability/soak.py --bin $(STOCK_TREE)/memcached --reloads 1000

# Backend faults under load (scripts/reliability/fault-storm.py, docs/RELIABILITY.md):
# reloads every 0.3 s, backends stopped, killed, slowed, connections
# dropped, all at once; the same storm on stock C first (the reference).
# Production, debug and ASan builds. make test runs a 12 s storm.
FAULT_SECONDS ?= 120
test-faults:
	scripts/build/build-tree.sh
	MCP_STOCK=1 scripts/build/build-tree.sh
	scripts/tests/test-asan.sh --build-only
	@mkdir -p build/faults
	python3 scripts/reliability/fault-storm.py --tree $(TREE) --duration $(FAULT_SECONDS) --check-rss --json build/faults/prod.json \
	  --bin stock=$(STOCK_TREE)/memcached --bin ours=$(TREE)/memcached
	python3 scripts/reliability/fault-storm.py --tree $(TREE) --duration $(FAULT_SECONDS) --check-rss --json build/faults/debug.json \
	  --bin stock-debug=$(STOCK_TREE)/memcached-debug --bin ours-debug=$(TREE)/memcached-debug
	python3 scripts/reliability/fault-storm.py --tree $(TREE) --duration $(FAULT_SECONDS) --json build/faults/asan.json \
	  --sanitizer-logs build/faults/sanitizers \
	  --bin stock-debug=$(STOCK_TREE)/memcached-debug \
	  --bin ours-asan=build/asan/memcached-$(MEMCACHED_VERSION)/memcached-debug

# 100 starts of each backend-release-race reproduction on our production,
# debug and ASan builds (and the stock C build, for comparison).
test-gc-race:
	scripts/tests/test-asan.sh --build-only
	MCP_STOCK=1 scripts/build/build-tree.sh
	MCP_GC_RACE_STOCK=$(STOCK_TREE) scripts/reliability/test-gc-race.sh 100 $(TREE)/memcached $(TREE)/memcached-debug \
	  build/asan/memcached-$(MEMCACHED_VERSION)/memcached-debug

# Upstream proxyustats.t's "reload not started" race measured on both builds
# (scripts/reliability/ustats-reload-race.pl; docs/debian.md): a measurement,
# not a test.
ustats-race:
	scripts/build/build-tree.sh
	MCP_STOCK=1 scripts/build/build-tree.sh
	scripts/reliability/ustats-reload-race.pl $(STOCK_TREE) 20
	scripts/reliability/ustats-reload-race.pl $(TREE) 20

# proxy-lua-check (docs/config-check.md): build its shim; exactness tests.
check-tool:
	cc -shared -fPIC -O2 -o tools/proxy-lua-check/noconnect.so tools/proxy-lua-check/noconnect.c

test-check: check-tool
	scripts/tests/test-check.sh

# The whole make test in a Debian i386 chroot (32-bit time_t).
test-i386:
	scripts/tests/test-i386.sh

# Another Debian architecture under qemu-user (docs/debian.md,
# "Architectures"): ours and stock C built in a chroot of SUITE for ARCH,
# upstream's proxy tests on both binaries of both builds, our tests, the
# cargo tests, the routing probe against this machine's. Hours per
# architecture under emulation: not part of make test or CI.
ARCH ?=
test-arch:
	@[ -n "$(ARCH)" ] || { echo "make test-arch: say which architecture, e.g. make test-arch ARCH=armhf SUITE=sid" >&2; exit 2; }
	@scripts/build/prereqs.sh arch
	MEMCACHED_VERSION=$(MCP_GIVEN_VERSION) scripts/tests/test-arch.sh $(ARCH) $(SUITE)

# Every upstream release in DIR (memcached-VERSION.tar.*) plus Debian's
# two: ours and stock C, each version's own t/proxy*.t on both binaries of
# both builds, one table (docs/debian.md, "Upstream releases"). About
# 8 minutes per release on 2 cores: not in CI (make test runs the drift
# guard's test instead).
test-versions:
	@[ -n "$(DIR)" ] || { echo "make test-versions: DIR=directory of memcached-VERSION.tar.* tarballs" >&2; exit 2; }
	@scripts/build/prereqs.sh test
	scripts/tests/test-versions.sh $(DIR)

# The drift guard's table (build-support/proxy_lua_releases.txt): per C
# function of proxy_lua.c, its normalised hash in every checked release.
# DIR holds upstream tarballs (memcached-VERSION.tar.*); Debian's two come
# from the cache. BEHAVIOUR: the release the library's code follows.
BEHAVIOUR ?= 1.6.45
drift-table:
	@[ -n "$(DIR)" ] || { echo "make drift-table: DIR=directory of memcached-VERSION.tar.* tarballs" >&2; exit 2; }
	MEMCACHED_VERSION=1.6.45 scripts/build/fetch-memcached.sh
	MEMCACHED_VERSION=1.6.38 scripts/build/fetch-memcached.sh
	cargo build -q --release --manifest-path tools/drift-table/Cargo.toml --target-dir target/drift-table
	target/drift-table/release/drift-table $(BEHAVIOUR) build-support/proxy_lua_releases.txt \
	  $(wildcard $(DIR)/memcached-*.tar.*) $(HOME)/.cache/mcp-rs/memcached_1.6.45.orig.tar.xz \
	  $(HOME)/.cache/mcp-rs/memcached_1.6.38.orig.tar.xz

# Allocation failures: every N over a config load and over requests; then
# every 5th N under valgrind memcheck (no leak, no invalid access after a
# failure).
test-alloc-fail:
	MCP_STOCK=1 scripts/build/build-tree.sh
	scripts/reliability/test-alloc-fail.sh 1 $(TREE) $(STOCK_TREE)
	MEMCHECK=1 scripts/reliability/test-alloc-fail.sh 5 $(TREE) $(STOCK_TREE)

# Debian links the system liblua5.4 only in sid's 1.6.45-1 (its
# 0006-Don-t-use-embedded-Lua.patch); trixie's 1.6.38-1 uses the bundled Lua,
# which every other target tests.
test-system-lua:
	@if [ "$(MEMCACHED_VERSION)" = 1.6.45 ]; then scripts/tests/test-system-lua.sh; \
	else echo "test-system-lua: not a configuration of memcached $(MEMCACHED_VERSION) (Debian links the system Lua only in 1.6.45-1)"; fi

# Benchmark (not a test): proxy-lua-rs beside the stock C build of the same
# tarball and flags (build/stock/); updates docs/BENCHMARKS.md and
# docs/benchmarks.png. BENCH_QUICK=1 for a short run.
bench:
	@scripts/build/prereqs.sh bench
	scripts/build/build-tree.sh
	MCP_STOCK=1 scripts/build/build-tree.sh
	python3 bench/run.py --ours $(TREE) --stock build/stock/memcached-$(MEMCACHED_VERSION) \
	  --docs docs/BENCHMARKS.md $(if $(BENCH_QUICK),--quick,)

# Debian packages (SUITE=sid: memcached 1.6.45-1, SUITE=trixie: 1.6.38-1)
# built in a clean chroot with the network unshared; docs/debian.md.
# ARCH=armhf|arm64|s390x|...: natively in an emulated chroot of that
# architecture (hours; not in CI).
SUITE ?= sid
deb:
	@scripts/build/prereqs.sh deb
	scripts/packaging/deb-build.sh $(SUITE) $(ARCH)

# Installs them in a fresh chroot and proxies a round trip; the control
# (Debian's stock package must fail the proxy-lua-rs check) runs too.
deb-check:
	@scripts/build/prereqs.sh deb
	scripts/packaging/deb-check.sh $(SUITE) $(ARCH)
	MCP_DEB_CHECK_STOCK=1 scripts/packaging/deb-check.sh $(SUITE) $(ARCH)

clean:
	rm -rf build target

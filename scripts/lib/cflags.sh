# Sourced by C test builds (c-tests/run.sh, scripts/reliability/fuzz-keys.sh):
# FLAGS=(memcached's compile flags for the layout scripts/build/tree-env.sh
# set up, with absolute include paths and without the coverage flags, which
# change no layout). Needs MCP_PROBE_CFLAGS, TREE and SRC.
FLAGS=()
for fl in $MCP_PROBE_CFLAGS; do
  case "$fl" in
    -fprofile-arcs|-ftest-coverage) ;;
    -I/*) FLAGS+=("$fl") ;;
    -I*) FLAGS+=("-I$TREE/${fl#-I}") ;;
    *) FLAGS+=("$fl") ;;
  esac
done
FLAGS+=("-I$SRC" "-I$SRC/vendor/lua/src")

#!/bin/sh
# Run by memcached's make on each proxy-lua-rs archive it has cargo build:
#   libgcc-helpers.sh ARCHIVE CC NM AR
#
# Rust's compiler-builtins puts the compiler's helper routines into the
# archive (__aeabi_uidiv on 32-bit ARM, __absvdi2, ...), as strong symbols.
# libgcc has the same ones, and a link that pulls an object from each with
# an overlapping set of symbols fails with "multiple definition" (seen on
# armhf, depending on link order). An archive member whose every defined
# symbol is such a helper that this compiler's libgcc also defines is
# removed: the library then uses libgcc's, as memcached's C code does, and
# no link order can pull both. Members with anything else, or whose name
# the archive holds twice, stay. The archive is only rewritten when there is
# something to remove (an up-to-date archive is not touched: no relink).
set -eu
a=$1 cc=$2 nm=$3 ar=$4
libgcc=$($cc -print-libgcc-file-name 2>/dev/null || true)
[ -n "$libgcc" ] && [ -f "$libgcc" ] || exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$nm -g --defined-only "$libgcc" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/libgcc"
$ar t "$a" 2>/dev/null | sort | uniq -d > "$tmp/dups"
# "archive:member: value type name" for every defined global
$nm -A -g --defined-only "$a" 2>/dev/null | awk -v dups="$tmp/dups" '
  BEGIN { while ((getline d < dups) > 0) dup[d] = 1 }
  NF == 3 {
    n = split($1, p, ":"); m = p[n - 1]
    if (m in dup) next
    seen[m] = 1
    if ($3 !~ /^__/) keep[m] = 1
    else syms[m] = syms[m] " " $3
  }
  END { for (m in seen) if (!(m in keep)) print m "\t" syms[m] }' > "$tmp/cands"
# one pass (a process per symbol costs seconds each under qemu-user)
drop=$(awk -F '\t' -v lib="$tmp/libgcc" '
  BEGIN { while ((getline l < lib) > 0) have[l] = 1 }
  { n = split($2, s, " "); ok = 1
    for (i = 1; i <= n; i++) if (!(s[i] in have)) { ok = 0; break }
    if (ok) printf " %s", $1 }' "$tmp/cands")
[ -n "$drop" ] || exit 0
# shellcheck disable=SC2086
$ar d "$a" $drop 2>&1 | grep -v '^bfd plugin: ' >&2 || true
# the members must be gone (ar prints nothing useful on failure above)
$ar t "$a" 2>/dev/null > "$tmp/left" || true
# shellcheck disable=SC2086
left=$(printf '%s\n' $drop | grep -Fx -f "$tmp/left" || true)
[ -z "$left" ] || { echo "libgcc-helpers: could not remove from $a:" $left >&2; exit 1; }

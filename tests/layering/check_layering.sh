#!/bin/sh
# check_layering.sh SRCROOT — the layering rules of libtdl (issue 17):
#   1. no file outside the library includes one of its internal headers:
#      every program (src/cli, src/output, proofs-checks, bench, fuzz,
#      tests, python) includes only include/tdl/*.h and its own headers.
#      The exceptions are the library's own white-box test
#      src/tests/check_internal.c and the fuzz harness that compiles a CLI
#      source (fuzz/fuzz_options_range.c includes src/cli/cmd_landscape.c);
#   2. no include cycles among the library's modules: module X is src/X.c
#      and include/tdl/X.h (and src/X_internal.h); X -> Y when a file of X
#      includes tdl/Y.h or Y_internal.h; the graph must be acyclic.
# Prints each violation and exits 1, or prints a one-line summary.
set -eu
root=${1:-.}
cd "$root"
fail=0

# ---- 1. internal headers ---------------------------------------------------
internal=$(cd src && ls *.h | tr '\n' ' ')
files=$(find src/cli src/output proofs-checks bench fuzz tests python -type f \( -name '*.c' -o -name '*.h' -o -name '*.c.in' \) 2>/dev/null | sort)
for f in $files; do
    # quoted includes: their file names, one per line
    incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    for inc in $incs; do
        base=${inc##*/}
        case "$f:$inc" in
            fuzz/fuzz_options_range.c:../src/cli/*) continue ;;
        esac
        case "$inc" in
            tdl/*) continue ;;
            *src/*) echo "layering: $f includes \"$inc\": a path into src/ (programs see include/tdl/ only)"; fail=1; continue ;;
        esac
        for h in $internal; do
            if [ "$base" = "$h" ]; then
                echo "layering: $f includes \"$inc\", an internal header of libtdl (src/$h)"
                fail=1
            fi
        done
    done
done

# ---- 2. module include graph ------------------------------------------------
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in src/*.c src/*.h include/tdl/*.h; do
    base=${f##*/}
    mod=${base%.*}
    mod=${mod%_internal}
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
        case "$inc" in
            tdl/*.h) dep=${inc#tdl/}; dep=${dep%.h} ;;
            *_internal.h) dep=${inc%_internal.h} ;;
            *) continue ;;
        esac
        [ "$dep" = "$mod" ] || echo "$mod $dep"
    done
done | sort -u > "$edges"
# Transitive closure (Warshall; a few dozen modules): an edge X -> Y lies
# on a cycle when Y reaches X.
cycle=$(awk '
    { from[NR] = $1; to[NR] = $2; n = NR; reach[$1, $2] = 1; mods[$1]; mods[$2] }
    END {
        for (k in mods) for (i in mods) if ((i, k) in reach) for (j in mods) if ((k, j) in reach) reach[i, j] = 1
        for (e = 1; e <= n; e++) if ((to[e], from[e]) in reach) printf "%s -> %s\n", from[e], to[e]
    }' "$edges")
if [ -n "$cycle" ]; then
    echo "layering: include cycles among src/ modules (each edge shown lies on a cycle):"
    echo "$cycle" | sed 's/^/  /'
    fail=1
fi
if [ "$fail" -eq 0 ]; then
    echo "layering: $(echo $files | wc -w) program files include no internal header; $(wc -l < "$edges") module dependencies, no cycle"
fi
exit $fail

#!/bin/sh
# test_layering.sh SRCROOT BUILDROOT CC [SANITIZE] — the library is the only user of its
# internals, and the build refuses a program that tries:
#   1. the tree obeys the layering rules (check_layering.sh);
#   2. the rule checker fails on a planted violation of each kind: a CLI
#      file including internal.h, a check including "../src/net_internal.h"
#      by path, and an include cycle (model.c including tdl/hessian.h);
#   3. the compiler refuses: with the include path every program gets
#      (include/ and the generated tdl_config.h) "internal.h" does not
#      resolve, and a program calling an internal function (tdl_fail) does
#      not link against the shared libtdl, which exports TDL_API symbols only.
set -eu
src=$1; build=$2; cc=$3
# a library built with -Db_sanitize=... needs the same runtime in the probes
san=${4:-none}
[ "$san" = none ] || cc="$cc -fsanitize=$san"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# 1
if sh "$here/check_layering.sh" "$src" > "$tmp/out" 2>&1; then ok "$(cat "$tmp/out")"; else cat "$tmp/out"; bad "the tree breaks the layering rules"; fi

# 2: planted violations on a copy of the tree
copy() { rm -rf "$tmp/t"; mkdir -p "$tmp/t"; (cd "$src" && tar cf - src include proofs-checks bench fuzz tests) | (cd "$tmp/t" && tar xf -); }
plant() { # NAME EXPECTED-TEXT: run the checker on $tmp/t, expect failure naming the violation
    if sh "$here/check_layering.sh" "$tmp/t" > "$tmp/out" 2>&1; then bad "$1: not caught"; return; fi
    if grep -q -- "$2" "$tmp/out"; then ok "$1 caught: $(grep -m1 -- "$2" "$tmp/out" | sed 's/^ *//')"; else cat "$tmp/out"; bad "$1: wrong message"; fi
}
copy; printf '#include "internal.h"\n' > "$tmp/t/src/cli/zz_probe.c"
plant "a CLI file including internal.h" 'src/cli/zz_probe.c includes "internal.h"'
copy; printf '#include "../src/net_internal.h"\n' > "$tmp/t/proofs-checks/zz_probe.c"
plant "a check including ../src/net_internal.h" 'proofs-checks/zz_probe.c includes "../src/net_internal.h"'
copy; sed -i '0,/#include "tdl\/model.h"/s//#include "tdl\/model.h"\n#include "tdl\/hessian.h"/' "$tmp/t/src/model.c"
plant "an include cycle model -> hessian -> net -> model" 'model -> hessian'

# 3: the compiler and the linker
printf '#include "internal.h"\nint main(void) { return 0; }\n' > "$tmp/inc.c"
if $cc -I "$src/include" -I "$build" -c "$tmp/inc.c" -o "$tmp/inc.o" > "$tmp/out" 2>&1; then
    bad "a program's include path reaches internal.h"
elif grep -q 'internal.h' "$tmp/out"; then ok "compiler refuses internal.h: $(grep -m1 'internal.h' "$tmp/out" | sed 's/^.*error: //')"
else cat "$tmp/out"; bad "compile failed for another reason"; fi
printf '#include "tdl/error.h"\nint tdl_fail(int status, const char *fmt, ...);\nint main(void) { return tdl_fail(TDL_EINVAL, "x") == TDL_EINVAL ? 0 : 1; }\n' > "$tmp/sym.c"
printf '#include "tdl/error.h"\nint main(void) { return tdl_error_set(TDL_EINVAL, "x") == TDL_EINVAL ? 0 : 1; }\n' > "$tmp/pub.c"
if $cc -I "$src/include" "$tmp/pub.c" -o "$tmp/pub" -L "$build/src" -ltdl -Wl,-rpath,"$build/src" > "$tmp/out" 2>&1 && "$tmp/pub"; then
    ok "a program calling a TDL_API function links and runs"
else cat "$tmp/out"; bad "the public symbol did not link"; fi
if $cc -I "$src/include" "$tmp/sym.c" -o "$tmp/sym" -L "$build/src" -ltdl -Wl,-rpath,"$build/src" > "$tmp/out" 2>&1; then
    bad "a program linked an internal symbol (tdl_fail) from libtdl.so"
elif grep -q 'tdl_fail' "$tmp/out"; then ok "linker refuses internal tdl_fail: $(grep -m1 'tdl_fail' "$tmp/out" | sed 's/^.*: //')"
else cat "$tmp/out"; bad "link failed for another reason"; fi

[ "$fails" -eq 0 ] && echo "layering: all checks passed" || echo "layering: $fails failed"
exit $((fails > 0))

#!/bin/bash
# `meson install` into a staging directory: the library, headers, pkg-config
# file, the command and the shipped data sets land, and the installed tdl finds
# the installed data.   usage: test_install.sh BUILD_DIR
BUILD=$1
. "$(dirname "$0")/lib.sh"
stage=$WORK/stage
run meson install -C "$BUILD" --destdir "$stage" --no-rebuild --quiet
expect_status 0 "meson install"
prefix=$(meson introspect "$BUILD" --buildoptions | sed -n 's/.*"name": "prefix", "value": "\([^"]*\)".*/\1/p')
[ -n "$prefix" ] || prefix=/usr/local
root=$stage$prefix
for f in bin/tdl include/tdl/tdl.h include/tdl/net.h share/tdl/mnist.npz share/tdl/digits.npz; do
    if [ -e "$root/$f" ]; then ok; else bad "installed $f missing"; fi
done
for f in libtdl.so libtdl.a tdl.pc; do
    if [ -n "$(find "$root" -name "$f" -print -quit)" ]; then ok; else bad "$f not installed"; fi
done
libdir=$(dirname "$(find "$root" -name libtdl.so -print -quit)")
# the installed command reads the installed data (pointed to, since it is staged;
# so is the staged library, which an installed tdl finds through ld.so)
run env LD_LIBRARY_PATH="$libdir" TDL_DATA_DIR="$root/share/tdl" "$root/bin/tdl" info --data mnist --json
expect_status 0 "installed tdl reads installed data"
expect_json n 10000 "installed mnist"
# and it runs on the staged shared library, not on one from the build tree
run env LD_LIBRARY_PATH="$libdir" ldd "$root/bin/tdl"
if grep -q "libtdl.so.0 => $libdir" "$WORK/out"; then ok; else bad "installed tdl does not load the staged libtdl.so.0: $(grep libtdl "$WORK/out")"; fi

# A program written against the installed headers alone, built with the
# installed pkg-config file (examples/c/hessian_spectrum.c: data from arrays,
# a net, its dense Hessian spectrum and Lanczos on the public operator).
pcdir=$(dirname "$(find "$root" -name tdl.pc -print -quit)")
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage" pkg-config --cflags --libs tdl)
# a library built with sanitizers needs their runtime in the program too
san=$(meson introspect "$BUILD" --buildoptions | sed -n 's/.*"name": "b_sanitize", "value": "\([^"]*\)".*/\1/p')
[ -n "$san" ] && [ "$san" != none ] && flags="$flags -fsanitize=$san"
run cc -std=c11 -Wall -Wextra -Werror "$(dirname "$0")/../../examples/c/hessian_spectrum.c" $flags -lm -o "$WORK/hessian_spectrum"
expect_status 0 "the example builds against the installed headers and pkg-config file"
run env LD_LIBRARY_PATH="$libdir" "$WORK/hessian_spectrum"
expect_status 0 "the example runs on the installed library (dense and Lanczos agree)"
expect_out "top eigenvalues, dense vs Lanczos" "example output"
finish

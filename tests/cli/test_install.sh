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
# the installed command reads the installed data (pointed to, since it is staged)
run env TDL_DATA_DIR="$root/share/tdl" "$root/bin/tdl" info --data mnist --json
expect_status 0 "installed tdl reads installed data"
expect_json n 10000 "installed mnist"
finish

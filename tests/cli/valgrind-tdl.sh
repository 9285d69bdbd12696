#!/bin/sh
# valgrind-tdl.sh — run the tdl named by $TDL_REAL under valgrind memcheck; used
# as the tdl of the CLI tests (scripts/test.sh --valgrind).  Any invalid access
# or definite/indirect leak makes the exit status 99, which the tests report.
# TDL_BLAS_CORE=keep: tdl must not re-execute itself onto other BLAS kernels
# (tdl/blas.h), which would leave valgrind (it does not trace exec'd children).
TDL_BLAS_CORE=keep exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$TDL_REAL" "$@"

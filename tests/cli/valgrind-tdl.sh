#!/bin/sh
# valgrind-tdl.sh — run the tdl named by $TDL_REAL under valgrind memcheck; used
# as the tdl of the CLI tests (scripts/test.sh --valgrind).  Any invalid access
# or definite/indirect leak makes the exit status 99, which the tests report.
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$TDL_REAL" "$@"

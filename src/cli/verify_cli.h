/* verify_cli.h — the grading shared by `tdl verify` (one answer,
 * cmd_verify.c) and `tdl verify --assignment` (a list of tasks,
 * verify_assignment.c): each task is graded by the same function as the
 * single command, from the same options. */
#ifndef TDL_CLI_VERIFY_CLI_H
#define TDL_CLI_VERIFY_CLI_H

#include "tdl/verify.h"

typedef struct cli_verify_outcome {
    int rc;                       /* 0 pass, 1 fail or work error, 2 usage */
    int graded;                   /* the comparison was made (res is valid) */
    tdl_verify_result res;
    tdl_verify_shape shape, answer_shape;
    char quantity[96];            /* "hessian", "bound:path_l2", "ntk:analytic" */
    char error[512];              /* why it was not graded ("" when graded) */
} cli_verify_outcome;

/* Grade the answer of a `tdl verify` command line (argv[0] "verify"): with
 * out == NULL print the verdict (the command), else keep it in *out and
 * print nothing but usage / model-loading lines.  Returns the exit code. */
int cli_verify_grade(int argc, char **argv, cli_verify_outcome *out);

/* `tdl verify --assignment FILE.json [--json]` (verify_assignment.c). */
int cli_verify_assignment(int argc, char **argv);

#endif

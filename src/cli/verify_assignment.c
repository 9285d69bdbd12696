/* verify_assignment.c — `tdl verify --assignment FILE.json [--json]`: grade
 * a list of tasks, each one `tdl verify` command written as a JSON object,
 * with points (issue 21).  --answers DIR: the tasks' answer files are read
 * from DIR (a student's folder) instead of the assignment's folder.
 *
 * The file: {"title": "...", "tasks": [TASK, ...]} or a bare [TASK, ...].
 * A TASK has "name", "quantity", "answer" (a file, or a number), "points"
 * and the options of the single command as keys ("model", "arch", "act",
 * "data", "vector", "tol" or "tolerance", "ntk_full", "q", "c", "loss", ...:
 * "--sigma-w" is "sigma_w"; true for a flag).  Paths are relative to the
 * JSON file's folder.  Every task is checked before any is graded: a
 * malformed assignment gives one line naming the task and the key (exit 2;
 * a file that does not exist: exit 1).  Each task is then graded by
 * cli_verify_grade, the single command's own grading; a pass earns its
 * points, a fail none.  Exit 0 when every task passes, else 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "verify_cli.h"
#include "tdl/names.h"

#define MAX_ARGS 64

typedef struct task {
    char name[96];
    double points;
    int argc;
    char *argv[MAX_ARGS];
    char *owned[MAX_ARGS];    /* strings allocated for argv */
    size_t n_owned;
    cli_verify_outcome out;
} task;

/* keys of a task that are options of `tdl verify` ("path": relative to the
 * assignment's folder; "flag": true / false) */
static const struct { const char *key, *option; int path, flag; } keys[] = {
    {"model", "--model", 1, 0},   {"data", "--data", 1, 0},       {"vector", "--vector", 1, 0},
    {"arch", "--arch", 0, 0},     {"act", "--act", 0, 0},         {"init", "--init", 0, 0},
    {"param", "--param", 0, 0},   {"sigma_w", "--sigma-w", 0, 0}, {"sigma_b", "--sigma-b", 0, 0},
    {"bias", "--bias", 0, 1},     {"no_bias", "--no-bias", 0, 1}, {"seed", "--seed", 0, 0},
    {"loss", "--loss", 0, 0},     {"reduction", "--reduction", 0, 0}, {"layer_order", "--layer-order", 0, 0},
    {"tol", "--tol", 0, 0},       {"tolerance", "--tol", 0, 0},   {"ntk_full", "--ntk-full", 0, 1},
    {"q", "--q", 0, 0},           {"c", "--c", 0, 0},
};

static char *own(task *t, char *s)
{
    if (s && t->n_owned < MAX_ARGS) t->owned[t->n_owned++] = s;
    return s;
}

static void task_free(task *t)
{
    for (size_t i = 0; i < t->n_owned; i++) free(t->owned[i]);
    t->n_owned = 0;
}

static int push(task *t, const char *arg)
{
    if (t->argc + 1 >= MAX_ARGS) return -1;
    t->argv[t->argc++] = (char *)arg;
    t->argv[t->argc] = NULL;
    return 0;
}

/* The file part of a path spec: "a.npz:member" -> "a.npz"; else the spec. */
static int spec_exists(const char *spec)
{
    struct stat sb;
    if (stat(spec, &sb) == 0) return 1;
    const char *npz = strstr(spec, ".npz:");
    if (!npz) return 0;
    char *file = strndup(spec, (size_t)(npz + 4 - spec));
    int ok = file && stat(file, &sb) == 0;
    free(file);
    return ok;
}

/* dir/spec for a relative spec; NULL when out of memory. */
static char *resolve(const char *dir, const char *spec)
{
    size_t len = strlen(dir) + strlen(spec) + 2;
    char *p = malloc(len);
    if (!p) return NULL;
    if (spec[0] == '/' || !dir[0]) snprintf(p, len, "%s", spec);
    else snprintf(p, len, "%s/%s", dir, spec);
    return p;
}

/* A value of a task as one argument: a string, or a number written back. */
static char *value_text(const cJSON *v)
{
    char buf[64];
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
        return strdup(buf);
    }
    return NULL;
}

/* Check one task and build its command line.  Returns 0, or an exit code
 * after printing one line. */
static int task_build(const char *file, const char *dir, const char *answers, const cJSON *j, size_t k, task *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "#%zu", k + 1);
    if (!cJSON_IsObject(j)) return cli_usage("verify", "assignment %s: task %zu: not an object", file, k + 1);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!cJSON_IsString(name) || !*name->valuestring)
        return cli_usage("verify", "assignment %s: task %zu: key \"name\" missing (a non-empty string)", file, k + 1);
    snprintf(t->name, sizeof t->name, "%s", name->valuestring);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "quantity");
    if (!cJSON_IsString(q))
        return cli_usage("verify", "assignment %s: task '%s': key \"quantity\" missing (a string)", file, t->name);
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(j, "points");
    if (!cJSON_IsNumber(pts) || !(pts->valuedouble >= 0) || !isfinite(pts->valuedouble))
        return cli_usage("verify", "assignment %s: task '%s': key \"points\" missing (a number >= 0)", file, t->name);
    t->points = pts->valuedouble;
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(j, "answer");
    if (!cJSON_IsString(ans) && !cJSON_IsNumber(ans))
        return cli_usage("verify", "assignment %s: task '%s': key \"answer\" missing (a file or a number)", file, t->name);
    push(t, "verify");
    push(t, "--quantity");
    push(t, q->valuestring);
    push(t, "--answer");
    if (cJSON_IsNumber(ans)) {
        push(t, own(t, value_text(ans)));
    } else {
        char *p = own(t, resolve(answers ? answers : dir, ans->valuestring));
        if (!p) return cli_failf("out of memory");
        if (!spec_exists(p)) return cli_failf("assignment %s: task '%s': key \"answer\": no such file %s", file, t->name, p);
        push(t, p);
    }
    for (const cJSON *it = j->child; it; it = it->next) {
        const char *key = it->string;
        if (!strcmp(key, "name") || !strcmp(key, "quantity") || !strcmp(key, "points") || !strcmp(key, "answer") ||
            !strcmp(key, "comment"))
            continue;
        size_t i, nk = sizeof keys / sizeof keys[0];
        for (i = 0; i < nk && strcmp(keys[i].key, key); i++) {}
        if (i == nk) return cli_usage("verify", "assignment %s: task '%s': unknown key \"%s\"", file, t->name, key);
        if (keys[i].flag) {
            if (!cJSON_IsBool(it))
                return cli_usage("verify", "assignment %s: task '%s': key \"%s\": expected true or false", file, t->name, key);
            if (cJSON_IsTrue(it) && push(t, keys[i].option)) goto too_many;
            continue;
        }
        char *v = own(t, value_text(it));
        if (!v)
            return cli_usage("verify", "assignment %s: task '%s': key \"%s\": expected a string or a number", file, t->name, key);
        if (keys[i].path && cJSON_IsString(it)) {
            /* data may be a generator spec ("moons:n=200"): only a spec that
             * names a file ('/' or '.') is taken relative to the folder */
            int filelike = strchr(v, '/') || strchr(v, '.') || strcmp(key, "data");
            if (filelike) {
                char *p = own(t, resolve(dir, v));
                if (!p) return cli_failf("out of memory");
                if (!spec_exists(p))
                    return cli_failf("assignment %s: task '%s': key \"%s\": no such file %s", file, t->name, key, p);
                v = p;
            }
        }
        if (push(t, keys[i].option) || push(t, v)) goto too_many;
    }
    return 0;
too_many:
    return cli_usage("verify", "assignment %s: task '%s': too many keys", file, t->name);
}

static char *read_text(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            else buf = nb;
        }
    }
    if (buf) buf[len] = '\0';
    fclose(f);
    return buf;
}

static void fmt_points(double p, char *buf, size_t len)
{
    snprintf(buf, len, "%g", p);
}

int cli_verify_assignment(int argc, char **argv)
{
    const char *file = NULL, *answers = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--assignment")) {
            if (i + 1 >= argc) return cli_usage("verify", "--assignment needs FILE.json");
            file = argv[++i];
        } else if (!strncmp(argv[i], "--assignment=", 13)) {
            file = argv[i] + 13;
        } else if (!strcmp(argv[i], "--answers")) {
            if (i + 1 >= argc) return cli_usage("verify", "--answers needs DIR");
            answers = argv[++i];
        } else if (!strncmp(argv[i], "--answers=", 10)) {
            answers = argv[i] + 10;
        } else if (!strcmp(argv[i], "--json")) {
            as_json = 1;
        } else {
            return cli_usage("verify", "--assignment takes only --answers DIR and --json (the tasks' options are in the file): '%s'", argv[i]);
        }
    }
    if (!file || !*file) return cli_usage("verify", "--assignment needs FILE.json");
    char *text = read_text(file);
    if (!text) return cli_failf("assignment %s: cannot read the file", file);
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at ? (long)(at - text) : -1;
        free(text);
        return cli_usage("verify", "assignment %s: not valid JSON (near byte %ld)", file, off);
    }
    free(text);
    const cJSON *tasks = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "tasks");
    const cJSON *title = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "title") : NULL;
    int rc = EXIT_WORK_FAILED;
    size_t nt = 0;
    task *ts = NULL;
    char *dir = strdup(file);
    if (!dir) { rc = cli_failf("out of memory"); goto done; }
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else dir[0] = '\0';
    if (!cJSON_IsArray(tasks) || cJSON_GetArraySize(tasks) == 0) {
        rc = cli_usage("verify", "assignment %s: key \"tasks\" missing (a non-empty array of tasks)", file);
        goto done;
    }
    nt = (size_t)cJSON_GetArraySize(tasks);
    ts = calloc(nt, sizeof *ts);
    if (!ts) { rc = cli_failf("out of memory"); goto done; }
    size_t k = 0;
    for (const cJSON *j = tasks->child; j; j = j->next, k++) {
        if ((rc = task_build(file, dir, answers, j, k, &ts[k])) != 0) goto done;
        for (size_t i = 0; i < k; i++)
            if (!strcmp(ts[i].name, ts[k].name)) {
                rc = cli_usage("verify", "assignment %s: task '%s': key \"name\": a second task of that name", file, ts[k].name);
                goto done;
            }
    }
    /* grade */
    double earned = 0, possible = 0;
    size_t passed = 0;
    for (k = 0; k < nt; k++) {
        cli_verify_grade(ts[k].argc, ts[k].argv, &ts[k].out);
        possible += ts[k].points;
        if (ts[k].out.graded && ts[k].out.res.passed) {
            earned += ts[k].points;
            passed++;
        }
    }
    rc = passed == nt ? 0 : EXIT_WORK_FAILED;
    if (as_json) {
        json_writer w;
        if (json_open(&w) != 0) { rc = cli_failf("out of memory"); goto done; }
        json_object_begin(&w, NULL);
        json_string(&w, "assignment", file);
        if (answers) json_string(&w, "answers", answers);
        if (cJSON_IsString(title)) json_string(&w, "title", title->valuestring);
        json_array_begin(&w, "tasks");
        for (k = 0; k < nt; k++) {
            const cli_verify_outcome *o = &ts[k].out;
            const tdl_verify_result *r = &o->res;
            json_object_begin(&w, NULL);
            json_string(&w, "name", ts[k].name);
            json_string(&w, "quantity", o->graded ? o->quantity : ts[k].argv[2]);
            json_string(&w, "verdict", o->graded ? (r->passed ? "PASS" : "FAIL") : "ERROR");
            json_bool(&w, "passed", o->graded && r->passed);
            json_number(&w, "points", o->graded && r->passed ? ts[k].points : 0);
            json_number(&w, "points_possible", ts[k].points);
            if (o->graded) {
                const char *slip = tdl_name_of(tdl_verify_slip_names, (int)r->slip);
                json_number(&w, "tol", r->tol);
                json_bool(&w, "shape_ok", r->shape_ok);
                json_number_or_reason(&w, "rel_error", r->rel_error, "the shapes differ");
                json_number_or_reason(&w, "abs_error", r->abs_error, "the shapes differ");
                if (r->shape_ok) json_string(&w, "worst_meaning", r->worst_meaning);
                json_string(&w, "slip", slip ? slip : "none");
                json_number_or_reason(&w, "factor", r->slip == TDL_SLIP_NONE ? NAN : r->factor, "no scale slip");
                if (r->slip == TDL_SLIP_ONE_LAYER_BLOCK) json_size(&w, "layer", r->layer);
                json_string(&w, "diagnosis", r->diagnosis);
            } else {
                json_string(&w, "error", o->error);
            }
            json_object_end(&w);
        }
        json_array_end(&w);
        json_size(&w, "tasks_passed", passed);
        json_size(&w, "tasks_total", nt);
        json_number(&w, "points", earned);
        json_number(&w, "points_possible", possible);
        json_bool(&w, "passed", passed == nt);
        json_object_end(&w);
        if (json_flush_stdout(&w) != 0) rc = EXIT_WORK_FAILED;
        goto done;
    }
    if (cJSON_IsString(title)) printf("%s\n", title->valuestring);
    printf("assignment %s: %zu task%s", file, nt, nt == 1 ? "" : "s");
    if (answers) printf(", answers from %s", answers);
    printf("\n\n");
    size_t wname = 4;
    for (k = 0; k < nt; k++)
        if (strlen(ts[k].name) > wname) wname = strlen(ts[k].name);
    printf("%-*s  %-20s %9s  %-7s %s\n", (int)wname, "task", "quantity", "points", "verdict", "diagnosis");
    for (k = 0; k < nt; k++) {
        const cli_verify_outcome *o = &ts[k].out;
        char got[32], of[32], pts[72];
        fmt_points(o->graded && o->res.passed ? ts[k].points : 0, got, sizeof got);
        fmt_points(ts[k].points, of, sizeof of);
        snprintf(pts, sizeof pts, "%s / %s", got, of);
        const char *verdict = o->graded ? (o->res.passed ? "PASS" : "FAIL") : "ERROR";
        char diag[700] = "";
        if (!o->graded) snprintf(diag, sizeof diag, "%s", o->error);
        else if (!o->res.passed) {
            const char *slip = tdl_name_of(tdl_verify_slip_names, (int)o->res.slip);
            snprintf(diag, sizeof diag, "[%s] %s", slip ? slip : "none", o->res.diagnosis);
        } else {
            snprintf(diag, sizeof diag, "relative error %.2g", o->res.rel_error);
        }
        printf("%-*s  %-20s %9s  %-7s %s\n", (int)wname, ts[k].name, o->graded ? o->quantity : ts[k].argv[2], pts,
               verdict, diag);
    }
    char e1[32], e2[32];
    fmt_points(earned, e1, sizeof e1);
    fmt_points(possible, e2, sizeof e2);
    printf("\ntotal %s / %s points; %zu of %zu tasks passed\n", e1, e2, passed, nt);
done:
    if (ts)
        for (k = 0; k < nt; k++) task_free(&ts[k]);
    free(ts);
    free(dir);
    cJSON_Delete(root);
    return rc;
}

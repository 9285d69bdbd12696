/* check_report_keys.c — the report's table of command-JSON keys
 * (src/cli/report_keys.c) and its one checker, table-driven:
 *   - for every group, an object holding every key of the group with a value
 *     of its type (nested groups built the same way) passes the check;
 *   - removing any required key fails, and the message names the key's path
 *     ("density.sigma", "measures[0].bound");
 *   - giving any key a value of another type fails, naming the key;
 *   - removing an optional key passes.
 * The real commands' JSON is checked against the same table by every
 * `tdl report` run (tests/cli/test_report.sh). */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_keys.h"

static cJSON *valid_object(rk_group g);

static cJSON *valid_value(const rk_key *k)
{
    switch (k->type) {
    case RKT_NUMBER: return cJSON_CreateNumber(1.5);
    case RKT_STRING: return cJSON_CreateString("text");
    case RKT_BOOL: return cJSON_CreateTrue();
    case RKT_NUMBERS: {
        double v[3] = {1, 2, 3};
        return cJSON_CreateDoubleArray(v, 3);
    }
    case RKT_OBJECT: return valid_object(k->child);
    case RKT_OBJECTS: {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, valid_object(k->child));
        return a;
    }
    }
    return NULL;
}

/* A value of another type than k's (a string for numbers, a number otherwise). */
static cJSON *wrong_value(const rk_key *k)
{
    return k->type == RKT_NUMBER || k->type == RKT_NUMBERS ? cJSON_CreateString("x") : cJSON_CreateNumber(7);
}

static cJSON *valid_object(rk_group g)
{
    cJSON *o = cJSON_CreateObject();
    for (int id = 0; id < RK_COUNT; id++)
        if (report_keys[id].group == g) cJSON_AddItemToObject(o, report_keys[id].key, valid_value(&report_keys[id]));
    return o;
}

START_TEST(test_every_key)
{
    char why[256];
    size_t required = 0, optional = 0;
    for (int g = 0; g < RKG_COUNT; g++) {
        cJSON *o = valid_object((rk_group)g);
        ck_assert_msg(report_keys_check(o, (rk_group)g, why, sizeof why) == 0, "group %d: %s", g, why);
        for (int id = 0; id < RK_COUNT; id++) {
            const rk_key *k = &report_keys[id];
            if (k->group != (rk_group)g) continue;
            cJSON *saved = cJSON_DetachItemFromObjectCaseSensitive(o, k->key);
            int rc = report_keys_check(o, (rk_group)g, why, sizeof why);
            if (k->flags & RK_OPTIONAL) {
                optional++;
                ck_assert_msg(rc == 0, "optional key %s refused when absent: %s", k->key, why);
            } else {
                required++;
                ck_assert_msg(rc == -1, "required key %s not missed", k->key);
                ck_assert_msg(strstr(why, k->key) != NULL, "missing %s: message '%s'", k->key, why);
            }
            cJSON_AddItemToObject(o, k->key, wrong_value(k));
            rc = report_keys_check(o, (rk_group)g, why, sizeof why);
            ck_assert_msg(rc == -1, "key %s of the wrong type accepted", k->key);
            ck_assert_msg(strstr(why, k->key) != NULL, "wrong type for %s: message '%s'", k->key, why);
            cJSON_DeleteItemFromObjectCaseSensitive(o, k->key);
            cJSON_AddItemToObject(o, k->key, saved);
        }
        cJSON_Delete(o);
    }
    ck_assert_uint_gt(required, 40);
    ck_assert_uint_gt(optional, 3);
}
END_TEST

START_TEST(test_nested_path)
{
    /* a measure of tdl bounds without its name: the path "measures[0].name" */
    char why[256];
    cJSON *o = valid_object(RKG_BOUNDS);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "measures"), 0);
    cJSON_DeleteItemFromObjectCaseSensitive(m, "name");
    ck_assert_int_eq(report_keys_check(o, RKG_BOUNDS, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "measures[0].name") != NULL, "%s", why);
    ck_assert_int_eq(report_keys_check(NULL, RKG_BOUNDS, why, sizeof why), -1);
    ck_assert_str_eq(why, "not a JSON object");
    cJSON_Delete(o);
    /* step names map to their groups */
    ck_assert_int_eq(report_keys_group("data"), RKG_DATA);
    ck_assert_int_eq(report_keys_group("eval-test"), RKG_EVAL);
    ck_assert_int_eq(report_keys_group("no-such-step"), RKG_NONE);
}
END_TEST

START_TEST(test_bounds_ledger_keys)
{
    /* the keys of the honest ledger (issue 15) are optional: a tdl bounds
     * without them is read as before; with them, a measure's null classifier
     * and below_chance pass, a kind that is not a string does not */
    static const rk_id ledger[] = {RK_BOUNDS_CHANCE, RK_MEAS_KIND, RK_MEAS_CLASSIFIER, RK_MEAS_FIXED_SCALE, RK_MEAS_BELOW_CHANCE};
    for (size_t i = 0; i < sizeof ledger / sizeof *ledger; i++)
        ck_assert_msg(report_keys[ledger[i]].flags & RK_OPTIONAL, "%s is required", report_keys[ledger[i]].key);
    char why[256];
    cJSON *o = valid_object(RKG_BOUNDS);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "measures"), 0);
    const char *added[] = {"kind", "classifier", "fixed_scale_value", "below_chance"};
    for (size_t i = 0; i < 4; i++) cJSON_DeleteItemFromObjectCaseSensitive(m, added[i]);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "chance");
    ck_assert_msg(report_keys_check(o, RKG_BOUNDS, why, sizeof why) == 0, "%s", why);
    cJSON_AddStringToObject(m, "kind", "measure");
    cJSON_AddNullToObject(m, "classifier");
    cJSON_AddNullToObject(m, "below_chance");
    cJSON_AddNumberToObject(m, "fixed_scale_value", 3.5);
    cJSON_AddNumberToObject(o, "chance", 0.9);
    ck_assert_msg(report_keys_check(o, RKG_BOUNDS, why, sizeof why) == 0, "%s", why);
    ck_assert_str_eq(rk_str(m, RK_MEAS_KIND), "measure");
    ck_assert_ptr_null(rk_str(m, RK_MEAS_CLASSIFIER));
    ck_assert_int_eq(rk_bool(m, RK_MEAS_BELOW_CHANCE), -1);
    ck_assert(rk_num(m, RK_MEAS_FIXED_SCALE) == 3.5 && rk_num(o, RK_BOUNDS_CHANCE) == 0.9);
    cJSON_ReplaceItemInObjectCaseSensitive(m, "kind", cJSON_CreateTrue());
    ck_assert_int_eq(report_keys_check(o, RKG_BOUNDS, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "measures[0].kind") != NULL, "%s", why);
    cJSON_Delete(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_keys");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_every_key);
    tcase_add_test(tc, test_nested_path);
    tcase_add_test(tc, test_bounds_ledger_keys);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

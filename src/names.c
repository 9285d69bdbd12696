/* names.c — name <-> enum tables (tdl/names.h). */
#include <string.h>
#include "tdl/names.h"
#include "tdl/error.h"
#include "internal.h"

/* 1 when table[i] is the first entry carrying its value (a canonical name). */
static int is_canonical(const tdl_name *table, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (table[j].value == table[i].value) return 0;
    return 1;
}

int tdl_name_lookup(const tdl_name *table, const char *kind, const char *text, int *value)
{
    if (text) {
        for (size_t i = 0; table[i].name; i++) {
            if (strcmp(table[i].name, text) == 0) {
                *value = table[i].value;
                return TDL_OK;
            }
        }
    }
    char list[512];
    tdl_name_list(table, " ", list, sizeof list);
    return tdl_fail(TDL_EINVAL, "unknown %s '%s' (%s)", kind ? kind : "name", text ? text : "(null)", list);
}

const char *tdl_name_of(const tdl_name *table, int value)
{
    for (size_t i = 0; table[i].name; i++)
        if (table[i].value == value) return table[i].name;
    return NULL;
}

char *tdl_name_list(const tdl_name *table, const char *sep, char *buf, size_t len)
{
    if (len == 0) return buf;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; table[i].name; i++) {
        if (!is_canonical(table, i)) continue;
        const char *parts[2] = {used > 0 ? sep : "", table[i].name};
        for (int p = 0; p < 2; p++) {
            size_t n = strlen(parts[p]);
            if (used + n >= len) n = len - 1 - used;
            memcpy(buf + used, parts[p], n);
            used += n;
        }
        buf[used] = '\0';
    }
    return buf;
}

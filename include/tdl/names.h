/* tdl/names.h — name <-> enum tables: the one place where the words a user
 * types ("mse", "lanczos", "he", ...) meet the library's enums.  The CLI, the
 * theorem checks and the Python package all parse through these tables, so a
 * name accepted in one is accepted in all, and every "unknown ..." message
 * lists the same choices.
 *
 * A table is an array of {name, value} ending with {NULL, 0}.  The first
 * entry of a value is its canonical name (tdl_name_of); later entries with
 * the same value are aliases ("cross-entropy" for "ce"), accepted but not
 * listed in messages.  Each module declares its tables next to its enums
 * (tdl_loss_names in tdl/net.h, ...).
 */
#ifndef TDL_NAMES_H
#define TDL_NAMES_H
#include "tdl/export.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdl_name {
    const char *name;
    int value;
} tdl_name;

/* Look text up in table.  On a match *value is set and TDL_OK returned;
 * otherwise TDL_EINVAL with the message "unknown KIND 'TEXT' (a b c)", the
 * parenthesis listing the canonical names.  text may be NULL (unknown). */
TDL_API int tdl_name_lookup(const tdl_name *table, const char *kind, const char *text, int *value);

/* The canonical name of value, or NULL when the table has none. */
TDL_API const char *tdl_name_of(const tdl_name *table, int value);

/* The canonical names separated by sep (e.g. " ", ", ", "|") into buf
 * (always terminated; cut when len is too small).  Returns buf. */
TDL_API char *tdl_name_list(const tdl_name *table, const char *sep, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif

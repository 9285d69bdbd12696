/* fuzz_options_range.c — reach the static parse_range of `tdl landscape`
 * (--range LO:HI, --yrange) from fuzz_options.c without editing
 * src/cli/cmd_landscape.c: this translation unit includes the command's
 * source and exports one wrapper.  The rest of cmd_landscape.c is linked in
 * but never called. */
#include "../src/cli/cmd_landscape.c"

int fuzz_parse_range(const char *s, double *lo, double *hi);

int fuzz_parse_range(const char *s, double *lo, double *hi)
{
    return parse_range(s, lo, hi);
}

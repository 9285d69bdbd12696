/* version.c — tdl_version (tdl/version.h). */
#include "tdl/version.h"
#include "tdl_config.h"

const char *tdl_version(void) { return TDL_VERSION; }

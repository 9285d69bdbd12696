/* tdl/export.h — symbol visibility: libtdl is built with -fvisibility=hidden
 * and exports exactly the declarations marked TDL_API. */
#ifndef TDL_EXPORT_H
#define TDL_EXPORT_H
#if defined(__GNUC__)
#define TDL_API __attribute__((visibility("default")))
#else
#define TDL_API
#endif
#endif

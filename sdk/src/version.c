/* version.c — run-time version of the loaded libsciloop (compare with the header's macros). */
#include <sciloop/version.h>

SL_API int sl_version_number(void) { return SL_VERSION_NUMBER; }

SL_API const char *sl_version_string(void) { return SL_VERSION_STRING; }

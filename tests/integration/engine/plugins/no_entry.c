/* no_entry.c — a shared object without the sciloop entry symbol; the engine must say so. */
#include <sciloop/version.h>

SL_PLUGIN_EXPORT int not_a_plugin(void);
SL_PLUGIN_EXPORT int not_a_plugin(void) { return 42; }

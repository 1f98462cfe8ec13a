/* bad_abi.c — a plugin that claims a future ABI major; the engine must refuse it by name. */
#include <sciloop/plugin.h>

static const sl_plugin plugin = {
    .struct_size = sizeof(sl_plugin), .abi_major = SL_ABI_MAJOR + 1, .abi_minor = 0, .name = "futureabi",
    .version = "9.0.0", .license = "MIT", .summary = "built for an ABI this engine does not speak",
};

SL_PLUGIN_DEFINE(plugin)

/* truncated.c — a plugin whose descriptor declares a struct_size too small to hold ABI 1.0's fields. */
#include <sciloop/plugin.h>

static const sl_plugin plugin = {
    .struct_size = offsetof(sl_plugin, name), .abi_major = SL_ABI_MAJOR, .abi_minor = SL_ABI_MINOR, .name = "truncated",
};

SL_PLUGIN_DEFINE(plugin)

/* test_plugin_so.c — the built validate.so exports exactly its entry symbol and describes its ops without side effects. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sciloop/plugin.h>

#include "sl_test.h"

int main(void) {
    const char *build = getenv("SCILOOP_BUILD_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/lib/sciloop/plugins/validate.so", build ? build : "build");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen %s: %s", path, dlerror());
    if (!h) return SL_TEST_DONE();
    sl_plugin_entry_fn entry = (sl_plugin_entry_fn)dlsym(h, SL_PLUGIN_ENTRY_NAME);
    CHECK(entry != NULL);
    /* the statistics library and the op layer stay hidden */
    CHECK(dlsym(h, "vs_t_sf") == NULL);
    CHECK(dlsym(h, "vp_run_test") == NULL);
    if (entry) {
        const sl_plugin *p = entry();
        CHECK(p == entry()); /* a static descriptor */
        CHECK_STR(p->name, "validate");
        CHECK_EQ_INT(p->abi_major, SL_ABI_MAJOR);
        CHECK_EQ_INT(p->n_ops, 8);
        for (size_t i = 0; i < p->n_ops; i++) {
            CHECK(p->ops[i].struct_size == sizeof(sl_op_desc));
            CHECK(p->ops[i].run != NULL && p->ops[i].summary && *p->ops[i].summary);
        }
    }
    dlclose(h);
    return SL_TEST_DONE();
}

/* test_descriptor.c — the built litparse.so: only its entry symbol exported, a descriptor the engine can check. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sciloop/plugin.h>

#include "sl_test.h"

static int in_choices(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return 1;
        p += len + (bar ? 1 : 0);
    }
    return 0;
}

int main(void) {
    const char *build = getenv("SCILOOP_BUILD_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/lib/sciloop/plugins/litparse.so", build ? build : "build");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s not loadable (%s): skipped\n", path, dlerror());
        return SL_TEST_SKIP;
    }
    sl_plugin_entry_fn entry = (sl_plugin_entry_fn)(uintptr_t)dlsym(h, SL_PLUGIN_ENTRY_NAME);
    CHECK(entry != NULL);
    /* internal functions stay hidden */
    CHECK(dlsym(h, "lp_parse_file") == NULL);
    CHECK(dlsym(h, "lp_op_parse") == NULL);
    CHECK(dlsym(h, "lp_bib_parse") == NULL);
    if (!entry) return SL_TEST_DONE();
    const sl_plugin *p = entry();
    CHECK_EQ_INT(p->struct_size, sizeof(sl_plugin));
    CHECK_EQ_INT(p->abi_major, SL_ABI_MAJOR);
    CHECK_STR(p->name, "litparse");
    CHECK_EQ_INT(p->n_ops, 4);
    const char *names[] = {"parse", "merge", "filter", "stats"};
    for (size_t i = 0; i < p->n_ops && i < 4; i++) {
        const sl_op_desc *op = &p->ops[i];
        CHECK_STR(op->name, names[i]);
        CHECK(op->run != NULL && op->summary && *op->summary);
        CHECK(op->flags & SL_OP_DETERMINISTIC);
        for (size_t k = 0; k < op->n_outputs; k++) CHECK(op->outputs[k].doc && *op->outputs[k].doc);
        for (size_t k = 0; k < op->n_params; k++) {
            const sl_param_desc *pd = &op->params[k];
            CHECK_MSG(pd->doc && *pd->doc, "%s.%s has no doc", op->name, pd->name);
            CHECK_MSG(pd->default_value != NULL, "%s.%s has no default", op->name, pd->name);
            if (pd->type == SL_PARAM_ENUM) CHECK_MSG(in_choices(pd->choices, pd->default_value), "%s.%s", op->name, pd->name);
            if (pd->type == SL_PARAM_INT && pd->default_value && pd->min && pd->max) {
                long v = atol(pd->default_value);
                CHECK_MSG(v >= atol(pd->min) && v <= atol(pd->max), "%s.%s default out of range", op->name, pd->name);
            }
        }
    }
    dlclose(h);
    return SL_TEST_DONE();
}

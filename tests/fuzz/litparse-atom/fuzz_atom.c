/* fuzz_atom.c — libFuzzer target: the litparse atom parser (and format detection) on arbitrary bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lp_fuzz_one(data, size, LP_FMT_ATOM);
    return 0;
}

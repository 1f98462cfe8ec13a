/* fuzz_jats.c — libFuzzer target: the litparse jats parser (and format detection) on arbitrary bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lp_fuzz_one(data, size, LP_FMT_JATS);
    return 0;
}

/* fuzz_tei.c — libFuzzer target: the litparse tei parser (and format detection) on arbitrary bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lp_fuzz_one(data, size, LP_FMT_TEI);
    return 0;
}

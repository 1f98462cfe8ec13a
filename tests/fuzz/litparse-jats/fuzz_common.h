/* fuzz_common.h — what every litparse XML fuzz target does with its input. */
#ifndef LP_FUZZ_COMMON_H
#define LP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "litparse.h"

/* Parse `data` as `fmt` (and once more with format detection), serialise every document and
 * check the JSON is valid and every failure carries a message naming the input; abort() on a
 * broken promise so libFuzzer reports it. */
void lp_fuzz_one(const uint8_t *data, size_t size, lp_format fmt);

#endif /* LP_FUZZ_COMMON_H */

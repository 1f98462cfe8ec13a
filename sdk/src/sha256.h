/* sha256.h — the SHA-256 used for content hashes and cache keys (internal to libsciloop). */
#ifndef SCILOOP_SDK_SHA256_H
#define SCILOOP_SDK_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sli_sha256 {
    uint32_t state[8];
    uint64_t bytes;
    uint8_t buf[64];
    size_t fill;
} sli_sha256;

void sli_sha256_init(sli_sha256 *c);
void sli_sha256_update(sli_sha256 *c, const void *data, size_t len);
void sli_sha256_final(sli_sha256 *c, uint8_t out[32]);

/* Tests: non-zero forces the portable code even where the CPU has SHA instructions. */
void sli_sha256_force_portable(int on);

#endif

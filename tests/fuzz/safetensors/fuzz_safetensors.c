/* fuzz_safetensors.c — libFuzzer target: any byte string given to the safetensors loader yields a handle or a clean error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sciloop/tensor.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/sl-fuzz-st-%d.safetensors", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    sl_safetensors *st = NULL;
    if (sl_safetensors_open(path, &st) == SL_OK) {
        /* touch every tensor's bytes: an out-of-range view would trip ASan here */
        for (int64_t i = 0; i < sl_safetensors_count(st); i++) {
            sl_tensor *t;
            if (sl_safetensors_get(st, sl_safetensors_name(st, i), &t) != SL_OK) continue;
            volatile unsigned char acc = 0;
            const unsigned char *p = t->data;
            for (size_t b = 0; b < sl_tensor_nbytes(t); b++) acc ^= p[b];
            (void)acc;
            sl_tensor_destroy(t);
        }
        (void)sl_safetensors_metadata(st, "format");
        sl_safetensors_close(st);
    } else if (!sl_last_error()[0]) {
        abort(); /* a failure must always come with a message */
    }
    return 0;
}

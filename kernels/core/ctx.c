/* ctx.c — contexts: device choice (SCILOOP_DEVICE), loading the CUDA backend with dlopen, thread budget, RNG state. */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- the CUDA backend shared object: loaded once per process, never unloaded ---- */

static pthread_mutex_t cuda_lock = PTHREAD_MUTEX_INITIALIZER;
static const sli_backend *cuda_backend;
static char cuda_load_error[8192]; /* room for a full path and the dlerror text */
static bool cuda_tried;

/* Every entry of a backend table must be set; a missing one would crash later. */
static const char *first_missing_entry(const sli_backend *b) {
#define E(f) if (!b->f) return #f;
    E(device_init) E(mem_alloc) E(mem_free) E(stream_create) E(stream_destroy) E(stream_threads_changed)
    E(synchronize) E(memcpy) E(copy) E(fill) E(rand_uniform) E(rand_normal) E(matmul) E(matmul_backward)
    E(linear) E(linear_backward) E(bias_add) E(bias_add_backward) E(add) E(axpby) E(gelu) E(gelu_backward)
    E(layernorm) E(layernorm_backward) E(softmax) E(softmax_backward) E(embedding) E(embedding_backward)
    E(attention) E(attention_backward) E(dropout) E(dropout_backward) E(cross_entropy)
    E(cross_entropy_backward) E(reduce) E(reduce_backward) E(argmax) E(adamw) E(sum_squares) E(scale)
#undef E
    return NULL;
}

static void load_cuda_backend(void) {
    char path[4096];
    const char *env = getenv("SCILOOP_TENSOR_CUDA_LIB");
    if (env && *env) {
        snprintf(path, sizeof path, "%s", env);
    } else {
        /* Next to this library, so a build tree and an install both work without LD_LIBRARY_PATH. */
        Dl_info info;
        path[0] = '\0';
        if (dladdr((void *)&sl_ctx_create, &info) && info.dli_fname) {
            const char *slash = strrchr(info.dli_fname, '/');
            if (slash)
                snprintf(path, sizeof path, "%.*s/libsciloop-tensor-cuda.so", (int)(slash - info.dli_fname),
                         info.dli_fname);
        }
        if (!path[0])
            snprintf(path, sizeof path, "libsciloop-tensor-cuda.so");
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(cuda_load_error, sizeof cuda_load_error,
                 "the CUDA backend could not be loaded from %s: %s (built without CUDA, or the CUDA runtime "
                 "libraries are missing)", path, e ? e : "unknown error");
        return;
    }
    sli_backend_entry_fn entry = (sli_backend_entry_fn)dlsym(h, SLI_BACKEND_ENTRY);
    if (!entry) {
        snprintf(cuda_load_error, sizeof cuda_load_error, "%s does not export %s", path, SLI_BACKEND_ENTRY);
        dlclose(h);
        return;
    }
    const sli_backend *b = entry();
    if (!b || b->abi != SLI_BACKEND_ABI || b->struct_size < sizeof(sli_backend)) {
        snprintf(cuda_load_error, sizeof cuda_load_error,
                 "%s speaks backend ABI %u (size %zu); this runtime needs ABI %u (size %zu)", path,
                 b ? b->abi : 0u, b ? b->struct_size : (size_t)0, (unsigned)SLI_BACKEND_ABI, sizeof(sli_backend));
        dlclose(h);
        return;
    }
    const char *missing = first_missing_entry(b);
    if (missing) {
        snprintf(cuda_load_error, sizeof cuda_load_error, "%s: backend entry '%s' is not implemented", path,
                 missing);
        dlclose(h);
        return;
    }
    cuda_backend = b;
}

sl_status sli_backend_for(sl_device device, int gpu_index, const sli_backend **out, char *desc, size_t desc_size) {
    if (device == SL_DEVICE_CPU) {
        const sli_backend *b = sli_cpu_backend();
        sl_status st = b->device_init(0, desc, desc_size);
        if (st != SL_OK) return st;
        *out = b;
        return SL_OK;
    }
    pthread_mutex_lock(&cuda_lock);
    if (!cuda_tried) {
        cuda_tried = true;
        load_cuda_backend();
    }
    const sli_backend *b = cuda_backend;
    pthread_mutex_unlock(&cuda_lock);
    if (!b) return sl_set_error(SL_ERR_UNSUPPORTED, "%s", cuda_load_error);
    sl_status st = b->device_init(gpu_index, desc, desc_size);
    if (st != SL_OK) return st;
    *out = b;
    return SL_OK;
}

/* ---- contexts ---- */

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

SL_API sl_status sl_ctx_create(const sl_ctx_options *opt, sl_ctx **out) {
    if (!out) return sl_set_error(SL_ERR_INVALID, "sl_ctx_create: out is NULL");
    *out = NULL;
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    if (opt) {
        if (opt->struct_size < offsetof(sl_ctx_options, workspace_bytes) + sizeof(size_t))
            return sl_set_error(SL_ERR_ABI, "sl_ctx_create: options struct_size %zu is too small "
                                "(initialise with SL_CTX_OPTIONS_INIT)", opt->struct_size);
        o = *opt;
    }
    sl_device want = o.device;
    const char *env = getenv("SCILOOP_DEVICE");
    if (env && *env) {
        if (!strcasecmp(env, "cpu")) want = SL_DEVICE_CPU;
        else if (!strcasecmp(env, "cuda") || !strcasecmp(env, "gpu")) want = SL_DEVICE_CUDA;
        else if (!strcasecmp(env, "auto")) want = SL_DEVICE_AUTO;
        else
            return sl_set_error(SL_ERR_INVALID, "SCILOOP_DEVICE='%s': expected cpu, cuda or auto", env);
    }
    if (want != SL_DEVICE_CPU && want != SL_DEVICE_CUDA && want != SL_DEVICE_AUTO)
        return sl_set_error(SL_ERR_INVALID, "sl_ctx_create: unknown device %d", (int)want);
    int threads = o.threads;
    if (threads < 0) return sl_set_error(SL_ERR_INVALID, "sl_ctx_create: threads = %d (expected >= 0)", threads);
    if (threads == 0) {
        const char *t = getenv("SCILOOP_THREADS");
        char *end = NULL;
        long v = t && *t ? strtol(t, &end, 10) : 0;
        if (t && *t && (*end || v < 1 || v > 4096))
            return sl_set_error(SL_ERR_INVALID, "SCILOOP_THREADS='%s': expected an integer in 1..4096", t);
        threads = v > 0 ? (int)v : online_cpus();
    }

    sl_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return sl_set_error(SL_ERR_NOMEM, "sl_ctx_create: out of memory");
    ctx->state.threads = threads;
    ctx->state.deterministic = o.deterministic;
    ctx->state.gpu_index = o.gpu_index;
    ctx->state.workspace_bytes = o.workspace_bytes;
    ctx->seed = o.seed;

    sl_status st = SL_ERR_INTERNAL;
    if (want == SL_DEVICE_CUDA || want == SL_DEVICE_AUTO) {
        st = sli_backend_for(SL_DEVICE_CUDA, o.gpu_index, &ctx->be, ctx->desc, sizeof ctx->desc);
        if (st != SL_OK && want == SL_DEVICE_CUDA) {
            sl_set_error(st, "CUDA device requested (%s) but unusable: %s",
                         env && *env ? "SCILOOP_DEVICE=cuda" : "SL_DEVICE_CUDA", sl_last_error());
            free(ctx);
            return st;
        }
        if (st != SL_OK) sl_clear_error(); /* auto: silent CPU fallback */
    }
    if (st != SL_OK) {
        st = sli_backend_for(SL_DEVICE_CPU, 0, &ctx->be, ctx->desc, sizeof ctx->desc);
        if (st != SL_OK) { free(ctx); return st; }
    }
    ctx->device = ctx->be->device;
    st = ctx->be->stream_create(&ctx->state, &ctx->stream);
    if (st != SL_OK) { free(ctx); return st; }
    if (ctx->device == SL_DEVICE_CPU) {
        size_t len = strlen(ctx->desc);
        snprintf(ctx->desc + len, sizeof ctx->desc - len, ", %d thread%s", threads, threads == 1 ? "" : "s");
    }
    *out = ctx;
    return SL_OK;
}

SL_API void sl_ctx_destroy(sl_ctx *ctx) {
    if (!ctx) return;
    ctx->be->stream_destroy(ctx->stream);
    free(ctx);
}

SL_API sl_device sl_ctx_device(const sl_ctx *ctx) { SL_ASSERT(ctx); return ctx->device; }

SL_API const char *sl_ctx_describe(const sl_ctx *ctx) { SL_ASSERT(ctx); return ctx->desc; }

SL_API sl_status sl_ctx_set_threads(sl_ctx *ctx, int threads) {
    SL_ASSERT(ctx);
    if (threads < 1 || threads > 4096)
        return sl_set_error(SL_ERR_RANGE, "sl_ctx_set_threads: %d threads (expected 1..4096)", threads);
    if (threads == ctx->state.threads) return SL_OK;
    ctx->state.threads = threads;
    return ctx->be->stream_threads_changed(ctx->stream);
}

SL_API int sl_ctx_threads(const sl_ctx *ctx) { SL_ASSERT(ctx); return ctx->state.threads; }

SL_API void sl_ctx_set_deterministic(sl_ctx *ctx, bool on) { SL_ASSERT(ctx); ctx->state.deterministic = on; }

SL_API bool sl_ctx_deterministic(const sl_ctx *ctx) { SL_ASSERT(ctx); return ctx->state.deterministic; }

SL_API sl_status sl_ctx_synchronize(sl_ctx *ctx) { SL_ASSERT(ctx); return ctx->be->synchronize(ctx->stream); }

SL_API void sl_ctx_seed(sl_ctx *ctx, uint64_t seed) {
    SL_ASSERT(ctx);
    ctx->seed = seed;
    ctx->rng_counter = 0;
}

SL_API uint64_t sl_ctx_rng_advance(sl_ctx *ctx, uint64_t n) {
    SL_ASSERT(ctx);
    uint64_t first = ctx->rng_counter;
    /* Keep every reservation aligned to a Philox block of 4 words, so two reservations never
     * share a block and a backend may generate whole blocks. */
    ctx->rng_counter += (n + 3) & ~(uint64_t)3;
    return first;
}

SL_API uint64_t sl_ctx_rng_seed(const sl_ctx *ctx) { SL_ASSERT(ctx); return ctx->seed; }

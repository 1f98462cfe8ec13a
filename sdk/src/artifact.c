/* artifact.c — artifact type table, content hashing of files and directories, atomic file writes. */
#define _GNU_SOURCE
#include <sciloop/artifact.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"

typedef struct {
    const char *name;
    int is_dir;
    const char *ext;
} type_info;

static const type_info types[] = {
    {"documents", 0, ".jsonl"}, {"graph", 0, ".graphml"}, {"table", 0, ".csv"},
    {"tensors", 0, ".safetensors"}, {"model", 1, ""}, {"design", 1, ""},
    {"report", 1, ""}, {"file", 0, ""}, {"dir", 1, ""},
};

static const type_info *find_type(const char *type) {
    if (!type) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, type) == 0) return &types[i];
    return NULL;
}

SL_API int sl_artifact_type_known(const char *type) {
    return find_type(type) != NULL || (type && strcmp(type, "any") == 0);
}

SL_API int sl_artifact_type_is_dir(const char *type) {
    const type_info *t = find_type(type);
    return t ? t->is_dir : 0;
}

SL_API const char *sl_artifact_type_ext(const char *type) {
    const type_info *t = find_type(type);
    return t ? t->ext : "";
}

SL_API int sl_artifact_types_compatible(const char *from, const char *to) {
    if (!from || !to) return 0;
    if (strcmp(to, "any") == 0 || strcmp(from, to) == 0) return 1;
    if (strcmp(from, "any") == 0) return 1; /* checked again when the artifact exists */
    const type_info *f = find_type(from);
    if (!f) return 0;
    if (strcmp(to, "file") == 0) return !f->is_dir;
    if (strcmp(to, "dir") == 0) return f->is_dir;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static void to_hex(const unsigned char *d, unsigned n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

SL_API void sl_sha256_hex(const void *data, size_t len, char hex[SL_HASH_HEX_SIZE]) {
    sli_sha256 c;
    uint8_t md[32];
    sli_sha256_init(&c);
    sli_sha256_update(&c, data, len);
    sli_sha256_final(&c, md);
    to_hex(md, 32, hex);
}

static sl_status hash_file(const char *path, char hex[SL_HASH_HEX_SIZE]) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sl_set_error(SL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    sli_sha256 md;
    sli_sha256_init(&md);
    unsigned char buf[1 << 16];
    sl_status st = SL_OK;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            st = sl_set_error(SL_ERR_IO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        sli_sha256_update(&md, buf, (size_t)r);
    }
    close(fd);
    if (st == SL_OK) {
        uint8_t out[32];
        sli_sha256_final(&md, out);
        to_hex(out, 32, hex);
    }
    return st;
}

/* Growable list of "relpath\0kind\0hash\n" records for a directory hash. */
typedef struct {
    char **items;
    size_t n, cap;
} strlist;

static int strlist_push(strlist *l, char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **p = realloc(l->items, cap * sizeof *p);
        if (!p) return -1;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct file_hasher {
    sl_file_hash_fn fn;
    void *user;
} file_hasher;

static sl_status collect(const char *root, const char *rel, strlist *out, int depth, const file_hasher *fh) {
    if (depth > 64) return sl_set_error(SL_ERR_IO, "%s/%s: directory nesting deeper than 64", root, rel);
    char dirpath[PATH_MAX];
    snprintf(dirpath, sizeof dirpath, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dirpath);
    if (!d) return sl_set_error(SL_ERR_IO, "%s: cannot open directory: %s", dirpath, strerror(errno));
    sl_status st = SL_OK;
    struct dirent *e;
    while (st == SL_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char childrel[PATH_MAX], child[PATH_MAX];
        if (snprintf(childrel, sizeof childrel, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof childrel ||
            snprintf(child, sizeof child, "%s/%s", root, childrel) >= (int)sizeof child) {
            st = sl_set_error(SL_ERR_IO, "%s/%s: path too long", dirpath, e->d_name);
            break;
        }
        struct stat sb;
        if (lstat(child, &sb) != 0) {
            st = sl_set_error(SL_ERR_IO, "%s: cannot stat: %s", child, strerror(errno));
            break;
        }
        char hex[SL_HASH_HEX_SIZE];
        const char *kind;
        if (S_ISDIR(sb.st_mode)) {
            kind = "d";
            hex[0] = '\0';
            st = collect(root, childrel, out, depth + 1, fh);
            if (st != SL_OK) break;
        } else if (S_ISREG(sb.st_mode)) {
            kind = (sb.st_mode & S_IXUSR) ? "x" : "f";
            st = fh->fn ? fh->fn(fh->user, child, &sb, hex) : hash_file(child, hex);
            if (st != SL_OK) break;
        } else if (S_ISLNK(sb.st_mode)) {
            kind = "l";
            char target[PATH_MAX];
            ssize_t n = readlink(child, target, sizeof target - 1);
            if (n < 0) {
                st = sl_set_error(SL_ERR_IO, "%s: cannot read link: %s", child, strerror(errno));
                break;
            }
            sl_sha256_hex(target, (size_t)n, hex);
        } else {
            st = sl_set_error(SL_ERR_IO, "%s: not a regular file, directory or link", child);
            break;
        }
        size_t need = strlen(childrel) + strlen(kind) + strlen(hex) + 4;
        char *rec = malloc(need);
        if (!rec) {
            st = sl_set_error(SL_ERR_NOMEM, "out of memory hashing %s", root);
            break;
        }
        /* NUL separators make "a/b" + "c" differ from "a" + "/bc". */
        size_t l1 = strlen(childrel), l2 = strlen(kind), l3 = strlen(hex);
        memcpy(rec, childrel, l1);
        rec[l1] = '\0';
        memcpy(rec + l1 + 1, kind, l2);
        rec[l1 + 1 + l2] = '\0';
        memcpy(rec + l1 + 2 + l2, hex, l3);
        rec[l1 + 2 + l2 + l3] = '\n';
        rec[l1 + 3 + l2 + l3] = '\0'; /* so strlen of the last part stops after the '\n' */
        /* records are compared by their relative path (the first NUL-terminated part) */
        if (strlist_push(out, rec) != 0) {
            free(rec);
            st = sl_set_error(SL_ERR_NOMEM, "out of memory hashing %s", root);
        }
    }
    closedir(d);
    return st;
}

SL_API sl_status sl_artifact_hash_ex(const char *path, sl_file_hash_fn fn, void *user, char hex[SL_HASH_HEX_SIZE]) {
    if (!path) return sl_set_error(SL_ERR_INVALID, "no path to hash");
    struct stat sb;
    if (stat(path, &sb) != 0) return sl_set_error(SL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return fn && S_ISREG(sb.st_mode) ? fn(user, path, &sb, hex) : hash_file(path, hex);
    file_hasher fh = {fn, user};
    strlist l = {0};
    sl_status st = collect(path, "", &l, 0, &fh);
    if (st == SL_OK) {
        qsort(l.items, l.n, sizeof *l.items, cmp_str);
        sli_sha256 md;
        sli_sha256_init(&md);
        sli_sha256_update(&md, "sciloop-dir-1\n", 14);
        for (size_t i = 0; i < l.n; i++) {
            const char *r = l.items[i];
            /* path NUL kind NUL hash LF; l3 counts the hash and its LF */
            size_t l1 = strlen(r), l2 = strlen(r + l1 + 1), l3 = strlen(r + l1 + l2 + 2);
            sli_sha256_update(&md, r, l1 + l2 + l3 + 2);
        }
        uint8_t out[32];
        sli_sha256_final(&md, out);
        to_hex(out, 32, hex);
    }
    for (size_t i = 0; i < l.n; i++) free(l.items[i]);
    free(l.items);
    return st;
}

SL_API sl_status sl_artifact_hash(const char *path, char hex[SL_HASH_HEX_SIZE]) {
    return sl_artifact_hash_ex(path, NULL, NULL, hex);
}

/* ------------------------------------------------------------------------------------------ */

SL_API sl_status sl_write_file_atomic(const char *path, const void *data, size_t len) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return sl_set_error(SL_ERR_IO, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return sl_set_error(SL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return sl_set_error(SL_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_set_error(SL_ERR_IO, "%s: cannot flush: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_set_error(SL_ERR_IO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return SL_OK;
}

SL_API sl_status sl_read_file(const char *path, size_t max_bytes, char **data_out, size_t *len_out) {
    *data_out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sl_set_error(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        close(fd);
        return sl_set_error(SL_ERR_IO, "%s: not a readable file", path);
    }
    size_t cap = sb.st_size > 0 ? (size_t)sb.st_size + 1 : 4096, len = 0;
    if (max_bytes && (size_t)sb.st_size > max_bytes) {
        close(fd);
        return sl_set_error(SL_ERR_RANGE, "%s: %lld bytes, more than the limit of %zu", path, (long long)sb.st_size, max_bytes);
    }
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return sl_set_error(SL_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (max_bytes && len > max_bytes) {
                free(buf);
                close(fd);
                return sl_set_error(SL_ERR_RANGE, "%s: larger than the limit of %zu bytes", path, max_bytes);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            return sl_set_error(SL_ERR_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (max_bytes && len > max_bytes) {
        free(buf);
        return sl_set_error(SL_ERR_RANGE, "%s: larger than the limit of %zu bytes", path, max_bytes);
    }
    buf[len] = '\0';
    *data_out = buf;
    if (len_out) *len_out = len;
    return SL_OK;
}

/* table.c — RFC 4180 CSV tables: a strict reader with line/column errors and an atomic writer. */
#define _GNU_SOURCE
#include <sciloop/artifact.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sl_table {
    char *name;      /* file name for messages */
    char *cells_buf; /* all cell texts, NUL-separated */
    size_t n_cols, n_rows;
    char **cells;    /* (n_rows + 1) * n_cols pointers into cells_buf; row 0 = header */
    size_t *lines;   /* source line where each row (header included) starts */
};

SL_API void sl_table_destroy(sl_table *t) {
    if (!t) return;
    free(t->name);
    free(t->cells_buf);
    free(t->cells);
    free(t->lines);
    free(t);
}

/* Append-only growable arrays used while parsing. */
typedef struct {
    size_t *offs;   /* cell start offsets into the output buffer */
    size_t n, cap;
    size_t *lines;  /* line of each row */
    size_t nrows, rcap;
} parse_state;

static int push_off(parse_state *ps, size_t off) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 256;
        size_t *p = realloc(ps->offs, cap * sizeof *p);
        if (!p) return -1;
        ps->offs = p;
        ps->cap = cap;
    }
    ps->offs[ps->n++] = off;
    return 0;
}

static int push_line(parse_state *ps, size_t line) {
    if (ps->nrows == ps->rcap) {
        size_t cap = ps->rcap ? ps->rcap * 2 : 64;
        size_t *p = realloc(ps->lines, cap * sizeof *p);
        if (!p) return -1;
        ps->lines = p;
        ps->rcap = cap;
    }
    ps->lines[ps->nrows++] = line;
    return 0;
}

SL_API sl_status sl_table_parse(const char *name, const char *text, size_t len, sl_table **out) {
    *out = NULL;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF) {
        text += 3;
        len -= 3;
    }
    /* Every cell's text is at most its source bytes plus a NUL, so len + rows + cells bounds it;
     * use len * 2 + 1 to cover the worst case of one NUL per input byte. */
    char *buf = malloc(len * 2 + 2);
    parse_state ps = {0};
    sl_status st = SL_OK;
    if (!buf) return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", name);
    size_t o = 0, i = 0, line = 1, col = 1;
    size_t n_cols = 0, row_fields = 0;
    int at_row_start = 1;
    while (i < len || !at_row_start) {
        if (at_row_start) {
            /* a blank line at the very end (or trailing newlines) ends the table */
            if (text[i] == '\n' || (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
                size_t j = i;
                while (j < len && (text[j] == '\n' || text[j] == '\r')) j++;
                if (j == len) break;
                st = sl_set_error(SL_ERR_PARSE, "%s:%zu:1: empty line; expected %zu comma-separated fields", name, line, n_cols);
                goto fail;
            }
            if (push_line(&ps, line) != 0) goto nomem;
            at_row_start = 0;
            row_fields = 0;
        }
        /* one field */
        if (push_off(&ps, o) != 0) goto nomem;
        size_t field_line = line, field_col = col;
        if (i < len && text[i] == '"') {
            i++;
            col++;
            for (;;) {
                if (i >= len) {
                    st = sl_set_error(SL_ERR_PARSE, "%s:%zu:%zu: quoted field never closed; expected '\"'", name, field_line, field_col);
                    goto fail;
                }
                char c = text[i];
                if (c == '"') {
                    if (i + 1 < len && text[i + 1] == '"') {
                        buf[o++] = '"';
                        i += 2;
                        col += 2;
                        continue;
                    }
                    i++;
                    col++;
                    break;
                }
                if (c == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
                buf[o++] = c;
                i++;
            }
            if (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                st = sl_set_error(SL_ERR_PARSE, "%s:%zu:%zu: unexpected '%c' after closing quote; expected ',' or end of line", name, line, col, text[i]);
                goto fail;
            }
        } else {
            while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                if (text[i] == '"') {
                    st = sl_set_error(SL_ERR_PARSE, "%s:%zu:%zu: '\"' inside an unquoted field; quote the whole field", name, line, col);
                    goto fail;
                }
                buf[o++] = text[i++];
                col++;
            }
        }
        buf[o++] = '\0';
        row_fields++;
        if (i < len && text[i] == ',') {
            i++;
            col++;
            continue;
        }
        /* end of row: \n, \r\n, lone \r, or end of input */
        if (i < len && text[i] == '\r') i++;
        if (i < len && text[i] == '\n') i++;
        if (ps.nrows == 1) {
            n_cols = row_fields;
        } else if (row_fields != n_cols) {
            st = sl_set_error(SL_ERR_PARSE, "%s:%zu: %zu fields; expected %zu as in the header", name, ps.lines[ps.nrows - 1], row_fields, n_cols);
            goto fail;
        }
        line++;
        col = 1;
        at_row_start = 1;
    }
    if (ps.nrows == 0) {
        st = sl_set_error(SL_ERR_PARSE, "%s:1:1: empty file; expected a header row", name);
        goto fail;
    }
    sl_table *t = calloc(1, sizeof *t);
    if (!t) goto nomem;
    t->name = strdup(name);
    t->cells_buf = buf;
    t->n_cols = n_cols;
    t->n_rows = ps.nrows - 1;
    t->cells = malloc(ps.n * sizeof *t->cells);
    t->lines = ps.lines;
    if (!t->name || !t->cells) {
        t->lines = NULL;
        sl_table_destroy(t);
        buf = NULL;
        goto nomem;
    }
    for (size_t k = 0; k < ps.n; k++) t->cells[k] = buf + ps.offs[k];
    free(ps.offs);
    for (size_t c = 0; c < n_cols; c++)
        for (size_t c2 = 0; c2 < c; c2++)
            if (strcmp(t->cells[c], t->cells[c2]) == 0) {
                sl_set_error(SL_ERR_PARSE, "%s:1: column name '%s' appears twice; header names must be unique", name, t->cells[c]);
                sl_table_destroy(t);
                return SL_ERR_PARSE;
            }
    *out = t;
    return SL_OK;
nomem:
    st = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", name);
fail:
    free(buf);
    free(ps.offs);
    free(ps.lines);
    return st;
}

SL_API sl_status sl_table_read(const char *path, sl_table **out) {
    char *text;
    size_t len;
    *out = NULL;
    sl_status st = sl_read_file(path, 0, &text, &len);
    if (st != SL_OK) return st;
    st = sl_table_parse(path, text, len, out);
    free(text);
    return st;
}

SL_API size_t sl_table_rows(const sl_table *t) { return t->n_rows; }
SL_API size_t sl_table_cols(const sl_table *t) { return t->n_cols; }

SL_API const char *sl_table_col_name(const sl_table *t, size_t col) {
    SL_ASSERT(col < t->n_cols);
    return t->cells[col];
}

SL_API long sl_table_find_col(const sl_table *t, const char *name) {
    for (size_t c = 0; c < t->n_cols; c++)
        if (strcmp(t->cells[c], name) == 0) return (long)c;
    return -1;
}

SL_API const char *sl_table_cell(const sl_table *t, size_t row, size_t col) {
    SL_ASSERT(row < t->n_rows && col < t->n_cols);
    return t->cells[(row + 1) * t->n_cols + col];
}

SL_API size_t sl_table_row_line(const sl_table *t, size_t row) {
    SL_ASSERT(row < t->n_rows);
    return t->lines[row + 1];
}

SL_API sl_status sl_table_cell_double(const sl_table *t, size_t row, size_t col, double *out) {
    const char *s = sl_table_cell(t, row, col);
    const char *p = s;
    while (*p == ' ' || *p == '\t') p++;
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*p == '\0' || *end != '\0' || end == p)
        return sl_set_error(SL_ERR_INVALID, "%s:%zu: column '%s', row %zu: '%s' is not a number",
                            t->name, sl_table_row_line(t, row), t->cells[col], row + 1, s);
    if (!isfinite(v))
        return sl_set_error(SL_ERR_INVALID, "%s:%zu: column '%s', row %zu: '%s' is not finite; expected a finite number",
                            t->name, sl_table_row_line(t, row), t->cells[col], row + 1, s);
    *out = v;
    return SL_OK;
}

/* ------------------------------------------------------------------------------------------ */

struct sl_csv_writer {
    FILE *f;
    char *path, *tmp;
    int committed;
};

SL_API sl_status sl_csv_open(const char *path, sl_csv_writer **out) {
    *out = NULL;
    sl_csv_writer *w = calloc(1, sizeof *w);
    if (!w) return sl_set_error(SL_ERR_NOMEM, "out of memory");
    w->path = strdup(path);
    if (!w->path || asprintf(&w->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        w->tmp = NULL;
        sl_csv_destroy(w);
        return sl_set_error(SL_ERR_NOMEM, "out of memory");
    }
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        sl_status st = sl_set_error(SL_ERR_IO, "%s: cannot create: %s", w->tmp, strerror(errno));
        sl_csv_destroy(w);
        return st;
    }
    *out = w;
    return SL_OK;
}

SL_API sl_status sl_csv_write_row(sl_csv_writer *w, const char *const *fields, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *s = fields[i] ? fields[i] : "";
        size_t l = strlen(s);
        int quote = strpbrk(s, ",\"\r\n") != NULL || (l > 0 && (s[0] == ' ' || s[l - 1] == ' '));
        if (i) fputc(',', w->f);
        if (!quote) {
            fwrite(s, 1, l, w->f);
            continue;
        }
        fputc('"', w->f);
        for (const char *p = s; *p; p++) {
            if (*p == '"') fputc('"', w->f);
            fputc(*p, w->f);
        }
        fputc('"', w->f);
    }
    fputc('\n', w->f);
    if (ferror(w->f)) return sl_set_error(SL_ERR_IO, "%s: write failed", w->path);
    return SL_OK;
}

SL_API sl_status sl_csv_commit(sl_csv_writer *w) {
    if (w->committed) return SL_OK;
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
        return sl_set_error(SL_ERR_IO, "%s: cannot flush: %s", w->path, strerror(errno));
    if (fclose(w->f) != 0) {
        w->f = NULL;
        return sl_set_error(SL_ERR_IO, "%s: cannot close: %s", w->path, strerror(errno));
    }
    w->f = NULL;
    if (rename(w->tmp, w->path) != 0)
        return sl_set_error(SL_ERR_IO, "%s: cannot rename into place: %s", w->path, strerror(errno));
    w->committed = 1;
    return SL_OK;
}

SL_API void sl_csv_destroy(sl_csv_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    if (!w->committed && w->tmp) unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    free(w);
}

SL_API char *sl_format_double(double v, char buf[32]) {
    if (isnan(v)) return strcpy(buf, "nan");
    if (isinf(v)) return strcpy(buf, v > 0 ? "inf" : "-inf");
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

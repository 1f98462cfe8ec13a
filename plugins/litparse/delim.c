/* delim.c — delimited exports (CSV, TSV, PSV) with a column mapping to documents, one row per document. */
#include "parsers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_LINE ((size_t)64 << 20)

/* Document fields a column can fill. */
enum { F_ID, F_PMID, F_DOI, F_PMCID, F_ARXIV, F_TITLE, F_ABSTRACT, F_YEAR, F_DATE, F_AUTHORS, F_VENUE, F_KEYWORDS,
       F_LANGUAGE, F_URL, F_VOLUME, F_ISSUE, F_PAGES, F_TYPE, F_MESH, F_NFIELDS };
static const char *const field_names[F_NFIELDS] = {"id", "pmid", "doi", "pmcid", "arxiv", "title", "abstract", "year", "date", "authors",
                                                   "venue", "keywords", "language", "url", "volume", "issue", "pages", "type", "mesh"};

static int field_of(const char *name, size_t n) {
    static const struct { const char *alias; int f; } aliases[] = {
        {"journal", F_VENUE}, {"source", F_VENUE}, {"ti", F_TITLE}, {"ab", F_ABSTRACT}, {"dp", F_YEAR}, {"au", F_AUTHORS},
        {"author", F_AUTHORS}, {"pubmed_id", F_PMID}, {"pmc", F_PMCID}, {"publication_year", F_YEAR}, {"py", F_YEAR},
        {"keyword", F_KEYWORDS}, {"lang", F_LANGUAGE}, {"la", F_LANGUAGE}, {"so", F_VENUE}, {"jt", F_VENUE},
        {"mh", F_MESH}, {"lid", F_DOI}};
    for (int i = 0; i < F_NFIELDS; i++)
        if (strlen(field_names[i]) == n && lp_strnieq(name, field_names[i], n)) return i;
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strlen(aliases[i].alias) == n && lp_strnieq(name, aliases[i].alias, n)) return aliases[i].f;
    return -1;
}

typedef struct reader {
    lp_source *src;
    char *buf;
    size_t n, pos, cap;
    int eof;
    size_t max;
    uint64_t offset;  /* byte offset of the line start */
    long line;        /* 1-based number of the line being returned */
} reader;

/* Next physical line (without the line end) into `out`; 1, 0 at the end, -1 on error. */
static int next_line(reader *r, lp_buf *out) {
    out->n = 0;
    for (;;) {
        char *nl = r->pos < r->n ? memchr(r->buf + r->pos, '\n', r->n - r->pos) : NULL;
        size_t take = nl ? (size_t)(nl - (r->buf + r->pos)) : r->n - r->pos;
        if (out->n + take > r->max) {
            sl_set_error(SL_ERR_RANGE, "%s:%ld: line longer than the %zu MiB limit", lp_source_name(r->src), r->line + 1, r->max >> 20);
            return -1;
        }
        if (lp_buf_add(out, r->buf + r->pos, take) != 0) {
            sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", lp_source_name(r->src));
            return -1;
        }
        r->pos += take;
        if (nl) {
            r->pos++;
            break;
        }
        if (r->eof) {
            if (out->n == 0) return 0;
            break;
        }
        long k = lp_source_read(r->src, r->buf, r->cap);
        if (k < 0) return -1;
        r->n = (size_t)k;
        r->pos = 0;
        if (k == 0) r->eof = 1;
    }
    if (out->n && out->p[out->n - 1] == '\r') out->p[--out->n] = '\0';
    r->line++;
    return 1;
}

/* Split a record into fields (in place in `line`, NUL-separated). Quotes are honoured for ',' and
 * ';' (RFC 4180: "" inside quotes is one quote); a quoted field may continue over lines, which are
 * read from `r`. Returns the field count, or -1 on error. */
static int split(reader *r, lp_buf *line, char delim, char ***fields, size_t *cap) {
    int quotes = delim == ',' || delim == ';';
    size_t nf = 0;
    lp_buf rec = {0};
    size_t i = 0;
    char *o;
    /* work on a copy so quoted multi-line records can grow */
    if (lp_buf_add(&rec, line->p, line->n) != 0) return -1;
    lp_buf more = {0};
    size_t *starts = NULL, scap = 0;
    o = rec.p;
    size_t outpos = 0;
    int st = 0;
    for (;;) {
        if (nf == scap) {
            scap = scap ? scap * 2 : 16;
            size_t *ns = realloc(starts, scap * sizeof *starts);
            if (!ns) {
                st = -1;
                break;
            }
            starts = ns;
        }
        starts[nf++] = outpos;
        if (quotes && i < rec.n && rec.p[i] == '"') {
            i++;
            for (;;) {
                if (i >= rec.n) {
                    /* the quoted field continues on the next line */
                    int k = next_line(r, &more);
                    if (k <= 0) {
                        if (k == 0) sl_set_error(SL_ERR_PARSE, "%s:%ld: unterminated quoted field", lp_source_name(r->src), r->line);
                        st = -1;
                        break;
                    }
                    size_t ooff = (size_t)(o - rec.p);
                    if (lp_buf_addc(&rec, '\n') != 0 || lp_buf_add(&rec, more.p, more.n) != 0) {
                        st = -1;
                        break;
                    }
                    o = rec.p + ooff;
                    continue;
                }
                if (rec.p[i] == '"') {
                    if (i + 1 < rec.n && rec.p[i + 1] == '"') {
                        *o++ = '"';
                        outpos++;
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *o++ = rec.p[i++];
                outpos++;
            }
            if (st) break;
            /* text after the closing quote up to the delimiter is kept */
        }
        while (i < rec.n && rec.p[i] != delim) {
            *o++ = rec.p[i++];
            outpos++;
        }
        *o++ = '\0';
        outpos++;
        if (i >= rec.n) break;
        i++; /* delimiter */
    }
    lp_buf_free(&more);
    if (st) {
        free(starts);
        lp_buf_free(&rec);
        return -1;
    }
    /* hand the record back through `line` (owned by the caller) */
    lp_buf_free(line);
    *line = rec;
    if (nf > *cap) {
        char **nfp = realloc(*fields, nf * sizeof **fields);
        if (!nfp) {
            free(starts);
            return -1;
        }
        *fields = nfp;
        *cap = nf;
    }
    for (size_t k = 0; k < nf; k++) (*fields)[k] = line->p + starts[k];
    free(starts);
    return (int)nf;
}

static int is_null(const char *s) {
    while (lp_is_space((unsigned char)*s)) s++;
    if (!*s) return 1;
    return !strcmp(s, "NULL") || !strcmp(s, "\\N") || !strcmp(s, "null");
}

static int parse_mapping(lp_ctx *c, const char *spec, char **header, int nheader, int map[F_NFIELDS]) {
    for (int i = 0; i < F_NFIELDS; i++) map[i] = -1;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *eq = p;
        while (*eq && *eq != '=' && *eq != ',') eq++;
        if (*eq != '=') {
            sl_set_error(SL_ERR_INVALID, "%s: columns mapping '%s': expected field=column, e.g. 'pmid=0,year=1,title=2,abstract=3'", c->file, spec);
            return -1;
        }
        const char *ke = eq;
        while (ke > p && ke[-1] == ' ') ke--;
        int f = field_of(p, (size_t)(ke - p));
        if (f < 0) {
            sl_set_error(SL_ERR_INVALID, "%s: columns mapping: unknown field '%.*s' (known: id, pmid, doi, pmcid, arxiv, title, abstract, "
                                         "year, date, authors, venue, keywords, language, url, volume, issue, pages, type, mesh)",
                         c->file, (int)(ke - p), p);
            return -1;
        }
        const char *v = eq + 1;
        while (*v == ' ') v++;
        const char *ve = v;
        while (*ve && *ve != ',') ve++;
        const char *vt = ve;
        while (vt > v && vt[-1] == ' ') vt--;
        int col = -1;
        int digits = vt > v;
        for (const char *q = v; q < vt; q++) digits &= isdigit((unsigned char)*q) != 0;
        if (digits) {
            col = atoi(v);
        } else if (header) {
            for (int k = 0; k < nheader; k++)
                if (strlen(header[k]) == (size_t)(vt - v) && lp_strnieq(header[k], v, (size_t)(vt - v))) col = k;
            if (col < 0) {
                sl_set_error(SL_ERR_INVALID, "%s: columns mapping: the header has no column '%.*s'", c->file, (int)(vt - v), v);
                return -1;
            }
        } else {
            sl_set_error(SL_ERR_INVALID, "%s: columns mapping: '%.*s' is not a column number and the file has no header row", c->file,
                         (int)(vt - v), v);
            return -1;
        }
        map[f] = col;
        p = ve;
    }
    return 0;
}

static char guess_from_name(const char *name) {
    size_t n = strlen(name);
    if (n > 3 && lp_strieq(name + n - 3, ".gz")) n -= 3;
    if (n > 4 && lp_strnieq(name + n - 4, ".tsv", 4)) return '\t';
    if (n > 4 && lp_strnieq(name + n - 4, ".tab", 4)) return '\t';
    if (n > 4 && lp_strnieq(name + n - 4, ".psv", 4)) return '|';
    if (n > 4 && lp_strnieq(name + n - 4, ".csv", 4)) return ',';
    return 0;
}

static char guess_from_line(const char *s, size_t n) {
    static const char c[] = {'\t', '|', ',', ';'};
    for (size_t k = 0; k < sizeof c; k++)
        if (memchr(s, c[k], n)) return c[k];
    return 0;
}

static sl_status row_doc(lp_ctx *c, lp_arena *a, char **f, int nf, const int map[F_NFIELDS], long row, long line) {
    lp_doc *d = lp_doc_new(a, c->file, c->format, row);
    if (!d) return lp_ctx_arena_fail(c, a, (unsigned)line);
    d->src_key = lp_arena_printf(a, "line%ld", line);
    const char *v[F_NFIELDS] = {0};
    for (int i = 0; i < F_NFIELDS; i++)
        if (map[i] >= 0 && map[i] < nf && !is_null(f[map[i]])) v[i] = lp_arena_norm(a, f[map[i]], strlen(f[map[i]]));
    d->pmid = lp_pmid_norm(a, v[F_PMID]);
    if (v[F_PMID] && !d->pmid) lp_ctx_note(c, "%s:%ld: '%s' is not a PMID; ignored", c->file, line, v[F_PMID]);
    d->doi = lp_doi_norm(a, v[F_DOI]);
    d->pmcid = lp_pmcid_norm(a, v[F_PMCID]);
    d->arxiv = v[F_ARXIV];
    d->title = v[F_TITLE];
    d->venue = v[F_VENUE];
    d->language = lp_lang_norm(a, v[F_LANGUAGE]);
    d->url = v[F_URL];
    d->volume = v[F_VOLUME];
    d->issue = v[F_ISSUE];
    d->pages = v[F_PAGES];
    d->type = v[F_TYPE];
    if (v[F_ID] && !d->pmid && !d->doi) d->src_key = v[F_ID];
    if (v[F_YEAR]) {
        int y = lp_first_year(v[F_YEAR]);
        if (y) d->year = y;
        else lp_ctx_note(c, "%s:%ld: year '%s' has no 4-digit year; ignored", c->file, line, v[F_YEAR]);
        if (y && lp_doc_add_date(a, d, "published", y, 0, 0) != 0) return lp_ctx_arena_fail(c, a, (unsigned)line);
    }
    if (v[F_DATE]) {
        const char *s = v[F_DATE];
        int y = lp_first_year(s);
        int m = strlen(s) >= 7 && s[4] == '-' ? atoi(s + 5) : 0;
        int day = strlen(s) >= 10 && s[7] == '-' ? atoi(s + 8) : 0;
        if (y && lp_doc_add_date(a, d, "published", y, m, day) != 0) return lp_ctx_arena_fail(c, a, (unsigned)line);
        if (!d->year) d->year = y;
    }
    if (v[F_AUTHORS]) {
        /* "Smith J; Doe A" or "Smith, John; Doe, Ann" */
        const char *p = v[F_AUTHORS];
        while (*p) {
            const char *q = p;
            while (*q && *q != ';') q++;
            char *nm = lp_arena_norm(a, p, (size_t)(q - p));
            if (nm) {
                lp_author *au = lp_doc_add_author(a, d);
                if (!au) return lp_ctx_arena_fail(c, a, (unsigned)line);
                char *comma = strchr(nm, ',');
                if (comma) {
                    *comma = '\0';
                    au->family = nm;
                    au->given = lp_arena_norm(a, comma + 1, strlen(comma + 1));
                } else {
                    char *sp = strrchr(nm, ' ');
                    /* PubMed style "Smith JA": family first, initials last */
                    if (sp && strlen(sp + 1) <= 3 && isupper((unsigned char)sp[1])) {
                        *sp = '\0';
                        au->family = nm;
                        au->given = sp + 1;
                    } else if (sp) {
                        *sp = '\0';
                        au->given = nm;
                        au->family = sp + 1;
                    } else {
                        au->family = nm;
                    }
                }
            }
            p = *q ? q + 1 : q;
        }
    }
    if (v[F_KEYWORDS] || v[F_MESH]) {
        for (int which = 0; which < 2; which++) {
            const char *p = which ? v[F_MESH] : v[F_KEYWORDS];
            while (p && *p) {
                const char *q = p;
                while (*q && *q != ';') q++;
                char *k = lp_arena_norm(a, p, (size_t)(q - p));
                if (k) {
                    if (which) {
                        lp_mesh *me = lp_doc_add_mesh(a, d);
                        if (!me) return lp_ctx_arena_fail(c, a, (unsigned)line);
                        if (*k == '*') me->major = 1, k++;
                        me->descriptor = k;
                    } else if (lp_doc_add_str(a, &d->keywords, &d->nkeywords, &d->keywords_cap, k) != 0) {
                        return lp_ctx_arena_fail(c, a, (unsigned)line);
                    }
                }
                p = *q ? q + 1 : q;
            }
        }
    }
    if (v[F_ABSTRACT]) {
        lp_section *s = lp_doc_add_section(a, &d->abstract, &d->nabstract, &d->abstract_cap);
        if (!s || !lp_section_add_para(a, s, v[F_ABSTRACT], strlen(v[F_ABSTRACT]), &c->spans))
            return lp_ctx_arena_fail(c, a, (unsigned)line);
    }
    if (d->pmid) d->item_type = "journalArticle";
    return lp_ctx_emit(c, a, d);
}

sl_status lp_parse_delimited(lp_ctx *c, lp_source *src) {
    reader r = {0};
    r.src = src;
    r.cap = 256 * 1024;
    r.max = c->opts && c->opts->max_file_bytes ? c->opts->max_file_bytes : DEFAULT_MAX_LINE;
    if (r.max > DEFAULT_MAX_LINE) r.max = DEFAULT_MAX_LINE;
    r.buf = malloc(r.cap);
    if (!r.buf) return sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", c->file);
    lp_buf line = {0};
    char **fields = NULL;
    size_t fcap = 0;
    char **header = NULL;
    int nheader = 0;
    int map[F_NFIELDS];
    int have_map = 0, expect = 0;
    char delim = c->opts ? c->opts->delimiter : 0;
    if (!delim) delim = guess_from_name(c->file);
    lp_arena a;
    lp_arena_init(&a, c->opts && c->opts->max_record_bytes ? c->opts->max_record_bytes : (size_t)256 << 20);
    sl_status st = SL_OK;
    long row = 0;
    uint64_t offset = 0;
    for (;;) {
        int k = next_line(&r, &line);
        if (k < 0) {
            st = sl_last_status();
            break;
        }
        if (k == 0) break;
        size_t tail, bad = lp_utf8_check((const unsigned char *)line.p, line.n, 0, &tail);
        if (bad < line.n) {
            st = sl_set_error(SL_ERR_PARSE, "%s:%ld: invalid UTF-8 at byte offset %llu (byte 0x%02X)", c->file, r.line,
                              (unsigned long long)(offset + bad), (unsigned char)line.p[bad]);
            break;
        }
        offset += line.n + 1;
        size_t vis = 0;
        while (vis < line.n && lp_is_space((unsigned char)line.p[vis])) vis++;
        if (vis == line.n) continue; /* blank line */
        if (!delim) delim = guess_from_line(line.p, line.n);
        if (!delim) delim = '\t';
        long first_line = r.line;
        int nf = split(&r, &line, delim, &fields, &fcap);
        if (nf < 0) {
            st = sl_last_status() != SL_OK ? sl_last_status() : sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", c->file);
            break;
        }
        if (!have_map) {
            /* a header row names known fields in most of its cells */
            int known = 0;
            for (int i = 0; i < nf; i++) known += field_of(fields[i], strlen(fields[i])) >= 0;
            int is_header = c->opts && c->opts->header >= 0 ? c->opts->header : (known > 0 && known * 2 >= nf);
            if (is_header) {
                header = calloc((size_t)nf, sizeof *header);
                if (!header) {
                    st = sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", c->file);
                    break;
                }
                for (int i = 0; i < nf; i++) header[i] = strdup(fields[i]);
                nheader = nf;
            }
            const char *spec = c->opts ? c->opts->columns : NULL;
            if (spec && *spec) {
                if (parse_mapping(c, spec, header, nheader, map) != 0) {
                    st = sl_last_status();
                    break;
                }
            } else if (header) {
                for (int i = 0; i < F_NFIELDS; i++) map[i] = -1;
                for (int i = 0; i < nheader; i++) {
                    int f = field_of(header[i], strlen(header[i]));
                    if (f >= 0 && map[f] < 0) map[f] = i;
                }
            } else {
                st = sl_set_error(SL_ERR_INVALID,
                                  "%s:%ld: no header row naming the columns and no column mapping; set the 'columns' param, "
                                  "e.g. columns=pmid=0,year=1,title=2,abstract=3",
                                  c->file, first_line);
                break;
            }
            int maxcol = -1;
            for (int i = 0; i < F_NFIELDS; i++) maxcol = map[i] > maxcol ? map[i] : maxcol;
            if (maxcol < 0) {
                st = sl_set_error(SL_ERR_INVALID, "%s: the column mapping names no column", c->file);
                break;
            }
            expect = header ? nheader : maxcol + 1;
            have_map = 1;
            if (header) continue;
        }
        if (nf > expect && expect > 0) {
            /* the delimiter occurs inside the last column (an abstract with '|'): rejoin it */
            char *lastf = fields[expect - 1];
            for (int i = expect; i < nf; i++) fields[i][-1] = delim;
            fields[expect - 1] = lastf;
            nf = expect;
            lp_ctx_note(c, "%s:%ld: more fields than columns; the extra delimiters were kept as text of the last column", c->file,
                        first_line);
        }
        c->record = row;
        st = row_doc(c, &a, fields, nf, map, row, first_line);
        lp_arena_reset(&a);
        row++;
        if (st != SL_OK) break;
    }
    for (int i = 0; i < nheader; i++) free(header[i]);
    free(header);
    free(fields);
    lp_buf_free(&line);
    free(r.buf);
    lp_arena_free(&a);
    return st;
}

/* test_bibtex_agreement.c — parses every BibTeX file of the shared corpus and measures agreement with
 * Zotero's import of the same files (the .expected.json beside each), field by field.
 *
 * Compared per Zotero item, matched to our entry by citation key:
 *   title     — text equality after normalisation (NFKC, case folding, HTML tags and every
 *               character that is not a letter or digit removed), since Zotero re-cases titles
 *               and marks up sub/superscripts; ours is lp_bib_entry_title (title: subtitle. addon).
 *   creators  — every creator as (family, given), same normalisation but keeping word boundaries,
 *               compared as a multiset over all name-list fields plus the first creator exactly;
 *               our family includes the von part, and given carries ", Jr." as Zotero's does;
 *               a list ending "and others" (our et_al) matches Zotero's creator named "others".
 *   doi       — case-insensitive, "https://doi.org/" and "doi:" prefixes removed; Zotero keeps the
 *               DOI of item types without a DOI field in "extra" ("DOI: ..."); both absent agrees.
 *   year      — the 4-digit year of Zotero's date vs lp_bib_entry_year; both absent agrees.
 *   itemtype  — lp_bib_item_type vs Zotero's itemType.
 * Every disagreement is printed; the test fails if any field's agreement drops below its floor. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <strings.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "bibtex.h"
#include "sl_test.h"

/* Agreement floors in per-mille (measured values; raise them when the parser improves). */
#define FLOOR_TITLE 994
#define FLOOR_CREATORS 980
#define FLOOR_DOI 987
#define FLOOR_YEAR 1000
#define FLOOR_ITEMTYPE 994

enum { F_TITLE, F_CREATORS, F_DOI, F_YEAR, F_TYPE, NF };
static const char *const FNAMES[NF] = {"title", "creators", "doi", "year", "itemtype"};
static const int FLOORS[NF] = {FLOOR_TITLE, FLOOR_CREATORS, FLOOR_DOI, FLOOR_YEAR, FLOOR_ITEMTYPE};
static long agree[NF], total[NF];

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) { char *nb = realloc(b, cap *= 2); if (!nb) { free(b); b = NULL; } else b = nb; }
    }
    fclose(f);
    *len = n;
    return b;
}

/* Normalise for comparison: strip <tags>, NFKC + case fold; keep only letters and digits, with
 * one space between runs when `spaces` is set. Caller frees. */
static char *norm(const char *s, int spaces)
{
    if (!s) return strdup("");
    size_t n = strlen(s), k = 0;
    char *notags = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<') {
            const char *gt = strchr(s + i, '>');
            if (gt && (s[i + 1] == '/' || (s[i + 1] >= 'a' && s[i + 1] <= 'z'))) { i = (size_t)(gt - s); continue; }
        }
        notags[k++] = s[i];
    }
    notags[k] = '\0';
    utf8proc_uint8_t *m = NULL;
    utf8proc_ssize_t ml = utf8proc_map((const utf8proc_uint8_t *)notags, (utf8proc_ssize_t)k, &m,
                                       UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
    free(notags);
    if (ml < 0) return strdup(s);
    char *out = malloc((size_t)ml + 1);
    size_t o = 0;
    int gap = 0;
    for (utf8proc_ssize_t i = 0; i < ml;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t l = utf8proc_iterate(m + i, ml - i, &cp);
        if (l <= 0) break;
        utf8proc_category_t c = utf8proc_category(cp);
        int keep = (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
                   (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) ||
                   (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME);
        if (keep) {
            if (gap && spaces && o) out[o++] = ' ';
            gap = 0;
            memcpy(out + o, m + i, (size_t)l);
            o += (size_t)l;
        } else {
            gap = 1;
        }
        i += l;
    }
    out[o] = '\0';
    free(m);
    return out;
}

static char *citation_key(json_t *item)
{
    const char *k = json_string_value(json_object_get(item, "citationKey"));
    if (k) return strdup(k);
    json_t *extra = json_object_get(item, "extra");
    const char *pfx = "Citation Key: ";
    if (json_is_array(extra)) {
        for (size_t i = 0; i < json_array_size(extra); i++) {
            const char *l = json_string_value(json_array_get(extra, i));
            if (l && strncmp(l, pfx, strlen(pfx)) == 0) return strdup(l + strlen(pfx));
        }
    } else if (json_is_string(extra)) {
        const char *l = strstr(json_string_value(extra), pfx);
        if (l) {
            l += strlen(pfx);
            size_t e = strcspn(l, "\n");
            return strndup(l, e);
        }
    }
    return NULL;
}

static void report(const char *file, const char *key, int field, int ok, const char *ours, const char *theirs)
{
    total[field]++;
    if (ok) { agree[field]++; return; }
    printf("DISAGREE %-9s %s [%s]\n    ours:   %s\n    zotero: %s\n", FNAMES[field], file, key ? key : "?",
           ours ? ours : "(none)", theirs ? theirs : "(none)");
}

static char *doi_norm(const char *d)
{
    if (!d) return NULL;
    const char *pfx[] = {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"};
    for (size_t i = 0; i < 5; i++)
        if (strncasecmp(d, pfx[i], strlen(pfx[i])) == 0) d += strlen(pfx[i]);
    char *o = strdup(d);
    for (char *c = o; *c; c++) if (*c >= 'A' && *c <= 'Z') *c += 32;
    size_t l = strlen(o);
    while (l && (o[l - 1] == ' ' || o[l - 1] == '.')) o[--l] = '\0';
    return o;
}

static int year_of(const char *s)
{
    if (!s) return 0;
    for (const char *c = s; *c; c++) {
        if (c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' && c[2] <= '9' &&
            c[3] >= '0' && c[3] <= '9' && !(c[4] >= '0' && c[4] <= '9') && (c == s || !(c[-1] >= '0' && c[-1] <= '9')))
            return atoi(c);
    }
    return 0;
}

/* "family|given; family|given; ..." for our names (von joined to family, suffix to given):
 * authors first, then every other name list in field order except `holder` (a patent's
 * assignee, which Zotero does not count as a creator). */
static void our_creators(const lp_bib_entry *e, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++)
    for (size_t l = 0; l < e->nnames; l++) {
        int is_author = strcmp(e->names[l].field, "author") == 0;
        if (is_author != (pass == 0) || strcmp(e->names[l].field, "holder") == 0) continue;
        for (size_t i = 0; i < e->names[l].n; i++) {
            const lp_bib_name *nm = &e->names[l].names[i];
            char fam[1024], giv[1024];
            snprintf(fam, sizeof fam, "%s%s%s", nm->von ? nm->von : "", nm->von ? " " : "", nm->family);
            snprintf(giv, sizeof giv, "%s%s%s", nm->given ? nm->given : "", nm->suffix ? ", " : "",
                     nm->suffix ? nm->suffix : "");
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s|%s", o ? "; " : "", fam, giv);
            if (o >= cap) return;
        }
        /* "and others": Zotero keeps a creator named "others" where we set et_al */
        if (e->names[l].et_al)
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%sothers|", o ? "; " : "");
        if (o >= cap) return;
    }
}

static void their_creators(json_t *item, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    json_t *cr = json_object_get(item, "creators");
    for (size_t i = 0; i < json_array_size(cr); i++) {
        json_t *c = json_array_get(cr, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *fam = name ? name : json_string_value(json_object_get(c, "lastName"));
        const char *giv = name ? "" : json_string_value(json_object_get(c, "firstName"));
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s|%s", o ? "; " : "", fam ? fam : "",
                              giv ? giv : "");
        if (o >= cap) return;
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Split "a|b; c|d" into normalised names ("a b"); returns the count (at most cap). */
static size_t split_names(const char *s, char **out, size_t cap)
{
    size_t n = 0;
    while (*s && n < cap) {
        const char *e = strstr(s, "; ");
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char *one = strndup(s, len);
        char *bar = strchr(one, '|');
        if (bar) *bar = ' ';
        out[n++] = norm(one, 1);
        free(one);
        s += len + (e ? 2 : 0);
    }
    return n;
}

/* Same multiset of names, and the same first name. */
static int creators_equal(const char *a, const char *b)
{
    char *na[512], *nb[512];
    size_t ca = split_names(a, na, 512), cb = split_names(b, nb, 512);
    int eq = ca == cb && (ca == 0 || strcmp(na[0], nb[0]) == 0);
    qsort(na, ca, sizeof *na, cmp_str);
    qsort(nb, cb, sizeof *nb, cmp_str);
    for (size_t k = 0; eq && k < ca; k++) eq = strcmp(na[k], nb[k]) == 0;
    for (size_t k = 0; k < ca; k++) free(na[k]);
    for (size_t k = 0; k < cb; k++) free(nb[k]);
    return eq;
}

/* Zotero's DOI: the field, or a "DOI: ..." line of extra. */
static const char *their_doi(json_t *item)
{
    const char *d = json_string_value(json_object_get(item, "DOI"));
    if (d) return d;
    json_t *extra = json_object_get(item, "extra");
    for (size_t i = 0; json_is_array(extra) && i < json_array_size(extra); i++) {
        const char *l = json_string_value(json_array_get(extra, i));
        if (l && strncmp(l, "DOI: ", 5) == 0) return l + 5;
    }
    return NULL;
}

int main(void)
{
    const char *shared = getenv("SCILOOP_SHARED_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus/bibtex", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "skipped: %s not found (set SCILOOP_SHARED_DIR)\n", dir);
        return SL_TEST_SKIP;
    }
    char *names[512];
    size_t nfiles = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL && nfiles < 512;) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".bib") == 0) names[nfiles++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nfiles, sizeof *names, cmp_str);
    CHECK_EQ_INT(nfiles, 59);
    size_t nentries = 0, nerrors = 0, nwarnings = 0, nitems = 0, nnotes = 0, notes_matched = 0;
    for (size_t fi = 0; fi < nfiles; fi++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[fi]);
        size_t len;
        char *text = read_file(path, &len);
        CHECK_MSG(text != NULL, "cannot read %s", path);
        if (!text) continue;
        lp_bib *bib = NULL;
        sl_status st = lp_bib_parse(text, len, names[fi], NULL, &bib);
        CHECK_MSG(st == SL_OK && bib, "%s: %s", names[fi], sl_last_error());
        free(text);
        if (!bib) continue;
        nentries += bib->nentries;
        for (size_t k = 0; k < bib->ndiags; k++) {
            if (bib->diags[k].is_error) nerrors++; else nwarnings++;
            printf("%s %s\n", bib->diags[k].is_error ? "ERROR  " : "warning", bib->diags[k].message);
        }
        char exp[8192];
        snprintf(exp, sizeof exp, "%s/%.*s.expected.json", dir, (int)(strlen(names[fi]) - 4), names[fi]);
        json_error_t jerr;
        json_t *root = json_load_file(exp, 0, &jerr);
        if (root) {
            json_t *items = json_object_get(root, "items");
            char *used = calloc(bib->nentries + 1, 1);
            for (size_t i = 0; i < json_array_size(items); i++) {
                json_t *it = json_array_get(items, i);
                const char *itype = json_string_value(json_object_get(it, "itemType"));
                if (itype && strcmp(itype, "note") == 0) {
                    /* Zotero's report of import errors: we must have diagnosed the file too */
                    nnotes++;
                    if (bib->ndiags) notes_matched++;
                    else printf("DISAGREE errors    %s: Zotero reports an import error, we report none\n",
                                names[fi]);
                    continue;
                }
                nitems++;
                char *key = citation_key(it);
                const lp_bib_entry *e = NULL;
                for (size_t k = 0; key && k < bib->nentries && !e; k++)
                    if (strcmp(bib->entries[k].key, key) == 0) e = &bib->entries[k];
                /* an entry without a key gets one invented by Zotero: match the next keyless one */
                for (size_t k = 0; !e && k < bib->nentries; k++)
                    if (!used[k] && bib->entries[k].key[0] == '\0') e = &bib->entries[k];
                if (e) used[e - bib->entries] = 1;
                /* title */
                const char *tt = json_string_value(json_object_get(it, "title"));
                char *ours = e ? lp_bib_entry_title(e) : NULL;
                char *a = norm(ours, 0), *b = norm(tt, 0);
                report(names[fi], key, F_TITLE, e && strcmp(a, b) == 0, ours, tt);
                free(a); free(b); free(ours);
                /* creators */
                char oc[16384], tc[16384];
                if (e) our_creators(e, oc, sizeof oc); else oc[0] = '\0';
                their_creators(it, tc, sizeof tc);
                report(names[fi], key, F_CREATORS, e && creators_equal(oc, tc), e ? oc : NULL, tc);
                /* doi */
                char *od = e ? doi_norm(lp_bib_entry_get(e, "doi")) : NULL;
                char *td = doi_norm(their_doi(it));
                report(names[fi], key, F_DOI, e && ((!od && !td) || (od && td && strcmp(od, td) == 0)), od, td);
                free(od); free(td);
                /* year */
                int oy = e ? lp_bib_entry_year(e) : 0;
                int ty = year_of(json_string_value(json_object_get(it, "date")));
                char oys[16], tys[16];
                snprintf(oys, sizeof oys, "%d", oy);
                snprintf(tys, sizeof tys, "%d", ty);
                report(names[fi], key, F_YEAR, e && oy == ty, oys, tys);
                /* item type */
                const char *ot = e ? lp_bib_item_type(e) : NULL;
                const char *tt2 = json_string_value(json_object_get(it, "itemType"));
                report(names[fi], key, F_TYPE, e && ot && tt2 && strcmp(ot, tt2) == 0, ot, tt2);
                free(key);
            }
            free(used);
            json_decref(root);
        }
        lp_bib_destroy(bib);
        free(names[fi]);
    }
    printf("\n%zu files, %zu entries, %zu errors, %zu warnings; %zu Zotero items compared\n", nfiles,
           nentries, nerrors, nwarnings, nitems);
    printf("Zotero import-error notes: %zu, in files we also diagnose: %zu\n", nnotes, notes_matched);
    CHECK_EQ_INT(notes_matched, nnotes);
    for (int f = 0; f < NF; f++) {
        long pm = total[f] ? agree[f] * 1000 / total[f] : 0;
        printf("agreement %-9s %5ld / %5ld = %5.1f%%\n", FNAMES[f], agree[f], total[f],
               total[f] ? 100.0 * agree[f] / total[f] : 0.0);
        CHECK_MSG(pm >= FLOORS[f], "%s agreement %ld per mille is below the floor %d", FNAMES[f], pm, FLOORS[f]);
    }
    return SL_TEST_DONE();
}

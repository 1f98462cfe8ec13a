/* sciloop/artifact.h — artifact types and the helpers ops use to read and write them (CSV tables, atomic files, hashes). */
#ifndef SCILOOP_ARTIFACT_H
#define SCILOOP_ARTIFACT_H

/*
 * What flows along a workflow edge is an artifact: a file or a directory with a type.
 * The types and their on-disk formats are standard so users can open them with other tools:
 *
 *   type        shape  format
 *   documents   file   JSON Lines (.jsonl), one document per line (docs/documents-schema.md)
 *   graph       file   GraphML (.graphml)
 *   table       file   CSV, RFC 4180, header row (.csv)
 *   tensors     file   safetensors (.safetensors)
 *   model       dir    Hugging Face layout: config.json, model.safetensors, tokenizer files
 *   design      dir    design.csv (the matrix) + design.json (factors, levels, coding, seed)
 *   report      dir    report.json (verdicts) + report.md (human-readable)
 *   file        file   anything
 *   dir         dir    anything
 *
 * An input port of type "any" accepts every type. An output of type X may feed an input of
 * type X, "any", "file" (when X is file-shaped) or "dir" (when X is directory-shaped).
 */

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Non-zero if `type` is one of the standard artifact types above (or "any"). */
SL_API int sl_artifact_type_known(const char *type);

/* Non-zero if artifacts of `type` are directories (model, design, report, dir). */
SL_API int sl_artifact_type_is_dir(const char *type);

/* File-name extension used in the store for `type`, including the dot (".csv"), or "" for
 * directory-shaped types and "file". Static storage. */
SL_API const char *sl_artifact_type_ext(const char *type);

/* Non-zero if an output of type `from` may be connected to an input of type `to`. */
SL_API int sl_artifact_types_compatible(const char *from, const char *to);

/* ------------------------------------------------------------------------------------------ */
/* Hashing                                                                                    */

/* Length of a SHA-256 digest written as lower-case hex, plus the terminating NUL. */
#define SL_HASH_HEX_SIZE 65

/* SHA-256 of `len` bytes, as lower-case hex into `hex` (SL_HASH_HEX_SIZE bytes). */
SL_API void sl_sha256_hex(const void *data, size_t len, char hex[SL_HASH_HEX_SIZE]);

/* Content hash of an artifact on disk, as lower-case hex. For a file: SHA-256 of its bytes.
 * For a directory: SHA-256 over the sorted list of "<relative path>\0<kind>\0<file hash>\n"
 * of everything inside it (names, not mtimes or owners, so copies hash the same).
 * Symbolic links are hashed by their target text and never followed.
 * Returns SL_OK, or SL_ERR_IO with a message naming the path. */
SL_API sl_status sl_artifact_hash(const char *path, char hex[SL_HASH_HEX_SIZE]);

/* A function that hashes one regular file for sl_artifact_hash_ex: fills `hex` with the
 * SHA-256 of the file at `path` (lstat'ed as `st`, a struct stat *) and returns SL_OK. */
typedef sl_status (*sl_file_hash_fn)(void *user, const char *path, const void *st, char hex[SL_HASH_HEX_SIZE]);

/* sl_artifact_hash, with regular files hashed by `fn` (e.g. answering from a cache keyed by
 * file metadata). The result must equal sl_artifact_hash's when `fn` returns true hashes. */
SL_API sl_status sl_artifact_hash_ex(const char *path, sl_file_hash_fn fn, void *user, char hex[SL_HASH_HEX_SIZE]);

/* ------------------------------------------------------------------------------------------ */
/* Atomic files                                                                               */

/* Write `len` bytes to `path` atomically: a temporary file in the same directory, fsync, then
 * rename over `path`. Readers see the old content or the new, never a mix. */
SL_API sl_status sl_write_file_atomic(const char *path, const void *data, size_t len);

/* Read a whole file into a NUL-terminated malloc'd buffer (caller frees). `*len_out` (may be
 * NULL) receives the length without the NUL. Refuses files larger than `max_bytes`
 * (0 = no limit) with SL_ERR_RANGE. */
SL_API sl_status sl_read_file(const char *path, size_t max_bytes, char **data_out, size_t *len_out);

/* ------------------------------------------------------------------------------------------ */
/* Tables (CSV, RFC 4180, header row)                                                         */

typedef struct sl_table sl_table;

/* Parse a CSV file with a header row. Fields may be quoted ("a ""b"", c"), quoted fields may
 * span lines, CRLF and LF are both accepted, a UTF-8 BOM is skipped. Every row must have as
 * many fields as the header. On failure returns SL_ERR_PARSE/SL_ERR_IO and sets a message
 * "path:line:col: ..." naming what was expected. The caller owns *out (sl_table_destroy). */
SL_API sl_status sl_table_read(const char *path, sl_table **out);

/* Same, from memory; `name` is used in messages in place of the path. */
SL_API sl_status sl_table_parse(const char *name, const char *text, size_t len, sl_table **out);

/* Free a table; NULL is a no-op. */
SL_API void sl_table_destroy(sl_table *table);

/* Number of data rows (the header excluded) and of columns. */
SL_API size_t sl_table_rows(const sl_table *table);
SL_API size_t sl_table_cols(const sl_table *table);

/* Name of column `col` (from the header). */
SL_API const char *sl_table_col_name(const sl_table *table, size_t col);

/* Index of the column named `name`, or -1. */
SL_API long sl_table_find_col(const sl_table *table, const char *name);

/* Text of cell (row, col), unquoted; "" for an empty field. Row 0 is the first data row. */
SL_API const char *sl_table_cell(const sl_table *table, size_t row, size_t col);

/* Line number in the source file where data row `row` starts (1-based; header is line 1). */
SL_API size_t sl_table_row_line(const sl_table *table, size_t row);

/* Cell as a finite double. Returns SL_ERR_INVALID with a message naming the table, column,
 * row and line when the text is empty, not a number, or NaN/Inf. */
SL_API sl_status sl_table_cell_double(const sl_table *table, size_t row, size_t col, double *out);

/* A CSV writer that publishes atomically: rows go to a temporary file; sl_csv_commit renames
 * it over the destination. Destroying an uncommitted writer deletes the temporary file. */
typedef struct sl_csv_writer sl_csv_writer;

/* Open a writer for `path`. The caller owns *out. */
SL_API sl_status sl_csv_open(const char *path, sl_csv_writer **out);

/* Write one row of `n` fields, quoting those that need it (comma, quote, CR, LF, or leading/
 * trailing space). NULL fields are written empty. */
SL_API sl_status sl_csv_write_row(sl_csv_writer *w, const char *const *fields, size_t n);

/* Flush, fsync and rename into place. The writer stays to be destroyed. */
SL_API sl_status sl_csv_commit(sl_csv_writer *w);

/* Free the writer; deletes the temporary file if not committed. NULL is a no-op. */
SL_API void sl_csv_destroy(sl_csv_writer *w);

/* Format a double so that it reads back to the same value (shortest "%.17g"-class form that
 * round-trips), into `buf` of at least 32 bytes. Returns buf. */
SL_API char *sl_format_double(double v, char buf[32]);

#ifdef __cplusplus
}
#endif
#endif /* SCILOOP_ARTIFACT_H */

/* store.h — the work directory: content-addressed artifact store, the journal that doubles as the cache index, the run lock. */
#ifndef SCILOOP_ENGINE_STORE_H
#define SCILOOP_ENGINE_STORE_H

#include <stdint.h>

#include <sciloop/artifact.h>

#include "../base/base.h"

/*
 * Layout of a work directory (default .sciloop/):
 *   lock                 flock()ed by the run using it
 *   journal              append-only, one line per finished step (the cache index)
 *   hashes               append-only memo of input files' content hashes by metadata
 *   store/ab/<hash><ext> artifacts, named by the SHA-256 of their content (immutable)
 *   store/packs/<name>.pack  small artifacts an op gave from memory, appended one after another
 *                        (one pack per run that made any); the journal says where each is.
 *                        They become files under store/ab/ when something asks for the path.
 *                        Each entry: "SLPK", u32 0, u64 size (little-endian), the 32-byte
 *                        SHA-256, then the bytes.
 *   tmp/                 staging areas of running steps (emptied when a run starts)
 *   runs/<run-id>/       per-run trace.tsv, logs/, plan and events
 */

/* One finished step, as the journal records it. */
typedef struct st_output {
    const char *port, *type;
    char hash[SL_HASH_HEX_SIZE];
    uint64_t size;
    const char *pack;       /* NULL: a file in the store; else the pack (file name) holding it */
    uint64_t offset;        /* where its entry starts in the pack */
} st_output;

typedef struct st_record {
    const char *key;        /* SHA-256 hex of `parts` */
    const char *step;       /* step id */
    const char *op;         /* "plugin.op" */
    const char *parts;      /* the text the key hashes, one part per line */
    double time;            /* wall-clock seconds when recorded */
    double wall;            /* how long the step ran */
    st_output *outputs;
    size_t n_outputs;
    const char **value_names, **value_texts;
    size_t n_values;
} st_record;

typedef struct st_store st_store;

/* Open (creating if needed) the work directory and take its lock; load the journal. Fails
 * with a clear message if another sciloop process holds the lock. */
sl_status st_open(const char *workdir, st_store **out);

/* Open read-only, without the lock (for `why`, `status`). */
sl_status st_open_readonly(const char *workdir, st_store **out);

void st_close(st_store *s);

const char *st_root(const st_store *s);     /* absolute path of the work directory */
const char *st_tmp_dir(const st_store *s);  /* holds ST_STAGING_FOLDERS folders named 0..f */
#define ST_STAGING_FOLDERS 16
const char *st_objects_dir(const st_store *s);

/* Record for a cache key whose outputs are all present in the store, or NULL. */
const st_record *st_lookup(st_store *s, const char *key);

/* Most recent record of a step id (whatever its key), or NULL. Records appended by this
 * process have an empty `parts`; those loaded from the journal have it. */
const st_record *st_latest_for_step(const st_store *s, const char *step);

/* Add a record (deep-copied) to the in-memory index at once, and to the journal file at the
 * next st_flush (records are buffered: a kill before then only means those steps run again).
 * Thread-safe. */
sl_status st_append(st_store *s, const st_record *r);

/* The journal line st_append writes for a record, into `out` (cleared first). Touches no
 * store state: any thread may format records ahead of appending them with st_append_line. */
void st_format_record(const st_record *r, sli_buf *out);

/* st_append with the line st_format_record(r) made. */
sl_status st_append_line(st_store *s, const st_record *r, const char *line, size_t len);

/* Write buffered pack entries, then buffered records. The engine calls it after each batch of
 * finished steps; a thread of the store fsyncs them within 50 ms. */
sl_status st_flush(st_store *s);

/* Flush and fsync now. */
sl_status st_sync(st_store *s);

/* Content hash of an input file or folder given by path. Regular files whose size, times,
 * inode and device match an earlier hashing (done at least 2 s after the file last changed)
 * are answered from the work directory's memo (`hashes`) instead of being read again; new
 * hashes are added to the memo (unless the store is read-only). Main thread only. */
sl_status st_input_hash(st_store *s, const char *path, char hex[SL_HASH_HEX_SIZE]);

/* Path of an object in a store folder (no check that it exists); malloc'd. */
char *st_object_path(const char *objects_dir, const char *hash, const char *type);

/* Hash a staged output and move it into the objects folder (atomically, by rename; if an
 * identical object already exists the staged copy is removed). Usable from a worker process
 * that does not hold the store open. `*path_out` (malloc'd) is the object's path. */
sl_status st_commit_object(const char *objects_dir, const char *staged, const char *type,
                           char hash[SL_HASH_HEX_SIZE], uint64_t *size_out, char **path_out);

/* Largest artifact kept in a pack rather than as a file of its own. */
#define ST_PACK_MAX (64u << 10)

/* Append a small artifact (its content's SHA-256 already computed) to this run's pack, and
 * make its object path (st_object_path) resolvable by st_materialise. Thread-safe. `*pack`
 * (owned by the store) and `*offset` are what st_output records. */
sl_status st_pack_put(st_store *s, const void *data, size_t len, const char hash[SL_HASH_HEX_SIZE], const char *type,
                      const char **pack, uint64_t *offset);

/* Make a path in the store exist as a file if it names a packed artifact (reading it back from
 * its pack, checking its hash, writing the file atomically). Any other path is left alone.
 * Thread-safe; the signature fits sl_op_ctx.materialise. */
sl_status st_materialise(void *store, const char *path);

#endif

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
 *   tmp/                 staging areas of running steps (emptied when a run starts)
 *   runs/<run-id>/       per-run trace.tsv, logs/, plan and events
 */

/* One finished step, as the journal records it. */
typedef struct st_output {
    const char *port, *type;
    char hash[SL_HASH_HEX_SIZE];
    uint64_t size;
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

/* Most recent record of a step id (whatever its key), or NULL. */
const st_record *st_latest_for_step(const st_store *s, const char *step);

/* Append a record (deep-copied) to the journal and the in-memory index. Thread-safe. The
 * journal is fsync'd in groups: at most every 50 ms, and by st_sync. */
sl_status st_append(st_store *s, const st_record *r);

/* fsync the journal now. */
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

#endif

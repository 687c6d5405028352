/* SPDX-License-Identifier: MIT
 * The composition store: one directory per composition holding a tree of nodes (top-level
 * codes of each path), their decoded audio, upsampled windows, and the jobs journal. Every
 * file is written atomically (temp, fsync, rename, fsync dir); a file that is not complete is
 * never seen. Thread-safe; never holds its lock across file I/O.
 */
#ifndef CN_STORE_H
#define CN_STORE_H

#include <stddef.h>
#include <stdint.h>

#define CN_STORE_ID 64

typedef struct cn_store cn_store;

typedef struct cn_store_sampling {
    int n;
    float temperature;
    int top_k;
    float top_p;
    uint64_t seed;
    double seconds;      /* continuation length the candidates were sampled with */
} cn_store_sampling;

typedef struct cn_store_comp {
    char id[CN_STORE_ID];
    char root[CN_STORE_ID];
    char artist[256];
    char genres[16][256];
    int n_genres;
    char *lyrics;        /* owned by the store */
    double total_seconds;
} cn_store_comp;

typedef struct cn_store_node {
    char id[CN_STORE_ID];
    char parent[CN_STORE_ID];   /* "" for a root */
    char comp[CN_STORE_ID];
    int64_t n_codes;            /* top-level codes of the whole path */
    int64_t from_code;          /* where this node's own (sampled) codes start */
    cn_store_sampling made_with;  /* how this node was sampled (candidates) */
    cn_store_sampling children_with; /* the last batch of children (for rerun) */
    int index;                  /* place among the parent's children */
} cn_store_node;

/* Opens (creating) the store at dir and loads its index; leftover temp files are removed.
 * Returns 0, or -1 with err naming the path and the system's reason. */
int cn_store_open(cn_store **s, const char *dir, char *err, size_t errlen);
void cn_store_close(cn_store **s);
const char *cn_store_dir(const cn_store *s);

/* Writes path (inside the store) atomically from up to two buffers. 0 or -1 with err
 * ("store: cannot write .../c1/n3.codes: No space left on device"). */
int cn_store_write_atomic(const char *path, const void *a, size_t na, const void *b,
                          size_t nb, char *err, size_t errlen);
/* Reads a whole file; *data malloc'd. 0 or -1 with err. */
int cn_store_read_file(const char *path, void **data, size_t *n, char *err, size_t errlen);

/* A new composition with its root node (the prompt's codes). comp->id and comp->root are set
 * on success. */
int cn_store_new_composition(cn_store *s, cn_store_comp *comp, const int32_t *codes,
                             int64_t n_codes, char *err, size_t errlen);
/* A new child of parent holding the whole path's codes; *node filled on success. */
int cn_store_add_node(cn_store *s, const char *parent, const int32_t *codes, int64_t n_codes,
                      int64_t from_code, const cn_store_sampling *made_with,
                      cn_store_node *node, char *err, size_t errlen);
/* Copies of index entries; 0, or -1 when unknown. */
int cn_store_get_node(cn_store *s, const char *id, cn_store_node *out);
int cn_store_get_comp(cn_store *s, const char *id, cn_store_comp *out);  /* lyrics: borrowed */
/* Children ids of a node in creation order; *ids malloc'd array of CN_STORE_ID strings. */
int cn_store_children(cn_store *s, const char *id, char (**ids)[CN_STORE_ID], int *n);
/* All node ids of a composition, or all composition ids (comp NULL). */
int cn_store_list(cn_store *s, const char *comp, char (**ids)[CN_STORE_ID], int *n);

int cn_store_node_codes(cn_store *s, const char *id, int32_t **codes, int64_t *n, char *err,
                        size_t errlen);

/* Decoded audio of a node at a level (2: the top-level decode of the whole path). */
int cn_store_put_audio(cn_store *s, const char *id, int level, const float *audio, int64_t n,
                       char *err, size_t errlen);
/* Level 2: that file; levels 1/0: the finished windows concatenated (all of them only when
 * the level is complete, else -1 "not upsampled"). *audio malloc'd. */
int cn_store_get_audio(cn_store *s, const char *id, int level, float **audio, int64_t *n,
                       char *err, size_t errlen);

/* Upsampled windows: window idx of level holds its new codes and their decoded audio. */
int cn_store_put_window(cn_store *s, const char *id, int level, int idx, const int32_t *codes,
                        int64_t n_codes, const float *audio, int64_t n_audio, char *err,
                        size_t errlen);
/* Windows 0..k-1 present: returns k. */
int cn_store_windows_done(cn_store *s, const char *id, int level);
int cn_store_get_window(cn_store *s, const char *id, int level, int idx, int32_t **codes,
                        int64_t *n_codes, float **audio, int64_t *n_audio, char *err,
                        size_t errlen);
/* Marks a level complete after its last window (count windows). */
int cn_store_finish_level(cn_store *s, const char *id, int level, int count, char *err,
                          size_t errlen);
/* Bit L set when level L audio is complete. */
uint32_t cn_store_levels(cn_store *s, const char *id);

/* Jobs journal: one JSON text per job id. */
uint64_t cn_store_next_job_id(cn_store *s, char *err, size_t errlen);   /* 0 on failure */
int cn_store_journal_put(cn_store *s, uint64_t job, const char *json, char *err,
                         size_t errlen);
int cn_store_journal_remove(cn_store *s, uint64_t job);
/* Calls fn for every journaled job in id order (at startup, to resume). */
int cn_store_journal_each(cn_store *s, void (*fn)(void *user, uint64_t job, const char *json),
                          void *user);

#endif

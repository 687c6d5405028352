/* SPDX-License-Identifier: MIT
 * The store's private state, shared by store*.c only. Nothing outside the store includes it.
 */
#ifndef CN_STORE_IMPL_H
#define CN_STORE_IMPL_H

#include <pthread.h>

#include "store.h"

struct cn_store {
    char dir[2048];
    pthread_mutex_t lock;        /* guards the index below, never held across file I/O */
    cn_store_comp *comps;
    int n_comps, cap_comps;
    cn_store_node *nodes;
    int n_nodes, cap_nodes;
    long next_comp;
    char reserved_comp[CN_STORE_ID];
    long reserved_num;
    uint64_t next_job;
};

void cn_store_path(const cn_store *s, char *buf, size_t len, const char *comp,
                   const char *name);
void cn_store_split(const char *id, char *comp, size_t len, long *k);
cn_store_node *cn_store_find_node(cn_store *s, const char *id);
void cn_store_journal_load(cn_store *s);

#endif

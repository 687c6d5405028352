/* SPDX-License-Identifier: MIT
 * The jobs journal: DIR/jobs/<id>.json per unfinished job and DIR/jobs/next_id, so a helper
 * killed at any moment resumes its jobs. Entries are written atomically, never edited in place.
 */
#define _GNU_SOURCE
#include "store_impl.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cn_store_journal_load(cn_store *s)
{
    char path[4096], err[256];
    void *txt;
    size_t len;
    snprintf(path, sizeof path, "%s/jobs/next_id", s->dir);
    s->next_job = 1;
    if (!cn_store_read_file(path, &txt, &len, err, sizeof err)) {
        s->next_job = strtoull(txt, NULL, 10);
        free(txt);
    }
    snprintf(path, sizeof path, "%s/jobs", s->dir);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strstr(de->d_name, ".tmp.")) {
            char full[4096];
            snprintf(full, sizeof full, "%.3800s/%.255s", path, de->d_name);
            unlink(full);
            continue;
        }
        uint64_t id = strtoull(de->d_name, NULL, 10);
        if (id >= s->next_job) s->next_job = id + 1;
    }
    if (d) closedir(d);
    if (s->next_job == 0) s->next_job = 1;
}

uint64_t cn_store_next_job_id(cn_store *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    uint64_t id = s->next_job++;
    pthread_mutex_unlock(&s->lock);
    char path[4096], txt[32];
    snprintf(path, sizeof path, "%s/jobs/next_id", s->dir);
    int n = snprintf(txt, sizeof txt, "%llu\n", (unsigned long long)(id + 1));
    if (cn_store_write_atomic(path, txt, (size_t)n, NULL, 0, err, errlen)) return 0;
    return id;
}

int cn_store_journal_put(cn_store *s, uint64_t job, const char *json, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/jobs/%llu.json", s->dir, (unsigned long long)job);
    return cn_store_write_atomic(path, json, strlen(json), NULL, 0, err, errlen);
}

int cn_store_journal_remove(cn_store *s, uint64_t job)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/jobs/%llu.prompt.f32", s->dir, (unsigned long long)job);
    unlink(path);
    snprintf(path, sizeof path, "%s/jobs/%llu.json", s->dir, (unsigned long long)job);
    return unlink(path);
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int cn_store_journal_each(cn_store *s, void (*fn)(void *user, uint64_t job, const char *json),
                          void *user)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/jobs", s->dir);
    DIR *d = opendir(path);
    if (!d) return -1;
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") || strstr(de->d_name, ".tmp.")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(ids, cap * sizeof *p);
            if (!p) break;
            ids = p;
        }
        ids[n++] = strtoull(de->d_name, NULL, 10);
    }
    closedir(d);
    if (n > 1) qsort(ids, n, sizeof *ids, s_cmp_u64);
    for (size_t i = 0; i < n; i++) {
        void *txt;
        size_t len;
        snprintf(path, sizeof path, "%s/jobs/%llu.json", s->dir, (unsigned long long)ids[i]);
        if (cn_store_read_file(path, &txt, &len, err, sizeof err)) continue;
        fn(user, ids[i], txt);
        free(txt);
    }
    free(ids);
    return 0;
}

/* SPDX-License-Identifier: MIT
 * The store's index of compositions and nodes, and their files: DIR/compositions/<comp>/
 * comp.json, <k>.json + <k>.codes per node, <k>.l<L>.* audio and windows. Node ids
 * "<comp>.<k>" are only ever turned into paths after they were found in the index.
 */
#define _GNU_SOURCE
#include "store_impl.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_mkdir(const char *p, char *err, size_t errlen)
{
    if (mkdir(p, 0755) && errno != EEXIST) {
        snprintf(err, errlen, "store: cannot create directory %s: %s", p, strerror(errno));
        return -1;
    }
    return 0;
}

void cn_store_path(const cn_store *s, char *buf, size_t len, const char *comp,
                   const char *name)
{
    snprintf(buf, len, "%s/compositions/%s/%s", s->dir, comp, name);
}

/* "<comp>.<k>" -> comp and k, for ids already in the index. */
void cn_store_split(const char *id, char *comp, size_t len, long *k)
{
    const char *dot = strrchr(id, '.');
    size_t n = dot ? (size_t)(dot - id) : strlen(id);
    if (n >= len) n = len - 1;
    memcpy(comp, id, n);
    comp[n] = 0;
    *k = dot ? strtol(dot + 1, NULL, 10) : 0;
}

static int s_json_write(const char *path, cJSON *j, char *err, size_t errlen)
{
    char *txt = cJSON_PrintUnformatted(j);
    if (!txt) {
        snprintf(err, errlen, "store: out of memory writing %s", path);
        return -1;
    }
    int rc = cn_store_write_atomic(path, txt, strlen(txt), "\n", 1, err, errlen);
    free(txt);
    return rc;
}

static cJSON *s_sampling_json(const cn_store_sampling *m)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", m->n);
    cJSON_AddNumberToObject(j, "temperature", m->temperature);
    cJSON_AddNumberToObject(j, "top_k", m->top_k);
    cJSON_AddNumberToObject(j, "top_p", m->top_p);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddNumberToObject(j, "seconds", m->seconds);
    return j;
}

static double s_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *s_strv(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void s_sampling_parse(const cJSON *j, cn_store_sampling *m)
{
    memset(m, 0, sizeof *m);
    if (!j) return;
    m->n = (int)s_num(j, "n");
    m->temperature = (float)s_num(j, "temperature");
    m->top_k = (int)s_num(j, "top_k");
    m->top_p = (float)s_num(j, "top_p");
    m->seed = strtoull(s_strv(j, "seed"), NULL, 10);
    m->seconds = s_num(j, "seconds");
}

/* Index entries grow by doubling; called with the lock held. */
static cn_store_node *s_push_node(cn_store *s)
{
    if (s->n_nodes == s->cap_nodes) {
        int cap = s->cap_nodes ? s->cap_nodes * 2 : 64;
        cn_store_node *p = realloc(s->nodes, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        s->nodes = p;
        s->cap_nodes = cap;
    }
    cn_store_node *n = &s->nodes[s->n_nodes++];
    memset(n, 0, sizeof *n);
    return n;
}

static cn_store_comp *s_push_comp(cn_store *s)
{
    if (s->n_comps == s->cap_comps) {
        int cap = s->cap_comps ? s->cap_comps * 2 : 16;
        cn_store_comp *p = realloc(s->comps, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        s->comps = p;
        s->cap_comps = cap;
    }
    cn_store_comp *c = &s->comps[s->n_comps++];
    memset(c, 0, sizeof *c);
    return c;
}

cn_store_node *cn_store_find_node(cn_store *s, const char *id)
{
    for (int i = 0; i < s->n_nodes; i++)
        if (!strcmp(s->nodes[i].id, id)) return &s->nodes[i];
    return NULL;
}

static cJSON *s_node_json(const cn_store_node *n)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", n->id);
    cJSON_AddStringToObject(j, "parent", n->parent);
    cJSON_AddNumberToObject(j, "n_codes", (double)n->n_codes);
    cJSON_AddNumberToObject(j, "from_code", (double)n->from_code);
    cJSON_AddNumberToObject(j, "index", n->index);
    cJSON_AddItemToObject(j, "made_with", s_sampling_json(&n->made_with));
    return j;
}

/* Loads one node's json into the index (lock held, at open). */
static void s_load_node(cn_store *s, const char *comp, const char *path)
{
    char err[256];
    void *txt;
    size_t len;
    if (cn_store_read_file(path, &txt, &len, err, sizeof err)) return;
    cJSON *j = cJSON_ParseWithLength(txt, len);
    free(txt);
    if (!j) return;
    cn_store_node *n = s_push_node(s);
    if (n) {
        snprintf(n->id, sizeof n->id, "%s", s_strv(j, "id"));
        snprintf(n->parent, sizeof n->parent, "%s", s_strv(j, "parent"));
        snprintf(n->comp, sizeof n->comp, "%.63s", comp);
        n->n_codes = (int64_t)s_num(j, "n_codes");
        n->from_code = (int64_t)s_num(j, "from_code");
        n->index = (int)s_num(j, "index");
        s_sampling_parse(cJSON_GetObjectItemCaseSensitive(j, "made_with"), &n->made_with);
        long k;
        char c[CN_STORE_ID];
        cn_store_split(n->id, c, sizeof c, &k);
        if (!n->id[0] || strcmp(c, comp)) s->n_nodes--;
    }
    cJSON_Delete(j);
}

static void s_load_comp(cn_store *s, const char *name)
{
    char path[4096], err[256];
    void *txt;
    size_t len;
    cn_store_path(s, path, sizeof path, name, "comp.json");
    if (cn_store_read_file(path, &txt, &len, err, sizeof err)) return;
    cJSON *j = cJSON_ParseWithLength(txt, len);
    free(txt);
    if (!j) return;
    cn_store_comp *c = s_push_comp(s);
    if (c) {
        snprintf(c->id, sizeof c->id, "%.63s", name);
        snprintf(c->root, sizeof c->root, "%s", s_strv(j, "root"));
        snprintf(c->artist, sizeof c->artist, "%s", s_strv(j, "artist"));
        c->lyrics = strdup(s_strv(j, "lyrics"));
        c->total_seconds = s_num(j, "total_seconds");
        const cJSON *g;
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(j, "genres")) {
            if (c->n_genres < 16 && cJSON_IsString(g))
                snprintf(c->genres[c->n_genres++], 256, "%s", g->valuestring);
        }
        long num = strtol(name + 1, NULL, 10);
        if (num >= s->next_comp) s->next_comp = num + 1;
    }
    cJSON_Delete(j);
    cn_store_path(s, path, sizeof path, name, "");
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char full[4096];
        snprintf(full, sizeof full, "%.3800s%.255s", path, de->d_name);
        if (strstr(de->d_name, ".tmp.")) { unlink(full); continue; }
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".json") && strcmp(de->d_name, "comp.json") &&
            !strchr(de->d_name, 'l'))
            s_load_node(s, name, full);
    }
    closedir(d);
}

static int s_cmp_node(const void *a, const void *b)
{
    const cn_store_node *x = a, *y = b;
    int c = strcmp(x->comp, y->comp);
    if (c) return c;
    long kx, ky;
    char t[CN_STORE_ID];
    cn_store_split(x->id, t, sizeof t, &kx);
    cn_store_split(y->id, t, sizeof t, &ky);
    return (kx > ky) - (kx < ky);
}

int cn_store_open(cn_store **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    cn_store *s = calloc(1, sizeof *s);
    if (!s) return -1;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    pthread_mutex_init(&s->lock, NULL);
    s->next_comp = 1;
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1; *c; c++)   /* parents first, like mkdir -p */
        if (*c == '/') { *c = 0; mkdir(p, 0755); *c = '/'; }
    int rc = s_mkdir(dir, err, errlen);
    snprintf(p, sizeof p, "%s/compositions", dir);
    if (!rc) rc = s_mkdir(p, err, errlen);
    snprintf(p, sizeof p, "%s/jobs", dir);
    if (!rc) rc = s_mkdir(p, err, errlen);
    if (rc) { cn_store_close(&s); return -1; }
    snprintf(p, sizeof p, "%s/compositions", dir);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] == 'c') s_load_comp(s, de->d_name);
    if (d) closedir(d);
    if (s->n_nodes > 1) qsort(s->nodes, (size_t)s->n_nodes, sizeof *s->nodes, s_cmp_node);
    for (int i = 0; i < s->n_nodes; i++) {   /* children_with: the last child's made_with */
        cn_store_node *par = cn_store_find_node(s, s->nodes[i].parent);
        if (par) par->children_with = s->nodes[i].made_with;
    }
    cn_store_journal_load(s);
    *out = s;
    return 0;
}

void cn_store_close(cn_store **sp)
{
    if (!sp || !*sp) return;
    cn_store *s = *sp;
    for (int i = 0; i < s->n_comps; i++) free(s->comps[i].lyrics);
    free(s->comps);
    free(s->nodes);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}

const char *cn_store_dir(const cn_store *s) { return s->dir; }

static long s_next_node_num(cn_store *s, const char *comp)
{
    long max = -1;
    for (int i = 0; i < s->n_nodes; i++) {
        if (strcmp(s->nodes[i].comp, comp)) continue;
        long k;
        char t[CN_STORE_ID];
        cn_store_split(s->nodes[i].id, t, sizeof t, &k);
        if (k > max) max = k;
    }
    long r = max + 1;
    if (r < s->reserved_num && !strcmp(s->reserved_comp, comp)) r = s->reserved_num;
    snprintf(s->reserved_comp, sizeof s->reserved_comp, "%s", comp);
    s->reserved_num = r + 1;
    return r;
}

/* Writes codes then json (the json marks the node complete) and indexes the node. */
static int s_write_node(cn_store *s, cn_store_node *n, const int32_t *codes, char *err,
                        size_t errlen)
{
    char path[4096], name[64];
    long k;
    char comp[CN_STORE_ID];
    cn_store_split(n->id, comp, sizeof comp, &k);
    snprintf(name, sizeof name, "%ld.codes", k);
    cn_store_path(s, path, sizeof path, comp, name);
    if (cn_store_write_atomic(path, codes, (size_t)n->n_codes * 4, NULL, 0, err, errlen))
        return -1;
    cJSON *j = s_node_json(n);
    snprintf(name, sizeof name, "%ld.json", k);
    cn_store_path(s, path, sizeof path, comp, name);
    int rc = s_json_write(path, j, err, errlen);
    cJSON_Delete(j);
    if (rc) return -1;
    pthread_mutex_lock(&s->lock);
    cn_store_node *slot = s_push_node(s);
    if (slot) *slot = *n;
    cn_store_node *par = cn_store_find_node(s, n->parent);
    if (par) par->children_with = n->made_with;
    pthread_mutex_unlock(&s->lock);
    if (!slot) snprintf(err, errlen, "store: out of memory indexing node %s", n->id);
    return slot ? 0 : -1;
}

int cn_store_new_composition(cn_store *s, cn_store_comp *c, const int32_t *codes,
                             int64_t n_codes, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    long num = s->next_comp++;
    pthread_mutex_unlock(&s->lock);
    snprintf(c->id, sizeof c->id, "c%ld", num);
    snprintf(c->root, sizeof c->root, "c%ld.0", num);
    char path[4096];
    cn_store_path(s, path, sizeof path, c->id, "");
    if (s_mkdir(path, err, errlen)) return -1;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "root", c->root);
    cJSON_AddStringToObject(j, "artist", c->artist);
    cJSON *g = cJSON_AddArrayToObject(j, "genres");
    for (int i = 0; i < c->n_genres; i++) cJSON_AddItemToArray(g, cJSON_CreateString(c->genres[i]));
    cJSON_AddStringToObject(j, "lyrics", c->lyrics ? c->lyrics : "");
    cJSON_AddNumberToObject(j, "total_seconds", c->total_seconds);
    cn_store_path(s, path, sizeof path, c->id, "comp.json");
    int rc = s_json_write(path, j, err, errlen);
    cJSON_Delete(j);
    if (rc) return -1;
    cn_store_node n = {0};
    snprintf(n.id, sizeof n.id, "%s", c->root);
    snprintf(n.comp, sizeof n.comp, "%s", c->id);
    n.n_codes = n_codes;
    if (s_write_node(s, &n, codes, err, errlen)) return -1;
    pthread_mutex_lock(&s->lock);
    cn_store_comp *slot = s_push_comp(s);
    if (slot) {
        *slot = *c;
        slot->lyrics = strdup(c->lyrics ? c->lyrics : "");
    }
    pthread_mutex_unlock(&s->lock);
    return slot ? 0 : -1;
}

int cn_store_add_node(cn_store *s, const char *parent, const int32_t *codes, int64_t n_codes,
                      int64_t from_code, const cn_store_sampling *made_with,
                      cn_store_node *node, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    cn_store_node *par = cn_store_find_node(s, parent);
    cn_store_node n = {0};
    if (par) {
        snprintf(n.comp, sizeof n.comp, "%s", par->comp);
        long k = s_next_node_num(s, par->comp);
        snprintf(n.id, sizeof n.id, "%.40s.%ld", par->comp, k);
        for (int i = 0; i < s->n_nodes; i++)
            if (!strcmp(s->nodes[i].parent, parent)) n.index++;
    }
    pthread_mutex_unlock(&s->lock);
    if (!par) {
        snprintf(err, errlen, "node %s is not in the store", parent);
        return -1;
    }
    snprintf(n.parent, sizeof n.parent, "%s", parent);
    n.n_codes = n_codes;
    n.from_code = from_code;
    if (made_with) n.made_with = *made_with;
    if (s_write_node(s, &n, codes, err, errlen)) return -1;
    if (node) *node = n;
    return 0;
}

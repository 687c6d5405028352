/* SPDX-License-Identifier: MIT
 * cn_host implementation. The worker queue is a cn_ring, so worker:schedule called from the
 * plugin's run() does not allocate or lock. URID mapping takes a mutex: never call it from run.
 */
#include "host.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/worker/worker.h>

#include "ring.h"

#define S_PORTS 64
#define S_ATOM_IN 65536
#define S_ATOM_OUT 65536
#define S_MAX_URIS 4096
#define S_MAX_STATE 512

typedef struct { LV2_URID key, type; uint32_t flags; size_t size; void *value; } s_prop;

struct cn_host {
    void *lib;
    const LV2_Descriptor *desc;
    LV2_Handle inst;
    const LV2_Worker_Interface *worker;
    const LV2_State_Interface *state;
    double rate;
    int32_t block;
    char state_dir[1024];

    pthread_mutex_t map_lock;
    char *uris[S_MAX_URIS];
    int n_uris;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;
    LV2_Worker_Schedule sched;
    LV2_State_Make_Path make_path;
    LV2_State_Map_Path map_path;
    LV2_Log_Log log;
    LV2_Options_Option opts[4];
    LV2_Feature f_map, f_unmap, f_sched, f_make, f_mapp, f_log, f_opts;
    const LV2_Feature *features[8];

    float ctl[S_PORTS];
    uint8_t *atom_in, *atom_out;
    LV2_Atom_Forge forge;
    LV2_Atom_Forge_Frame seq;
    uint32_t n_ports_ctl;

    cn_ring work_q, resp_q;
    bool threaded;
    pthread_t wth;
    volatile int quit;
    _Atomic int busy;

    s_prop saved[S_MAX_STATE];
    int n_saved;
    LV2_URID u_pos, u_frame, u_speed;   /* mapped once: cn_host_send_position is realtime */
};

static LV2_URID s_map(LV2_URID_Map_Handle hd, const char *uri)
{
    cn_host *h = hd;
    pthread_mutex_lock(&h->map_lock);
    LV2_URID id = 0;
    for (int i = 0; i < h->n_uris; i++)
        if (!strcmp(h->uris[i], uri))
            id = (LV2_URID)i + 1;
    if (!id && h->n_uris < S_MAX_URIS) {
        h->uris[h->n_uris++] = strdup(uri);
        id = (LV2_URID)h->n_uris;
    }
    pthread_mutex_unlock(&h->map_lock);
    return id;
}

static const char *s_unmap(LV2_URID_Unmap_Handle hd, LV2_URID id)
{
    cn_host *h = hd;
    pthread_mutex_lock(&h->map_lock);
    const char *s = id >= 1 && (int)id <= h->n_uris ? h->uris[id - 1] : NULL;
    pthread_mutex_unlock(&h->map_lock);
    return s;
}

LV2_URID cn_host_map(cn_host *h, const char *uri) { return s_map(h, uri); }
const char *cn_host_unmap(cn_host *h, LV2_URID id) { return s_unmap(h, id); }

static LV2_Worker_Status s_schedule(LV2_Worker_Schedule_Handle hd, uint32_t size,
                                    const void *data)
{
    cn_host *h = hd;
    return cn_ring_write(&h->work_q, 1, data, size) ? LV2_WORKER_SUCCESS
                                                     : LV2_WORKER_ERR_NO_SPACE;
}

static LV2_Worker_Status s_respond(LV2_Worker_Respond_Handle hd, uint32_t size,
                                   const void *data)
{
    cn_host *h = hd;
    return cn_ring_write(&h->resp_q, 1, data, size) ? LV2_WORKER_SUCCESS
                                                     : LV2_WORKER_ERR_NO_SPACE;
}

static int s_mkdirs(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static char *s_make_path(LV2_State_Make_Path_Handle hd, const char *rel)
{
    cn_host *h = hd;
    size_t n = strlen(h->state_dir) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", h->state_dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    s_mkdirs(p);
    *slash = '/';
    return p;
}

static char *s_abstract(LV2_State_Map_Path_Handle hd, const char *abs)
{
    cn_host *h = hd;
    size_t n = strlen(h->state_dir);
    if (!strncmp(abs, h->state_dir, n) && abs[n] == '/')
        return strdup(abs + n + 1);
    return strdup(abs);
}

static char *s_absolute(LV2_State_Map_Path_Handle hd, const char *a)
{
    cn_host *h = hd;
    if (a[0] == '/')
        return strdup(a);
    size_t n = strlen(h->state_dir) + strlen(a) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", h->state_dir, a);
    return p;
}

static int s_vprintf(LV2_Log_Handle hd, LV2_URID type, const char *fmt, va_list ap)
{
    (void)hd;
    (void)type;
    return vfprintf(stderr, fmt, ap);
}

static int s_printf(LV2_Log_Handle hd, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = s_vprintf(hd, type, fmt, ap);
    va_end(ap);
    return r;
}

static void s_run_jobs(cn_host *h)
{
    static _Thread_local uint8_t buf[65536];
    uint32_t type;
    int64_t n;
    while ((n = cn_ring_read(&h->work_q, &type, buf, sizeof buf)) != -1)
        if (n >= 0 && h->worker)
            h->worker->work(h->inst, s_respond, h, (uint32_t)n, buf);
}

static void *s_worker_main(void *arg)
{
    cn_host *h = arg;
    while (!h->quit) {
        h->busy = 1;
        s_run_jobs(h);
        h->busy = 0;
        struct timespec ts = { 0, 2 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void s_features(cn_host *h)
{
    h->map = (LV2_URID_Map){ h, s_map };
    h->unmap = (LV2_URID_Unmap){ h, s_unmap };
    h->sched = (LV2_Worker_Schedule){ h, s_schedule };
    h->make_path = (LV2_State_Make_Path){ h, s_make_path };
    h->map_path = (LV2_State_Map_Path){ h, s_abstract, s_absolute };
    h->log = (LV2_Log_Log){ h, s_printf, s_vprintf };
    LV2_URID i = s_map(h, LV2_ATOM__Int);
    h->opts[0] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0,
                                       s_map(h, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t),
                                       i, &h->block };
    h->opts[1] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0,
                                       s_map(h, LV2_BUF_SIZE__nominalBlockLength),
                                       sizeof(int32_t), i, &h->block };
    h->opts[2] = (LV2_Options_Option){ 0, 0, 0, 0, 0, NULL };
    h->f_map = (LV2_Feature){ LV2_URID__map, &h->map };
    h->f_unmap = (LV2_Feature){ LV2_URID__unmap, &h->unmap };
    h->f_sched = (LV2_Feature){ LV2_WORKER__schedule, &h->sched };
    h->f_make = (LV2_Feature){ LV2_STATE__makePath, &h->make_path };
    h->f_mapp = (LV2_Feature){ LV2_STATE__mapPath, &h->map_path };
    h->f_log = (LV2_Feature){ LV2_LOG__log, &h->log };
    h->f_opts = (LV2_Feature){ LV2_OPTIONS__options, h->opts };
    const LV2_Feature *f[] = { &h->f_map, &h->f_unmap, &h->f_sched, &h->f_make, &h->f_mapp,
                               &h->f_log, &h->f_opts, NULL };
    memcpy(h->features, f, sizeof f);
}

static void s_seq_reset(cn_host *h)
{
    lv2_atom_forge_set_buffer(&h->forge, h->atom_in, S_ATOM_IN);
    lv2_atom_forge_sequence_head(&h->forge, &h->seq, 0);
}

cn_host *cn_host_new(const cn_host_cfg *cfg, char *err, size_t errlen)
{
    cn_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->map_lock, NULL);
    h->rate = cfg->rate;
    h->block = (int32_t)cfg->block;
    snprintf(h->state_dir, sizeof h->state_dir, "%s", cfg->state_dir);
    s_mkdirs(h->state_dir);
    h->desc = cfg->desc;
    if (!h->desc) {
        h->lib = dlopen(cfg->so_path, RTLD_NOW | RTLD_LOCAL);
        LV2_Descriptor_Function fn = h->lib ? (LV2_Descriptor_Function)dlsym(h->lib,
                                                                              "lv2_descriptor")
                                            : NULL;
        h->desc = fn ? fn(0) : NULL;
        if (!h->desc) {
            snprintf(err, errlen, "cannot load %s: %s", cfg->so_path, dlerror());
            cn_host_free(&h);
            return NULL;
        }
    }
    s_features(h);
    h->u_pos = s_map(h, LV2_TIME__Position);
    h->u_frame = s_map(h, LV2_TIME__frame);
    h->u_speed = s_map(h, LV2_TIME__speed);
    h->atom_in = calloc(1, S_ATOM_IN);
    h->atom_out = calloc(1, S_ATOM_OUT);
    cn_ring_init(&h->work_q, 1 << 20);
    cn_ring_init(&h->resp_q, 1 << 16);
    lv2_atom_forge_init(&h->forge, &h->map);
    h->inst = h->desc->instantiate(h->desc, cfg->rate, cfg->bundle, h->features);
    if (!h->inst) {
        snprintf(err, errlen, "%s refused to instantiate", h->desc->URI);
        cn_host_free(&h);
        return NULL;
    }
    if (h->desc->extension_data) {
        h->worker = h->desc->extension_data(LV2_WORKER__interface);
        h->state = h->desc->extension_data(LV2_STATE__interface);
    }
    for (uint32_t p = 0; p < S_PORTS; p++)
        h->desc->connect_port(h->inst, p, &h->ctl[p]);
    /* Ports 4 and 5 are continuo's control/notify atom ports. */
    h->desc->connect_port(h->inst, 4, h->atom_in);
    h->desc->connect_port(h->inst, 5, h->atom_out);
    s_seq_reset(h);
    h->threaded = cfg->threaded_worker;
    if (h->threaded)
        pthread_create(&h->wth, NULL, s_worker_main, h);
    if (h->desc->activate)
        h->desc->activate(h->inst);
    return h;
}

void cn_host_free(cn_host **hp)
{
    cn_host *h = *hp;
    if (!h)
        return;
    if (h->inst) {
        if (h->desc->deactivate)
            h->desc->deactivate(h->inst);
    }
    if (h->threaded) {
        h->quit = 1;
        pthread_join(h->wth, NULL);
    }
    if (h->inst) {
        s_run_jobs(h);   /* drop the references the queued jobs hold */
        h->desc->cleanup(h->inst);
    }
    if (h->lib)
        dlclose(h->lib);
    for (int i = 0; i < h->n_saved; i++)
        free(h->saved[i].value);
    for (int i = 0; i < h->n_uris; i++)
        free(h->uris[i]);
    cn_ring_free(&h->work_q);
    cn_ring_free(&h->resp_q);
    free(h->atom_in);
    free(h->atom_out);
    pthread_mutex_destroy(&h->map_lock);
    free(h);
    *hp = NULL;
}

float *cn_host_ctl(cn_host *h, uint32_t port) { return &h->ctl[port]; }
const void *cn_host_notify(const cn_host *h) { return h->atom_out; }

void cn_host_connect_audio(cn_host *h, uint32_t port, float *buf)
{
    h->desc->connect_port(h->inst, port, buf);
}

void cn_host_send_position(cn_host *h, uint32_t at, int64_t frame, float speed)
{
    LV2_Atom_Forge_Frame fr;
    lv2_atom_forge_frame_time(&h->forge, at);
    lv2_atom_forge_object(&h->forge, &fr, 0, h->u_pos);
    lv2_atom_forge_key(&h->forge, h->u_frame);
    lv2_atom_forge_long(&h->forge, frame);
    lv2_atom_forge_key(&h->forge, h->u_speed);
    lv2_atom_forge_float(&h->forge, speed);
    lv2_atom_forge_pop(&h->forge, &fr);
}

void cn_host_send_set(cn_host *h, const char *prop_uri, bool is_path, const char *value)
{
    LV2_Atom_Forge_Frame fr;
    lv2_atom_forge_frame_time(&h->forge, 0);
    lv2_atom_forge_object(&h->forge, &fr, 0, s_map(h, LV2_PATCH__Set));
    lv2_atom_forge_key(&h->forge, s_map(h, LV2_PATCH__property));
    lv2_atom_forge_urid(&h->forge, s_map(h, prop_uri));
    lv2_atom_forge_key(&h->forge, s_map(h, LV2_PATCH__value));
    lv2_atom_forge_typed_string(&h->forge, s_map(h, is_path ? LV2_ATOM__Path
                                                             : LV2_ATOM__String),
                                value, (uint32_t)strlen(value));
    lv2_atom_forge_pop(&h->forge, &fr);
}

void cn_host_send_get(cn_host *h)
{
    LV2_Atom_Forge_Frame fr;
    lv2_atom_forge_frame_time(&h->forge, 0);
    lv2_atom_forge_object(&h->forge, &fr, 0, s_map(h, LV2_PATCH__Get));
    lv2_atom_forge_pop(&h->forge, &fr);
}

void cn_host_run(cn_host *h, uint32_t n)
{
    static _Thread_local uint8_t buf[4096];
    uint32_t type;
    int64_t len;
    while ((len = cn_ring_read(&h->resp_q, &type, buf, sizeof buf)) != -1)
        if (len >= 0 && h->worker && h->worker->work_response)
            h->worker->work_response(h->inst, (uint32_t)len, buf);
    LV2_Atom_Sequence *out = (LV2_Atom_Sequence *)h->atom_out;
    out->atom.size = S_ATOM_OUT - sizeof(LV2_Atom);
    out->atom.type = 0;
    h->desc->run(h->inst, n);
    if (h->worker && h->worker->end_run)
        h->worker->end_run(h->inst);
    s_seq_reset(h);
}

void cn_host_idle(cn_host *h, void (*fn)(void *, const char *, const char *), void *user)
{
    if (!h->threaded)
        s_run_jobs(h);
    const LV2_Atom_Sequence *seq = (const LV2_Atom_Sequence *)h->atom_out;
    if (!fn || seq->atom.type != s_map(h, LV2_ATOM__Sequence))
        return;
    LV2_URID set = s_map(h, LV2_PATCH__Set), prop = s_map(h, LV2_PATCH__property),
             val = s_map(h, LV2_PATCH__value), str = s_map(h, LV2_ATOM__String),
             path = s_map(h, LV2_ATOM__Path);
    LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype != set)
            continue;
        const LV2_Atom *p = NULL, *v = NULL;
        lv2_atom_object_get(obj, prop, &p, val, &v, 0);
        if (p && v && (v->type == str || v->type == path))
            fn(user, s_unmap(h, ((const LV2_Atom_URID *)p)->body),
               (const char *)LV2_ATOM_BODY_CONST(v));
    }
}

void cn_host_flush_worker(cn_host *h)
{
    for (int i = 0; i < 5000; i++) {
        if (!h->threaded)
            s_run_jobs(h);
        if (atomic_load_explicit(&h->work_q.head, memory_order_acquire) ==
                atomic_load_explicit(&h->work_q.tail, memory_order_acquire) &&
            !h->busy)
            return;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
}

static LV2_State_Status s_store(LV2_State_Handle hd, uint32_t key, const void *value,
                                size_t size, uint32_t type, uint32_t flags)
{
    cn_host *h = hd;
    for (int i = 0; i < h->n_saved; i++)
        if (h->saved[i].key == key)
            return LV2_STATE_ERR_UNKNOWN;
    if (h->n_saved >= S_MAX_STATE)
        return LV2_STATE_ERR_NO_SPACE;
    s_prop *p = &h->saved[h->n_saved++];
    p->key = key;
    p->type = type;
    p->flags = flags;
    p->size = size;
    p->value = malloc(size ? size : 1);
    memcpy(p->value, value, size);
    return LV2_STATE_SUCCESS;
}

static const void *s_retrieve(LV2_State_Handle hd, uint32_t key, size_t *size,
                              uint32_t *type, uint32_t *flags)
{
    const cn_host *h = hd;
    for (int i = 0; i < h->n_saved; i++)
        if (h->saved[i].key == key) {
            *size = h->saved[i].size;
            *type = h->saved[i].type;
            *flags = h->saved[i].flags;
            return h->saved[i].value;
        }
    return NULL;
}

int cn_host_save(cn_host *h)
{
    for (int i = 0; i < h->n_saved; i++)
        free(h->saved[i].value);
    h->n_saved = 0;
    if (!h->state)
        return -1;
    const LV2_Feature *f[] = { &h->f_make, &h->f_mapp, NULL };
    return h->state->save(h->inst, s_store, h, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE, f)
               ? -1 : 0;
}

/* The saved keys of src are URIDs of src's map: translate them through the URIs. */
int cn_host_restore(cn_host *dst, const cn_host *src)
{
    cn_host *tmp = calloc(1, sizeof *tmp);
    if (!tmp || !dst->state) {
        free(tmp);
        return -1;
    }
    for (int i = 0; i < src->n_saved; i++) {
        s_prop p = src->saved[i];
        p.key = s_map(dst, src->uris[p.key - 1]);
        p.type = s_map(dst, src->uris[p.type - 1]);
        tmp->saved[tmp->n_saved++] = p;
    }
    const LV2_Feature *f[] = { &dst->f_make, &dst->f_mapp, NULL };
    int r = dst->state->restore(dst->inst, s_retrieve, tmp, 0, f) ? -1 : 0;
    free(tmp);
    return r;
}

const char *cn_host_saved_string(const cn_host *h, const char *key_uri)
{
    for (int i = 0; i < h->n_saved; i++)
        if (!strcmp(h->uris[h->saved[i].key - 1], key_uri))
            return h->saved[i].value;
    return NULL;
}

/* SPDX-License-Identifier: MIT
 * A small lilv host for the offline path: finds continuo.lv2 through LV2_PATH like real hosts,
 * runs a WAV through it in blocks, restores a preset, runs Generate against the plugin's test:
 * loopback. Never links the plugin's own code.
 *
 * Features given: urid:map/unmap, worker:schedule, options, state:makePath. The worker runs
 * synchronously on this thread between blocks (the plugin's worker only does short file work).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/resize-port/resize-port.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <sndfile.h>

#include "check.h"

#define PLUGIN_URI "http://continuo.dev/lv2/continuo"
#define PRESET_URI PLUGIN_URI "#preset-remote-gpu"
#define RATE 48000
#define BLOCK 512
#define SECONDS 2
#define MAX_PORTS 64
#define MAX_URIS 1024
#define WORK_BYTES 65536

typedef struct host {
    LilvWorld *world;
    const LilvPlugin *plug;
    LilvInstance *inst;
    const LV2_Worker_Interface *wi;
    char *uris[MAX_URIS];
    uint32_t n_uris;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;
    LV2_Worker_Schedule sched;
    LV2_State_Make_Path make_path;
    LV2_Options_Option opts[4];
    int32_t block;
    float rate;
    LV2_Feature f_map, f_unmap, f_sched, f_make_path, f_opts;
    const LV2_Feature *features[6];
    uint8_t work[WORK_BYTES], resp[WORK_BYTES];   /* [uint32 size][data] queues */
    size_t work_len, resp_len;
    char dir[64];
    uint32_t n_ports;
    float ctl[MAX_PORTS];
    float *in[2], *out[2];
    LV2_Atom_Sequence *seq[MAX_PORTS];
    uint32_t seq_cap[MAX_PORTS];
    bool seq_is_in[MAX_PORTS];
} host;

static LV2_URID s_map(LV2_URID_Map_Handle hd, const char *uri)
{
    host *h = hd;
    for (uint32_t i = 0; i < h->n_uris; i++)
        if (!strcmp(h->uris[i], uri))
            return i + 1;
    if (h->n_uris == MAX_URIS)
        return 0;
    h->uris[h->n_uris] = strdup(uri);
    return ++h->n_uris;
}

static const char *s_unmap(LV2_URID_Unmap_Handle hd, LV2_URID u)
{
    host *h = hd;
    return u && u <= h->n_uris ? h->uris[u - 1] : NULL;
}

static LV2_Worker_Status s_push(uint8_t *q, size_t *len, uint32_t size, const void *data)
{
    if (*len + sizeof size + size > WORK_BYTES)
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(q + *len, &size, sizeof size);
    memcpy(q + *len + sizeof size, data, size);
    *len += sizeof size + size;
    return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status s_schedule(LV2_Worker_Schedule_Handle hd, uint32_t size,
                                    const void *data)
{
    host *h = hd;
    return s_push(h->work, &h->work_len, size, data);
}

static LV2_Worker_Status s_respond(LV2_Worker_Respond_Handle hd, uint32_t size,
                                   const void *data)
{
    host *h = hd;
    return s_push(h->resp, &h->resp_len, size, data);
}

static char *s_make_path(LV2_State_Make_Path_Handle hd, const char *rel)
{
    host *h = hd;
    char *p = malloc(strlen(h->dir) + strlen(rel) + 2);
    if (p)
        sprintf(p, "%s/%s", h->dir, rel);
    return p;
}

/* The worker, synchronously: every scheduled job, then every response, then end_run. */
static void s_run_worker(host *h)
{
    LV2_Handle ph = lilv_instance_get_handle(h->inst);
    for (size_t at = 0; at < h->work_len;) {
        uint32_t size;
        memcpy(&size, h->work + at, sizeof size);
        h->wi->work(ph, s_respond, h, size, h->work + at + sizeof size);
        at += sizeof size + size;
    }
    h->work_len = 0;
    for (size_t at = 0; at < h->resp_len;) {
        uint32_t size;
        memcpy(&size, h->resp + at, sizeof size);
        h->wi->work_response(ph, size, h->resp + at + sizeof size);
        at += sizeof size + size;
    }
    h->resp_len = 0;
    if (h->wi->end_run)
        h->wi->end_run(ph);
}

static void s_features(host *h)
{
    h->map = (LV2_URID_Map){ h, s_map };
    h->unmap = (LV2_URID_Unmap){ h, s_unmap };
    h->sched = (LV2_Worker_Schedule){ h, s_schedule };
    h->make_path = (LV2_State_Make_Path){ h, s_make_path };
    h->block = BLOCK;
    h->rate = RATE;
    LV2_URID i32 = s_map(h, LV2_ATOM__Int), f32 = s_map(h, LV2_ATOM__Float);
    LV2_Options_Context inst = LV2_OPTIONS_INSTANCE;
    h->opts[0] = (LV2_Options_Option){ inst, 0, s_map(h, LV2_BUF_SIZE__maxBlockLength),
                                       sizeof(int32_t), i32, &h->block };
    h->opts[1] = (LV2_Options_Option){ inst, 0, s_map(h, LV2_BUF_SIZE__nominalBlockLength),
                                       sizeof(int32_t), i32, &h->block };
    h->opts[2] = (LV2_Options_Option){ inst, 0, s_map(h, LV2_PARAMETERS__sampleRate),
                                       sizeof(float), f32, &h->rate };
    h->opts[3] = (LV2_Options_Option){ inst, 0, 0, 0, 0, NULL };
    h->f_map = (LV2_Feature){ LV2_URID__map, &h->map };
    h->f_unmap = (LV2_Feature){ LV2_URID__unmap, &h->unmap };
    h->f_sched = (LV2_Feature){ LV2_WORKER__schedule, &h->sched };
    h->f_make_path = (LV2_Feature){ LV2_STATE__makePath, &h->make_path };
    h->f_opts = (LV2_Feature){ LV2_OPTIONS__options, h->opts };
    const LV2_Feature *f[6] = { &h->f_map, &h->f_unmap, &h->f_sched, &h->f_make_path,
                                &h->f_opts, NULL };
    memcpy(h->features, f, sizeof f);
}

/* Every feature the plugin requires is one this host gives. */
static bool s_features_ok(host *h, char *detail, size_t cap)
{
    LilvNodes *req = lilv_plugin_get_required_features(h->plug);
    bool ok = true;
    size_t len = (size_t)snprintf(detail, cap, "requires:");
    LILV_FOREACH (nodes, i, req) {
        const char *uri = lilv_node_as_uri(lilv_nodes_get(req, i));
        bool have = false;
        for (int k = 0; h->features[k]; k++)
            have = have || !strcmp(h->features[k]->URI, uri);
        ok = ok && have;
        if (len < cap)
            len += (size_t)snprintf(detail + len, cap - len, " %s%s", uri, have ? "" : " (MISSING)");
    }
    lilv_nodes_free(req);
    return ok;
}

static uint32_t s_atom_capacity(host *h, const LilvPort *port)
{
    LilvNode *key = lilv_new_uri(h->world, LV2_RESIZE_PORT__minimumSize);
    LilvNodes *v = lilv_port_get_value(h->plug, port, key);
    uint32_t cap = 8192;
    if (v && lilv_node_is_int(lilv_nodes_get_first(v)))
        cap = (uint32_t)lilv_node_as_int(lilv_nodes_get_first(v));
    lilv_nodes_free(v);
    lilv_node_free(key);
    return cap;
}

/* Connects every port by the index lilv reports: controls at their ttl default, audio to
 * block buffers, atom ports to sequences of the ttl's minimum size. Returns 0 or -1. */
static int s_connect(host *h, char *log, size_t cap)
{
    LilvNode *audio = lilv_new_uri(h->world, LV2_CORE__AudioPort);
    LilvNode *control = lilv_new_uri(h->world, LV2_CORE__ControlPort);
    LilvNode *atom = lilv_new_uri(h->world, LV2_ATOM__AtomPort);
    LilvNode *input = lilv_new_uri(h->world, LV2_CORE__InputPort);
    int n_in = 0, n_out = 0, rc = 0;
    size_t len = 0;
    h->n_ports = lilv_plugin_get_num_ports(h->plug);
    for (uint32_t i = 0; i < h->n_ports && i < MAX_PORTS && !rc; i++) {
        const LilvPort *p = lilv_plugin_get_port_by_index(h->plug, i);
        const char *sym = lilv_node_as_string(lilv_port_get_symbol(h->plug, p));
        bool is_in = lilv_port_is_a(h->plug, p, input);
        void *buf = NULL;
        if (lilv_port_is_a(h->plug, p, control)) {
            LilvNode *def = NULL;
            lilv_port_get_range(h->plug, p, &def, NULL, NULL);
            h->ctl[i] = def ? lilv_node_as_float(def) : 0.0f;
            lilv_node_free(def);
            buf = &h->ctl[i];
        } else if (lilv_port_is_a(h->plug, p, audio)) {
            float **slot = is_in ? (n_in < 2 ? &h->in[n_in++] : NULL)
                                 : (n_out < 2 ? &h->out[n_out++] : NULL);
            buf = slot ? (*slot = calloc(BLOCK, sizeof(float))) : NULL;
        } else if (lilv_port_is_a(h->plug, p, atom)) {
            h->seq_cap[i] = s_atom_capacity(h, p);
            h->seq_is_in[i] = is_in;
            buf = h->seq[i] = calloc(1, h->seq_cap[i]);
        }
        if (!buf)
            rc = -1;
        else
            lilv_instance_connect_port(h->inst, i, buf);
        if (len < cap)
            len += (size_t)snprintf(log + len, cap - len, " %u:%s", i, sym);
    }
    lilv_node_free(audio);
    lilv_node_free(control);
    lilv_node_free(atom);
    lilv_node_free(input);
    return rc || n_in != 2 || n_out != 2 ? -1 : 0;
}

static int s_port(host *h, const char *sym)
{
    LilvNode *n = lilv_new_string(h->world, sym);
    const LilvPort *p = lilv_plugin_get_port_by_symbol(h->plug, n);
    lilv_node_free(n);
    return p ? (int)lilv_port_get_index(h->plug, p) : -1;
}

/* Empty input sequences and fresh output capacity for the next run(). */
static void s_reset_seqs(host *h)
{
    for (uint32_t i = 0; i < h->n_ports; i++) {
        LV2_Atom_Sequence *s = h->seq[i];
        if (!s)
            continue;
        s->atom.type = h->seq_is_in[i] ? s_map(h, LV2_ATOM__Sequence) : s_map(h, LV2_ATOM__Chunk);
        s->atom.size = h->seq_is_in[i] ? sizeof(LV2_Atom_Sequence_Body)
                                       : h->seq_cap[i] - sizeof(LV2_Atom);
        s->body.unit = s->body.pad = 0;
    }
}

/* run() on what is on the ports now, then the worker. */
static void s_run(host *h)
{
    lilv_instance_run(h->inst, BLOCK);
    s_run_worker(h);
}

static void s_block(host *h)
{
    s_reset_seqs(h);
    s_run(h);
}

static int s_open(host *h)
{
    snprintf(h->dir, sizeof h->dir, "/tmp/cn-lilv-XXXXXX");
    if (!mkdtemp(h->dir))
        return -1;
    s_features(h);
    h->world = lilv_world_new();
    lilv_world_load_all(h->world);   /* honours LV2_PATH, as hosts do */
    LilvNode *uri = lilv_new_uri(h->world, PLUGIN_URI);
    h->plug = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(h->world), uri);
    lilv_node_free(uri);
    return h->plug ? 0 : -1;
}

static int s_instantiate(host *h)
{
    h->inst = lilv_plugin_instantiate(h->plug, RATE, h->features);
    if (!h->inst)
        return -1;
    h->wi = lilv_instance_get_extension_data(h->inst, LV2_WORKER__interface);
    return h->wi ? 0 : -1;
}

static void s_close(host *h)
{
    if (h->inst) {
        lilv_instance_deactivate(h->inst);
        lilv_instance_free(h->inst);
    }
    lilv_world_free(h->world);
    for (uint32_t i = 0; i < MAX_PORTS; i++)
        free(h->seq[i]);
    for (int k = 0; k < 2; k++) {
        free(h->in[k]);
        free(h->out[k]);
    }
    for (uint32_t i = 0; i < h->n_uris; i++)
        free(h->uris[i]);
    rmdir(h->dir);
}

/* A 48 kHz stereo float WAV: 440 Hz left, 660 Hz right, at 0.5. */
static int s_write_tone(const char *path, float *buf, sf_count_t frames)
{
    for (sf_count_t i = 0; i < frames; i++) {
        buf[2 * i] = 0.5f * sinf(2.0f * (float)M_PI * 440.0f * (float)i / RATE);
        buf[2 * i + 1] = 0.5f * sinf(2.0f * (float)M_PI * 660.0f * (float)i / RATE);
    }
    SF_INFO info = { .samplerate = RATE, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f)
        return -1;
    sf_count_t n = sf_writef_float(f, buf, frames);
    sf_close(f);
    return n == frames ? 0 : -1;
}

/* Runs the WAV at `in` through the plugin block by block into the WAV at `out`. */
static int s_process(host *h, const char *in, const char *out)
{
    SF_INFO ii = { 0 };
    SNDFILE *fi = sf_open(in, SFM_READ, &ii);
    if (!fi || ii.channels != 2 || ii.samplerate != RATE) {
        fprintf(stderr, "%s: want a 48000 Hz stereo WAV (%s)\n", in, sf_strerror(fi));
        if (fi)
            sf_close(fi);
        return -1;
    }
    SF_INFO io = { .samplerate = RATE, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *fo = sf_open(out, SFM_WRITE, &io);
    float frame[BLOCK * 2];
    sf_count_t n;
    while (fo && (n = sf_readf_float(fi, frame, BLOCK)) > 0) {
        for (int i = 0; i < BLOCK; i++)
            for (int c = 0; c < 2; c++)
                h->in[c][i] = i < n ? frame[2 * i + c] : 0.0f;
        s_block(h);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 2; c++)
                frame[2 * i + c] = h->out[c][i];
        sf_writef_float(fo, frame, n);
    }
    sf_close(fi);
    if (fo)
        sf_close(fo);
    return fo ? 0 : -1;
}

static sf_count_t s_read_wav(const char *path, float *buf, sf_count_t frames)
{
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return -1;
    sf_count_t n = sf_readf_float(f, buf, frames);
    sf_close(f);
    return n;
}

/* (1) defaults and no capture: the output is the dry input times gd = min(1, 2(1 - mix)). */
static void s_check_dry(cn_check *c, host *h)
{
    const sf_count_t frames = (sf_count_t)SECONDS * RATE;
    char in[128], out[128], what[160];
    snprintf(in, sizeof in, "%s/in.wav", h->dir);
    snprintf(out, sizeof out, "%s/out.wav", h->dir);
    float *a = malloc(sizeof(float) * 2 * frames), *b = malloc(sizeof(float) * 2 * frames);
    float mix = h->ctl[s_port(h, "mix")];
    float gd = fminf(1.0f, 2.0f * (1.0f - mix));
    bool ran = a && b && !s_write_tone(in, a, frames) && !s_process(h, in, out) &&
               s_read_wav(out, b, frames) == frames;
    cn_check_true(c, "2 s 48 kHz stereo tone WAV run offline in 512-frame blocks", ran, out);
    if (ran) {
        for (sf_count_t i = 0; i < 2 * frames; i++)
            a[i] *= gd;
        snprintf(what, sizeof what, "output WAV == input x %.3f (ttl default mix %.2f)", gd, mix);
        cn_check_close(c, what, b, a, 2 * frames, 0.0);
    }
    free(a);
    free(b);
    unlink(in);
    unlink(out);
}

/* (2) the output controls after the run: idle, no error, nothing playing or captured. */
static void s_check_outputs(cn_check *c, host *h)
{
    float st = h->ctl[s_port(h, "status")], err = h->ctl[s_port(h, "error")];
    float prog = h->ctl[s_port(h, "progress")], play = h->ctl[s_port(h, "playing")];
    float capd = h->ctl[s_port(h, "captured")];
    char d[200];
    snprintf(d, sizeof d, "status %.0f (0 Idle), error %.0f, progress %.2f, playing %.0f, "
             "captured %.2f s", st, err, prog, play, capd);
    cn_check_true(c, "output controls after the run", st == 0 && err == 0 && prog >= 0 &&
                  prog <= 1 && play == 0 && capd == 0, d);
}

static void s_set_value(const char *sym, void *hd, const void *value, uint32_t size,
                        uint32_t type)
{
    host *h = hd;
    int i = s_port(h, sym);
    if (i < 0 || size != sizeof(float))
        return;
    if (type == s_map(h, LV2_ATOM__Float))
        h->ctl[i] = *(const float *)value;
    else if (type == s_map(h, LV2_ATOM__Int))
        h->ctl[i] = (float)*(const int32_t *)value;
}

static const void *s_get_value(const char *sym, void *hd, uint32_t *size, uint32_t *type)
{
    host *h = hd;
    int i = s_port(h, sym);
    *size = sizeof(float);
    *type = s_map(h, LV2_ATOM__Float);
    return i >= 0 ? &h->ctl[i] : NULL;
}

/* The string value of the last patch:Set of `prop` on the notify port, or "" if none. */
static const char *s_notified(host *h, const char *prop)
{
    const LV2_Atom_Sequence *seq = h->seq[s_port(h, "notify")];
    LV2_URID set = s_map(h, LV2_PATCH__Set), key = s_map(h, prop);
    const char *found = "";
    LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
        const LV2_Atom_Object *o = (const LV2_Atom_Object *)&ev->body;
        if (o->atom.type != s_map(h, LV2_ATOM__Object) || o->body.otype != set)
            continue;
        const LV2_Atom *p = NULL, *v = NULL;
        lv2_atom_object_get(o, s_map(h, LV2_PATCH__property), &p, s_map(h, LV2_PATCH__value),
                            &v, 0);
        if (p && v && p->type == s_map(h, LV2_ATOM__URID) &&
            ((const LV2_Atom_URID *)p)->body == key)
            found = (const char *)LV2_ATOM_BODY_CONST(v);
    }
    return found;
}

/* (3) a preset from presets.ttl: controls through set_value, properties into the plugin. */
static void s_check_preset(cn_check *c, host *h)
{
    LilvNode *uri = lilv_new_uri(h->world, PRESET_URI);
    lilv_world_load_resource(h->world, uri);
    LilvState *st = lilv_state_new_from_world(h->world, &h->map, uri);
    lilv_node_free(uri);
    cn_check_true(c, "preset found by lilv", st != NULL, PRESET_URI);
    if (!st)
        return;
    lilv_state_restore(st, h->inst, s_set_value, h, 0, h->features);
    lilv_state_free(st);
    char d[300];
    float n = h->ctl[s_port(h, "n")], secs = h->ctl[s_port(h, "seconds")];
    snprintf(d, sizeof d, "n %.0f (want 3), seconds %.1f (want 8.0)", n, secs);
    cn_check_true(c, "preset sets the controls it lists", n == 3 && secs == 8, d);
    s_block(h);   /* the plugin tells the new property values on its notify port */
    const char *ep = s_notified(h, PLUGIN_URI "#endpoint");
    const char *ms = s_notified(h, PLUGIN_URI "#modelSet");
    snprintf(d, sizeof d, "endpoint \"%s\", modelSet \"%s\"", ep, ms);
    cn_check_true(c, "notify patch:Set after the preset",
                  !strcmp(ep, "tcp://gpu-box.local:5557") && !strcmp(ms, "5b_lyrics"), d);
    LilvState *saved = lilv_state_new_from_instance(h->plug, h->inst, &h->map, NULL, NULL, NULL,
                                                    h->dir, s_get_value, h, 0, h->features);
    char base[80];
    snprintf(base, sizeof base, "file://%s/", h->dir);   /* for the (empty) atom:Path values */
    char *ttl = saved ? lilv_state_to_string(h->world, &h->map, &h->unmap, saved,
                                             "urn:continuo:lilv-test", base) : NULL;
    bool has = ttl && strstr(ttl, "tcp://gpu-box.local:5557") && strstr(ttl, "5b_lyrics");
    cn_check_true(c, "plugin state saved through lilv holds the preset's endpoint and model "
                  "set", has, ttl ? "found in lilv_state_to_string" : "no state");
    lilv_free(ttl);
    lilv_state_free(saved);
}

/* The control port gets a rolling transport at frame 0 and patch:Set endpoint = `ep`. */
static void s_send_start(host *h, const char *ep)
{
    int port = s_port(h, "control");
    LV2_Atom_Forge f;
    LV2_Atom_Forge_Frame seq, obj;
    lv2_atom_forge_init(&f, &h->map);
    lv2_atom_forge_set_buffer(&f, (uint8_t *)h->seq[port], h->seq_cap[port]);
    lv2_atom_forge_sequence_head(&f, &seq, 0);
    lv2_atom_forge_frame_time(&f, 0);
    lv2_atom_forge_object(&f, &obj, 0, s_map(h, LV2_TIME__Position));
    lv2_atom_forge_key(&f, s_map(h, LV2_TIME__frame));
    lv2_atom_forge_long(&f, 0);
    lv2_atom_forge_key(&f, s_map(h, LV2_TIME__speed));
    lv2_atom_forge_float(&f, 1.0f);
    lv2_atom_forge_pop(&f, &obj);
    lv2_atom_forge_frame_time(&f, 0);
    lv2_atom_forge_object(&f, &obj, 0, s_map(h, LV2_PATCH__Set));
    lv2_atom_forge_key(&f, s_map(h, LV2_PATCH__property));
    lv2_atom_forge_urid(&f, s_map(h, PLUGIN_URI "#endpoint"));
    lv2_atom_forge_key(&f, s_map(h, LV2_PATCH__value));
    lv2_atom_forge_string(&f, ep, (uint32_t)strlen(ep));
    lv2_atom_forge_pop(&f, &obj);
    lv2_atom_forge_pop(&f, &seq);
}

/* Counts (and with `del`, removes) the WAV files in the makePath folder. */
static int s_wavs(host *h, bool del)
{
    DIR *d = opendir(h->dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *dot = strrchr(e->d_name, '.');
        if (dot && !strcmp(dot, ".wav")) {
            n++;
            char p[400];
            snprintf(p, sizeof p, "%s/%s", h->dir, e->d_name);
            if (del)
                unlink(p);
        }
    }
    if (d)
        closedir(d);
    return n;
}

/* (4) the worker: 1 s captured while rolling, Generate against the plugin's "test:" loopback
 * helper; each candidate is written as a WAV by the worker into the makePath folder. */
static void s_check_worker(cn_check *c, host *h)
{
    int cap = s_port(h, "capture"), gen = s_port(h, "generate"), ready = s_port(h, "ready");
    h->ctl[s_port(h, "seconds")] = 2.0f;
    h->ctl[cap] = 1.0f;
    for (int b = 0; b < RATE / BLOCK; b++) {
        for (int i = 0; i < BLOCK; i++)
            h->in[0][i] = h->in[1][i] = 0.3f * sinf((float)(b * BLOCK + i) * 0.05f);
        s_reset_seqs(h);
        if (b == 0)
            s_send_start(h, "test:1");
        s_run(h);
    }
    h->ctl[cap] = 0.0f;
    h->ctl[gen] = 1.0f;
    s_block(h);
    h->ctl[gen] = 0.0f;
    int want = (int)h->ctl[s_port(h, "n")];
    memset(h->in[0], 0, BLOCK * sizeof(float));
    memset(h->in[1], 0, BLOCK * sizeof(float));
    for (int t = 0; t < 3000 && (h->ctl[ready] < want || s_wavs(h, false) < want); t++) {
        s_block(h);
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);   /* 10 ms: the client thread */
    }
    char d[200];
    snprintf(d, sizeof d, "captured %.2f s, ready %.0f of %d, status %.0f (6 Ready), "
             "%d WAVs in the makePath folder", h->ctl[s_port(h, "captured")], h->ctl[ready],
             want, h->ctl[s_port(h, "status")], s_wavs(h, false));
    cn_check_true(c, "Generate (test: loopback): candidates written by the worker",
                  h->ctl[ready] == want && s_wavs(h, true) == want, d);
}

int main(void)
{
    cn_check c = { 0 };
    host *h = calloc(1, sizeof *h);
    char d[1024];
    const char *path = getenv("LV2_PATH");
    snprintf(d, sizeof d, "LV2_PATH=%s", path ? path : "(unset)");
    bool ok = h && !s_open(h);
    cn_check_true(&c, "lilv finds " PLUGIN_URI, ok, d);
    if (ok) {
        ok = s_features_ok(h, d, sizeof d);
        cn_check_true(&c, "required features are ones this host gives", ok, d);
    }
    if (ok) {
        ok = !s_instantiate(h) && !s_connect(h, d, sizeof d);
        cn_check_true(&c, "instantiated; every port connected by lilv's index:symbol", ok, d);
    }
    if (ok) {
        lilv_instance_activate(h->inst);
        s_check_dry(&c, h);
        s_check_outputs(&c, h);
        s_check_preset(&c, h);
        s_check_worker(&c, h);
    }
    if (h)
        s_close(h);
    free(h);
    return cn_check_finish(&c);
}

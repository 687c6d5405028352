/* SPDX-License-Identifier: MIT
 * A small lilv host for the offline path: finds continuo.lv2 through LV2_PATH like real hosts,
 * runs a WAV through it in blocks, restores a preset, runs Generate against the plugin's test:
 * loopback. Never links the plugin's own code.
 *
 * The host itself is tests/plugin/lilv_host.c.
 */
#include "lilv_host.h"
#include "check.h"

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
        lh_block(h);
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
    float mix = h->ctl[lh_port(h, "mix")];
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
    float st = h->ctl[lh_port(h, "status")], err = h->ctl[lh_port(h, "error")];
    float prog = h->ctl[lh_port(h, "progress")], play = h->ctl[lh_port(h, "playing")];
    float capd = h->ctl[lh_port(h, "captured")];
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
    int i = lh_port(h, sym);
    if (i < 0 || size != sizeof(float))
        return;
    if (type == lh_map(h, LV2_ATOM__Float))
        h->ctl[i] = *(const float *)value;
    else if (type == lh_map(h, LV2_ATOM__Int))
        h->ctl[i] = (float)*(const int32_t *)value;
}

static const void *s_get_value(const char *sym, void *hd, uint32_t *size, uint32_t *type)
{
    host *h = hd;
    int i = lh_port(h, sym);
    *size = sizeof(float);
    *type = lh_map(h, LV2_ATOM__Float);
    return i >= 0 ? &h->ctl[i] : NULL;
}

/* The string value of the last patch:Set of `prop` on the notify port, or "" if none. */
static const char *s_notified(host *h, const char *prop)
{
    const LV2_Atom_Sequence *seq = h->seq[lh_port(h, "notify")];
    LV2_URID set = lh_map(h, LV2_PATCH__Set), key = lh_map(h, prop);
    const char *found = "";
    LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
        const LV2_Atom_Object *o = (const LV2_Atom_Object *)&ev->body;
        if (o->atom.type != lh_map(h, LV2_ATOM__Object) || o->body.otype != set)
            continue;
        const LV2_Atom *p = NULL, *v = NULL;
        lv2_atom_object_get(o, lh_map(h, LV2_PATCH__property), &p, lh_map(h, LV2_PATCH__value),
                            &v, 0);
        if (p && v && p->type == lh_map(h, LV2_ATOM__URID) &&
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
    float n = h->ctl[lh_port(h, "n")], secs = h->ctl[lh_port(h, "seconds")];
    snprintf(d, sizeof d, "n %.0f (want 3), seconds %.1f (want 8.0)", n, secs);
    cn_check_true(c, "preset sets the controls it lists", n == 3 && secs == 8, d);
    lh_block(h);   /* the plugin tells the new property values on its notify port */
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
    int port = lh_port(h, "control");
    LV2_Atom_Forge f;
    LV2_Atom_Forge_Frame seq, obj;
    lv2_atom_forge_init(&f, &h->map);
    lv2_atom_forge_set_buffer(&f, (uint8_t *)h->seq[port], h->seq_cap[port]);
    lv2_atom_forge_sequence_head(&f, &seq, 0);
    lv2_atom_forge_frame_time(&f, 0);
    lv2_atom_forge_object(&f, &obj, 0, lh_map(h, LV2_TIME__Position));
    lv2_atom_forge_key(&f, lh_map(h, LV2_TIME__frame));
    lv2_atom_forge_long(&f, 0);
    lv2_atom_forge_key(&f, lh_map(h, LV2_TIME__speed));
    lv2_atom_forge_float(&f, 1.0f);
    lv2_atom_forge_pop(&f, &obj);
    lv2_atom_forge_frame_time(&f, 0);
    lv2_atom_forge_object(&f, &obj, 0, lh_map(h, LV2_PATCH__Set));
    lv2_atom_forge_key(&f, lh_map(h, LV2_PATCH__property));
    lv2_atom_forge_urid(&f, lh_map(h, PLUGIN_URI "#endpoint"));
    lv2_atom_forge_key(&f, lh_map(h, LV2_PATCH__value));
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
    int cap = lh_port(h, "capture"), gen = lh_port(h, "generate"), ready = lh_port(h, "ready");
    h->ctl[lh_port(h, "seconds")] = 2.0f;
    h->ctl[cap] = 1.0f;
    for (int b = 0; b < RATE / BLOCK; b++) {
        for (int i = 0; i < BLOCK; i++)
            h->in[0][i] = h->in[1][i] = 0.3f * sinf((float)(b * BLOCK + i) * 0.05f);
        lh_reset_seqs(h);
        if (b == 0)
            s_send_start(h, "test:1");
        lh_run(h);
    }
    h->ctl[cap] = 0.0f;
    h->ctl[gen] = 1.0f;
    lh_block(h);
    h->ctl[gen] = 0.0f;
    int want = (int)h->ctl[lh_port(h, "n")];
    memset(h->in[0], 0, BLOCK * sizeof(float));
    memset(h->in[1], 0, BLOCK * sizeof(float));
    for (int t = 0; t < 3000 && (h->ctl[ready] < want || s_wavs(h, false) < want); t++) {
        lh_block(h);
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);   /* 10 ms: the client thread */
    }
    char d[200];
    snprintf(d, sizeof d, "captured %.2f s, ready %.0f of %d, status %.0f (6 Ready), "
             "%d WAVs in the makePath folder", h->ctl[lh_port(h, "captured")], h->ctl[ready],
             want, h->ctl[lh_port(h, "status")], s_wavs(h, false));
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
    bool ok = h && !lh_open(h);
    cn_check_true(&c, "lilv finds " PLUGIN_URI, ok, d);
    if (ok) {
        ok = lh_features_ok(h, d, sizeof d);
        cn_check_true(&c, "required features are ones this host gives", ok, d);
    }
    if (ok) {
        ok = !lh_instantiate(h) && !lh_connect(h, d, sizeof d);
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
        lh_close(h);
    free(h);
    return cn_check_finish(&c);
}

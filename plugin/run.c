/* SPDX-License-Identifier: MIT
 * run(): capture, transport, candidate playback, Audition and Mix on the audio thread.
 * Never allocates, locks, blocks, logs, does file I/O or touches the network: it only uses
 * preallocated buffers, the two SPSC rings, atomics and the host's worker:schedule.
 */
#include "core.h"

#include <math.h>
#include <string.h>

#include <lv2/atom/util.h>

static const float s_default[CN_PORT_COUNT] = {
    [CN_CANDIDATE] = 1, [CN_N] = 3, [CN_SECONDS] = 4, [CN_TEMPERATURE] = 0.99f,
    [CN_MIX] = 0.5f, [CN_SONG_SECONDS] = 180,
};

static float s_ctl(const cn_core *c, int p)
{
    const float *v = c->port[p];
    return v ? *v : s_default[p];
}

static void s_out(cn_core *c, int p, float v)
{
    float *o = c->port[p];
    if (o)
        *o = v;
}

static void s_send(cn_core *c, uint32_t type, const cn_msg *m, const void *s, uint32_t n)
{
    if (!cn_ring_write2(&c->to_ct, type, m, sizeof *m, s, n))
        c->rt.dropped++;
}

/* Hands a clip run() no longer plays back to the client thread, which drops its reference. */
static void s_return(cn_core *c, cn_clip *clip)
{
    if (!clip)
        return;
    cn_msg m = { .clip = clip };
    s_send(c, CN_M_RETURN, &m, NULL, 0);
}

static void s_install(cn_core *c, const cn_msg *m)
{
    int slot = m->i0;
    if (slot < 0 || slot >= CN_MAX_CAND) {
        s_return(c, m->clip);
        return;
    }
    s_return(c, c->rt.slot[slot]);
    c->rt.slot[slot] = m->clip;
    c->rt.n_ready = m->i1;
    if (m->i2 && m->clip) {       /* write the clip file: short file work for the worker */
        cn_work_msg w = { CN_W_WRITE, m->i3, slot, m->clip };
        atomic_fetch_add(&m->clip->refs, 1);
        if (c->schedule->schedule_work(c->schedule->handle, sizeof w, &w) !=
            LV2_WORKER_SUCCESS)
            atomic_fetch_sub(&m->clip->refs, 1);   /* the client thread still holds one */
    }
}

static void s_drain(cn_core *c)
{
    struct { cn_msg m; char s[CN_PROP_CAP]; } rec;
    uint32_t type;
    int64_t len;
    while ((len = cn_ring_read(&c->from_ct, &type, &rec, sizeof rec)) != -1) {
        if (len < (int64_t)sizeof rec.m)
            continue;
        size_t slen = (size_t)len - sizeof rec.m;
        switch (type) {
        case CN_M_STATUS:
            c->rt.status = rec.m.i0;
            c->rt.error = rec.m.i1;
            c->rt.progress = (float)rec.m.d0;
            if (slen >= CN_TEXT_CAP)
                slen = CN_TEXT_CAP - 1;
            memcpy(c->rt.text, rec.s, slen);
            c->rt.text[slen] = '\0';
            c->rt.text_dirty = true;
            break;
        case CN_M_PROGRESS: c->rt.progress = (float)rec.m.d0; break;
        case CN_M_INSTALL: s_install(c, &rec.m); break;
        case CN_M_CLEAR:
            for (int k = rec.m.i0 < 0 ? 0 : rec.m.i0; k < CN_MAX_CAND; k++) {
                s_return(c, c->rt.slot[k]);
                c->rt.slot[k] = NULL;
            }
            c->rt.n_ready = rec.m.i0;
            c->rt.auditioning = false;
            break;
        case CN_M_PLAY_START:
            c->rt.play_start = rec.m.l0;
            c->rt.region_done = true;
            break;
        default: break;
        }
    }
}

static void s_forge_set(cn_core *c, LV2_URID key, LV2_URID type, const char *s)
{
    LV2_Atom_Forge *f = &c->rt.forge;
    LV2_Atom_Forge_Frame fr;
    if (!lv2_atom_forge_frame_time(f, 0))
        return;
    lv2_atom_forge_object(f, &fr, 0, c->uris.patch_Set);
    lv2_atom_forge_key(f, c->uris.patch_property);
    lv2_atom_forge_urid(f, key);
    lv2_atom_forge_key(f, c->uris.patch_value);
    lv2_atom_forge_typed_string(f, type, s, (uint32_t)strlen(s));
    lv2_atom_forge_pop(f, &fr);
}

/* Appends the decimal digits of v; no stdio on the audio thread. */
static char *s_num(char *at, const char *end, uint32_t v)
{
    char tmp[12];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 11);
    while (n && at < end)
        *at++ = tmp[--n];
    return at;
}

static char *s_str(char *at, const char *end, const char *s)
{
    while (*s && at < end)
        *at++ = *s++;
    return at;
}

/* "lyrics is 4999 bytes; at most 4095 (ignored)" into text (CN_TEXT_CAP). */
static void s_too_long(char *text, const char *name, uint32_t size, uint32_t max)
{
    const char *end = text + CN_TEXT_CAP - 1;
    char *at = s_str(text, end, name);
    at = s_str(at, end, " is ");
    at = s_num(at, end, size ? size - 1 : 0);
    at = s_str(at, end, " bytes; at most ");
    at = s_num(at, end, max);
    at = s_str(at, end, " (ignored)");
    *at = '\0';
}

static void s_on_set(cn_core *c, const LV2_Atom_Object *obj)
{
    const LV2_Atom *prop = NULL, *val = NULL;
    lv2_atom_object_get(obj, c->uris.patch_property, &prop, c->uris.patch_value, &val, 0);
    if (!prop || prop->type != c->uris.atom_URID || !val)
        return;
    int idx = cn_prop_find(c->prop_urid, ((const LV2_Atom_URID *)prop)->body);
    if (idx < 0 || (val->type != c->uris.atom_String && val->type != c->uris.atom_Path))
        return;
    const char *s = LV2_ATOM_BODY_CONST(val);
    if (cn_prop_set(&c->rt.props, idx, s, val->size) != 0) {
        c->rt.error = 1;
        c->rt.status = CN_ST_ERROR;
        c->rt.text_dirty = true;
        s_too_long(c->rt.text, cn_prop_defs[idx].name, val->size, cn_prop_defs[idx].max_len);
        return;
    }
    cn_msg m = { .i0 = idx };
    s_send(c, CN_M_PROP, &m, c->rt.props.v[idx], (uint32_t)strlen(c->rt.props.v[idx]));
}

static void s_on_object(cn_core *c, const LV2_Atom_Object *obj)
{
    const cn_uris *u = &c->uris;
    if (obj->body.otype == u->time_Position) {
        const LV2_Atom *frame = NULL, *speed = NULL;
        lv2_atom_object_get(obj, u->time_frame, &frame, u->time_speed, &speed, 0);
        if (frame && frame->type == u->atom_Long)
            c->rt.frame = ((const LV2_Atom_Long *)frame)->body;
        if (speed && speed->type == u->atom_Float)
            c->rt.rolling = ((const LV2_Atom_Float *)speed)->body > 0.0f;
        c->rt.have_pos = true;
    } else if (obj->body.otype == u->patch_Set) {
        s_on_set(c, obj);
    } else if (obj->body.otype == u->patch_Get) {
        c->rt.props_dirty = true;
    }
}

/* Edges of the trigger controls become commands for the client thread. */
static bool s_edge(cn_core *c, int p)
{
    float v = s_ctl(c, p);
    bool up = v > 0.5f && c->rt.last[p] <= 0.5f;
    c->rt.last[p] = v;
    return up;
}

static int s_selected(const cn_core *c)
{
    int s = (int)lrintf(s_ctl(c, CN_CANDIDATE)) - 1;
    return s < 0 ? 0 : s >= CN_MAX_CAND ? CN_MAX_CAND - 1 : s;
}

static void s_controls(cn_core *c)
{
    cn_msg m = { .i0 = s_selected(c), .i1 = (int)lrintf(s_ctl(c, CN_N)),
                 .d0 = s_ctl(c, CN_SECONDS), .d1 = s_ctl(c, CN_TEMPERATURE),
                 .d2 = s_ctl(c, CN_SONG_SECONDS), .d3 = c->rate };
    if (m.i0 != (int)c->rt.last[CN_CANDIDATE]) {
        c->rt.last[CN_CANDIDATE] = (float)m.i0;
        c->rt.auditioning = false;
        s_send(c, CN_M_SELECT, &m, NULL, 0);
    }
    if (s_edge(c, CN_GENERATE)) {
        if (c->rt.region_open) {              /* Generate ends the region being captured */
            c->rt.region_open = false;
            c->rt.region_done = true;
        }
        m.l0 = c->rt.cap_len;
        m.l1 = c->rt.cap_total;
        m.d3 = (double)c->rt.region_end;
        atomic_store_explicit(&c->cap_locked, true, memory_order_release);
        c->rt.play_start = c->rt.region_end;
        s_send(c, CN_M_GENERATE, &m, NULL, 0);
    }
    if (s_edge(c, CN_CONTINUE))
        s_send(c, CN_M_CONTINUE, &m, NULL, 0);
    if (s_edge(c, CN_RERUN))
        s_send(c, CN_M_RERUN, &m, NULL, 0);
    if (s_edge(c, CN_BACK))
        s_send(c, CN_M_BACK, &m, NULL, 0);
    float up = s_ctl(c, CN_UPSAMPLE);
    int lv = (int)lrintf(up);
    if (lv != (int)lrintf(c->rt.last[CN_UPSAMPLE]) && lv > 0) {
        m.i2 = lv == 1 ? 1 : 0;               /* 1: level 1, 2: level 0 */
        s_send(c, CN_M_UPSAMPLE, &m, NULL, 0);
    }
    c->rt.last[CN_UPSAMPLE] = up;
    float au = s_ctl(c, CN_AUDITION);
    if (au > 0.5f && c->rt.last[CN_AUDITION] <= 0.5f) {
        c->rt.auditioning = true;
        c->rt.aud_pos = 0;
    } else if (au <= 0.5f) {
        c->rt.auditioning = false;
    }
    c->rt.last[CN_AUDITION] = au;
}

static void s_capture(cn_core *c, uint32_t from, uint32_t to)
{
    bool armed = s_ctl(c, CN_CAPTURE) > 0.5f;
    bool locked = atomic_load_explicit(&c->cap_locked, memory_order_acquire);
    if (!(armed && c->rt.rolling) || locked) {
        if (c->rt.region_open) {
            c->rt.region_open = false;
            c->rt.region_done = true;
        }
        return;
    }
    if (!c->rt.region_open) {
        c->rt.region_open = true;
        c->rt.region_done = false;
        c->rt.region_start = c->rt.frame;
        c->rt.cap_len = c->rt.cap_total = 0;
    }
    const float *l = c->port[CN_IN_L], *r = c->port[CN_IN_R];
    uint32_t n = to - from;
    int64_t room = c->cap_frames - c->rt.cap_len;
    int64_t k = n < room ? n : room;
    float *dst = c->cap + 2 * c->rt.cap_len;
    for (int64_t i = 0; i < k; i++) {
        dst[2 * i] = l ? l[from + i] : 0.0f;
        dst[2 * i + 1] = r ? r[from + i] : 0.0f;
    }
    c->rt.cap_len += k;
    c->rt.cap_total += n;
    c->rt.region_end = c->rt.frame + n;
}

/* Audio of [from, to): capture, then dry + candidate (in place or auditioned). */
static bool s_audio(cn_core *c, uint32_t from, uint32_t to)
{
    s_capture(c, from, to);
    const float *il = c->port[CN_IN_L], *ir = c->port[CN_IN_R];
    float *ol = c->port[CN_OUT_L], *orr = c->port[CN_OUT_R];
    float mix = s_ctl(c, CN_MIX);
    mix = mix < 0 ? 0 : mix > 1 ? 1 : mix;
    float gd = fminf(1.0f, 2.0f * (1.0f - mix)), gw = fminf(1.0f, 2.0f * mix);
    const cn_clip *clip = c->rt.slot[s_selected(c)];
    bool playing = false;
    for (uint32_t i = from; i < to; i++) {
        float wet = 0.0f;
        if (clip && c->rt.auditioning) {
            if (c->rt.aud_pos < clip->len) {
                wet = clip->data[c->rt.aud_pos++];
                playing = true;
            }
        } else if (clip && c->rt.rolling && c->rt.region_done) {
            int64_t at = c->rt.frame + (i - from) - c->rt.play_start;
            if (at >= 0 && at < clip->len) {
                wet = clip->data[at];
                playing = true;
            }
        }
        float dl = il ? il[i] : 0.0f, dr = ir ? ir[i] : 0.0f;
        if (ol)
            ol[i] = gd * dl + gw * wet;
        if (orr)
            orr[i] = gd * dr + gw * wet;
    }
    if (c->rt.rolling)
        c->rt.frame += to - from;
    return playing;
}

static void s_notify(cn_core *c)
{
    if (c->rt.text_dirty) {
        s_forge_set(c, c->uris.cn_statusText, c->uris.atom_String, c->rt.text);
        c->rt.text_dirty = false;
    }
    if (c->rt.props_dirty) {
        for (int i = 0; i < CN_P_COUNT; i++)
            s_forge_set(c, c->prop_urid[i],
                        cn_prop_defs[i].is_path ? c->uris.atom_Path : c->uris.atom_String,
                        c->rt.props.v[i]);
        c->rt.props_dirty = false;
    }
}

void cn_run(cn_core *c, uint32_t n)
{
    LV2_Atom_Sequence *out = c->port[CN_NOTIFY];
    LV2_Atom_Forge_Frame seq_frame;
    if (out) {
        lv2_atom_forge_set_buffer(&c->rt.forge, (uint8_t *)out, out->atom.size);
        lv2_atom_forge_sequence_head(&c->rt.forge, &seq_frame, 0);
    }
    if (!c->rt.have_pos)
        c->rt.rolling = true;      /* no host transport: free-running */
    s_drain(c);
    s_controls(c);
    bool playing = false;
    uint32_t done = 0;
    const LV2_Atom_Sequence *in = c->port[CN_CONTROL];
    if (in) {
        LV2_ATOM_SEQUENCE_FOREACH (in, ev) {
            uint32_t t = ev->time.frames < n ? (uint32_t)ev->time.frames : n;
            if (t > done) {
                playing |= s_audio(c, done, t);
                done = t;
            }
            if (ev->body.type == c->uris.atom_Object || ev->body.type == c->uris.atom_Blank)
                s_on_object(c, (const LV2_Atom_Object *)&ev->body);
        }
    }
    if (done < n)
        playing |= s_audio(c, done, n);
    if (out) {
        s_notify(c);
        lv2_atom_forge_pop(&c->rt.forge, &seq_frame);
    }
    int st = c->rt.region_open ? CN_ST_CAPTURING : c->rt.status;
    s_out(c, CN_STATUS, (float)st);
    s_out(c, CN_PROGRESS, c->rt.progress);
    s_out(c, CN_ERROR, (float)c->rt.error);
    s_out(c, CN_READY, (float)c->rt.n_ready);
    s_out(c, CN_PLAYING, playing ? 1.0f : 0.0f);
    s_out(c, CN_CAPTURED, (float)((double)c->rt.cap_total / c->rate));
}

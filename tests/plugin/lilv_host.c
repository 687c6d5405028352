/* SPDX-License-Identifier: MIT
 * The lilv test host: features, the synchronous worker, port buffers, one block at a time.
 * Never links the plugin's own code; it sees the plugin only through lilv, like a real host.
 */
#include "lilv_host.h"

LV2_URID lh_map(LV2_URID_Map_Handle hd, const char *uri)
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
    h->map = (LV2_URID_Map){ h, lh_map };
    h->unmap = (LV2_URID_Unmap){ h, s_unmap };
    h->sched = (LV2_Worker_Schedule){ h, s_schedule };
    h->make_path = (LV2_State_Make_Path){ h, s_make_path };
    h->block = BLOCK;
    h->rate = RATE;
    LV2_URID i32 = lh_map(h, LV2_ATOM__Int), f32 = lh_map(h, LV2_ATOM__Float);
    LV2_Options_Context inst = LV2_OPTIONS_INSTANCE;
    h->opts[0] = (LV2_Options_Option){ inst, 0, lh_map(h, LV2_BUF_SIZE__maxBlockLength),
                                       sizeof(int32_t), i32, &h->block };
    h->opts[1] = (LV2_Options_Option){ inst, 0, lh_map(h, LV2_BUF_SIZE__nominalBlockLength),
                                       sizeof(int32_t), i32, &h->block };
    h->opts[2] = (LV2_Options_Option){ inst, 0, lh_map(h, LV2_PARAMETERS__sampleRate),
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
bool lh_features_ok(host *h, char *detail, size_t cap)
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
int lh_connect(host *h, char *log, size_t cap)
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

int lh_port(host *h, const char *sym)
{
    LilvNode *n = lilv_new_string(h->world, sym);
    const LilvPort *p = lilv_plugin_get_port_by_symbol(h->plug, n);
    lilv_node_free(n);
    return p ? (int)lilv_port_get_index(h->plug, p) : -1;
}

/* Empty input sequences and fresh output capacity for the next run(). */
void lh_reset_seqs(host *h)
{
    for (uint32_t i = 0; i < h->n_ports; i++) {
        LV2_Atom_Sequence *s = h->seq[i];
        if (!s)
            continue;
        s->atom.type = h->seq_is_in[i] ? lh_map(h, LV2_ATOM__Sequence) : lh_map(h, LV2_ATOM__Chunk);
        s->atom.size = h->seq_is_in[i] ? sizeof(LV2_Atom_Sequence_Body)
                                       : h->seq_cap[i] - sizeof(LV2_Atom);
        s->body.unit = s->body.pad = 0;
    }
}

/* run() on what is on the ports now, then the worker. */
void lh_run(host *h)
{
    lilv_instance_run(h->inst, BLOCK);
    s_run_worker(h);
}

void lh_block(host *h)
{
    lh_reset_seqs(h);
    lh_run(h);
}

int lh_open(host *h)
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

int lh_instantiate(host *h)
{
    h->inst = lilv_plugin_instantiate(h->plug, RATE, h->features);
    if (!h->inst)
        return -1;
    h->wi = lilv_instance_get_extension_data(h->inst, LV2_WORKER__interface);
    return h->wi ? 0 : -1;
}

void lh_close(host *h)
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

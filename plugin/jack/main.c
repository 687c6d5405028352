/* SPDX-License-Identifier: MIT
 * continuo-jack: continuo.lv2's core as a standalone JACK client, driven from the command
 * line and a line-based terminal interface. The JACK process callback only runs the plugin
 * (realtime); commands, status printing and the worker live on other threads.
 */
#include <jack/jack.h>
#include <jack/transport.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lv2/atom/util.h>
#include <lv2/patch/patch.h>

#include "core.h"
#include "host.h"

typedef struct {
    jack_client_t *jc;
    jack_port_t *in[2], *out[2];
    cn_host *h;
    cn_ring status;                 /* status texts from the process thread */
    LV2_URID set, prop, value, text;
} s_app;

/* Realtime: transport to time:Position, run, copy status texts out through a ring. */
static int s_process(jack_nframes_t n, void *arg)
{
    s_app *a = arg;
    jack_position_t pos;
    jack_transport_state_t st = jack_transport_query(a->jc, &pos);
    for (int k = 0; k < 2; k++) {
        cn_host_connect_audio(a->h, CN_IN_L + k, jack_port_get_buffer(a->in[k], n));
        cn_host_connect_audio(a->h, CN_OUT_L + k, jack_port_get_buffer(a->out[k], n));
    }
    cn_host_send_position(a->h, 0, (int64_t)pos.frame, st == JackTransportRolling ? 1.0f : 0);
    cn_host_run(a->h, n);
    const LV2_Atom_Sequence *seq = cn_host_notify(a->h);
    LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
        const LV2_Atom_Object *o = (const LV2_Atom_Object *)&ev->body;
        const LV2_Atom *p = NULL, *v = NULL;
        if (o->body.otype != a->set)
            continue;
        lv2_atom_object_get(o, a->prop, &p, a->value, &v, 0);
        if (p && v && ((const LV2_Atom_URID *)p)->body == a->text)
            cn_ring_write(&a->status, 1, LV2_ATOM_BODY_CONST(v), v->size);
    }
    return 0;
}

static void s_usage(FILE *f)
{
    fprintf(f,
"usage: continuo-jack [options]\n"
"  --endpoint E     helper endpoint (default: the local helper's ipc socket)\n"
"  --server-key F   the helper's public key file (remote helpers with CURVE)\n"
"  --artist A --genre G --lyrics L --model-set M\n"
"  --clips DIR      also write every clip here\n"
"  --session DIR    folder for this session's clip files (default ./continuo-session)\n"
"  --name NAME      JACK client name (default continuo)\n"
"  --connect PORT   connect this capture port to both inputs (e.g. system:capture_1)\n"
"Commands on stdin: capture on|off, generate, candidate N, audition on|off, continue,\n"
"  rerun, back, upsample 1|0, n N, seconds S, temperature T, mix M, song S, status, quit.\n"
"The transport (jack_transport, or your DAW as JACK transport master) drives capture and\n"
"in-place playback.\n");
}

static const struct { const char *name; int port; bool trigger; } s_cmds[] = {
    { "capture", CN_CAPTURE, false }, { "generate", CN_GENERATE, true },
    { "candidate", CN_CANDIDATE, false }, { "audition", CN_AUDITION, false },
    { "continue", CN_CONTINUE, true }, { "rerun", CN_RERUN, true },
    { "back", CN_BACK, true }, { "upsample", CN_UPSAMPLE, false }, { "n", CN_N, false },
    { "seconds", CN_SECONDS, false }, { "temperature", CN_TEMPERATURE, false },
    { "mix", CN_MIX, false }, { "song", CN_SONG_SECONDS, false },
};

static void s_command(s_app *a, char *line)
{
    char cmd[32] = "", arg[64] = "";
    if (sscanf(line, "%31s %63s", cmd, arg) < 1)
        return;
    if (!strcmp(cmd, "status")) {
        printf("status %.0f  progress %.2f  error %.0f  ready %.0f  playing %.0f  "
               "captured %.1f s\n", *cn_host_ctl(a->h, CN_STATUS),
               *cn_host_ctl(a->h, CN_PROGRESS), *cn_host_ctl(a->h, CN_ERROR),
               *cn_host_ctl(a->h, CN_READY), *cn_host_ctl(a->h, CN_PLAYING),
               *cn_host_ctl(a->h, CN_CAPTURED));
        return;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++) {
        if (strcmp(cmd, s_cmds[i].name))
            continue;
        float *v = cn_host_ctl(a->h, (uint32_t)s_cmds[i].port);
        if (s_cmds[i].trigger) {
            *v = 1;
            usleep(100000);     /* a few JACK cycles see the edge */
            *v = 0;
        } else {
            *v = !strcmp(arg, "on") ? 1.0f : !strcmp(arg, "off") ? 0.0f : (float)atof(arg);
        }
        return;
    }
    printf("unknown command \"%s\" (see --help)\n", cmd);
}

static void *s_status_main(void *arg)
{
    s_app *a = arg;
    char text[CN_TEXT_CAP + 8];
    uint32_t type;
    for (;;) {
        int64_t n;
        while ((n = cn_ring_read(&a->status, &type, text, sizeof text - 1)) >= 0) {
            text[n] = '\0';
            printf("continuo: %s\n", text);
            fflush(stdout);
        }
        usleep(50000);
    }
    return NULL;
}

extern const LV2_Descriptor *lv2_descriptor(uint32_t index);

int main(int argc, char **argv)
{
    const char *props[CN_P_COUNT] = { 0 }, *session = "continuo-session", *name = "continuo",
               *conn = NULL;
    static const struct { const char *opt; int prop; } map[] = {
        { "--endpoint", CN_P_ENDPOINT }, { "--server-key", CN_P_SERVER_KEY },
        { "--artist", CN_P_ARTIST }, { "--genre", CN_P_GENRE }, { "--lyrics", CN_P_LYRICS },
        { "--model-set", CN_P_MODEL_SET }, { "--clips", CN_P_CLIPS_DIR },
    };
    for (int i = 1; i < argc; i++) {
        bool known = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            s_usage(stdout);
            return 0;
        }
        for (size_t k = 0; k < sizeof map / sizeof map[0] && i + 1 < argc; k++)
            if (!strcmp(argv[i], map[k].opt)) {
                props[map[k].prop] = argv[++i];
                known = true;
            }
        if (!known && i + 1 < argc && !strcmp(argv[i], "--session"))
            session = argv[++i], known = true;
        else if (!known && i + 1 < argc && !strcmp(argv[i], "--name"))
            name = argv[++i], known = true;
        else if (!known && i + 1 < argc && !strcmp(argv[i], "--connect"))
            conn = argv[++i], known = true;
        if (!known) {
            fprintf(stderr, "continuo-jack: unknown or incomplete option %s\n", argv[i]);
            s_usage(stderr);
            return 2;
        }
    }
    s_app a = { 0 };
    a.jc = jack_client_open(name, JackNoStartServer, NULL);
    if (!a.jc) {
        fprintf(stderr, "continuo-jack: no JACK server is running (start jackd first)\n");
        return 1;
    }
    char err[512], dir[1024];
    if (!realpath(session, dir))
        snprintf(dir, sizeof dir, "%s", session);
    cn_host_cfg cfg = { lv2_descriptor(0), NULL, "", jack_get_sample_rate(a.jc), 8192, dir,
                        true };
    a.h = cn_host_new(&cfg, err, sizeof err);
    if (!a.h || cn_ring_init(&a.status, 1 << 16)) {
        fprintf(stderr, "continuo-jack: %s\n", a.h ? "out of memory" : err);
        return 1;
    }
    a.set = cn_host_map(a.h, LV2_PATCH__Set);
    a.prop = cn_host_map(a.h, LV2_PATCH__property);
    a.value = cn_host_map(a.h, LV2_PATCH__value);
    a.text = cn_host_map(a.h, CN__statusText);
    float defaults[][2] = { { CN_CANDIDATE, 1 }, { CN_N, 3 }, { CN_SECONDS, 4 },
                            { CN_TEMPERATURE, 0.99f }, { CN_MIX, 0.5f },
                            { CN_SONG_SECONDS, 180 } };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        *cn_host_ctl(a.h, (uint32_t)defaults[i][0]) = defaults[i][1];
    for (int p = 0; p < CN_P_COUNT; p++)
        if (props[p])
            cn_host_send_set(a.h, cn_prop_defs[p].uri, cn_prop_defs[p].is_path, props[p]);
    cn_host_run(a.h, 0);   /* the properties reach the plugin before audio starts */
    const char *pn[4] = { "in_l", "in_r", "out_l", "out_r" };
    for (int k = 0; k < 2; k++) {
        a.in[k] = jack_port_register(a.jc, pn[k], JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
        a.out[k] = jack_port_register(a.jc, pn[k + 2], JACK_DEFAULT_AUDIO_TYPE,
                                      JackPortIsOutput, 0);
    }
    jack_set_process_callback(a.jc, s_process, &a);
    if (jack_activate(a.jc)) {
        fprintf(stderr, "continuo-jack: cannot activate the JACK client\n");
        return 1;
    }
    if (conn)
        for (int k = 0; k < 2; k++)
            if (jack_connect(a.jc, conn, jack_port_name(a.in[k])))
                fprintf(stderr, "continuo-jack: cannot connect %s\n", conn);
    pthread_t th;
    pthread_create(&th, NULL, s_status_main, &a);
    printf("continuo-jack: running as \"%s\" at %u Hz; clips go to %s (type status, quit)\n",
           name, jack_get_sample_rate(a.jc), dir);
    fflush(stdout);
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        if (!strncmp(line, "quit", 4))
            break;
        s_command(&a, line);
        fflush(stdout);
    }
    jack_deactivate(a.jc);
    cn_host_free(&a.h);
    jack_client_close(a.jc);
    return 0;
}

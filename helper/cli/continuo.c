/* SPDX-License-Identifier: MIT
 * `continuo`: the co-composition loop from a terminal or a script (generate, continue, rerun,
 * upsample, tree, export, cancel) over cn_client. Exits non-zero with the helper's message.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void s_usage(FILE *f)
{
    fprintf(f,
"usage: continuo [--helper ENDPOINT] [--server-key FILE] [--client-key FILE] COMMAND ...\n"
"\n"
"  generate PROMPT.wav --artist A --genre G [--genre G2] [--lyrics-file F] --seconds S\n"
"           [--total S] [-n N] [--temperature T] [--top-k K] [--top-p P] [--seed X]\n"
"           [--out DIR]       sample N continuations of the prompt (a new composition)\n"
"  continue NODE --choice K --seconds S [-n N] [--out DIR]\n"
"                             continue candidate K of NODE (--choice -1: NODE itself)\n"
"  rerun NODE [--out DIR]     new candidates for NODE, as its last ones were made\n"
"  upsample NODE --level L    render NODE's path at level 1 or 0 (full quality)\n"
"  tree [COMPOSITION]         list compositions, or one composition's tree\n"
"  export NODE --level L --out FILE.wav|.flac [--rate HZ]\n"
"                             write a node's audio (level 2: top-level decode)\n"
"  cancel JOB                 stop a queued or running job\n"
"\n"
"  --helper ENDPOINT   default ipc://$XDG_RUNTIME_DIR/continuo-helper.sock\n"
"  --server-key FILE   the helper's public key (CURVE, for tcp:// helpers)\n"
"  --client-key FILE   this client's key pair (from continuo-helper keygen)\n"
"  --rate HZ           sample rate of written files (default 44100)\n"
"  --quiet             no progress output\n"
"Candidates are written as DIR/NODE.wav. Exit status: 0 ok, 1 the helper refused or failed\n"
"(its message on stderr), 2 bad usage or no helper.\n");
}

static int s_parse(int argc, char **argv, cli_opts *o)
{
    static const struct option opts[] = {
        {"helper", 1, 0, 'H'}, {"server-key", 1, 0, 'K'}, {"client-key", 1, 0, 'C'},
        {"artist", 1, 0, 'a'}, {"genre", 1, 0, 'g'}, {"lyrics-file", 1, 0, 'L'},
        {"seconds", 1, 0, 's'}, {"total", 1, 0, 'T'}, {"temperature", 1, 0, 't'},
        {"top-k", 1, 0, 'k'}, {"top-p", 1, 0, 'p'}, {"seed", 1, 0, 'S'}, {"out", 1, 0, 'o'},
        {"choice", 1, 0, 'c'}, {"level", 1, 0, 'l'}, {"rate", 1, 0, 'r'},
        {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    o->level = -1;
    o->choice = -2;
    while ((c = getopt_long(argc, argv, "n:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o->helper = optarg; break;
        case 'K': o->server_key = optarg; break;
        case 'C': o->client_key = optarg; break;
        case 'a': o->artist = optarg; break;
        case 'g':
            if (o->n_genres >= 16) { fprintf(stderr, "continuo: at most 16 genres\n"); return -1; }
            o->genres[o->n_genres++] = optarg;
            break;
        case 'L': o->lyrics_file = optarg; break;
        case 's': o->seconds = atof(optarg); break;
        case 'T': o->total = atof(optarg); break;
        case 'n': o->sampling.n = atoi(optarg); break;
        case 't': o->sampling.temperature = (float)atof(optarg); break;
        case 'k': o->sampling.top_k = atoi(optarg); break;
        case 'p': o->sampling.top_p = (float)atof(optarg); break;
        case 'S': o->sampling.seed = strtoull(optarg, NULL, 10); break;
        case 'o': o->out = optarg; break;
        case 'c': o->choice = atoi(optarg); break;
        case 'l': o->level = atoi(optarg); break;
        case 'r': o->rate = atof(optarg); break;
        case 'q': o->quiet = 1; break;
        case 'h': s_usage(stdout); exit(0);
        default: return -1;
        }
    }
    return 0;
}

static char *s_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(64 * 1024 + 1);
    size_t n = buf ? fread(buf, 1, 64 * 1024, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* Waits for a request and turns the outcome into an exit status. */
static int s_finish(cn_client *c, uint64_t id, cli_state *st, const char *err_send)
{
    char err[CN_CLIENT_ERRLEN];
    if (!id) {
        fprintf(stderr, "continuo: %s\n", err_send);
        return 2;
    }
    int rc = cn_client_wait(c, id, -1, cli_on_event, st, err, sizeof err);
    if (rc) {
        fprintf(stderr, "continuo: %s\n", err);
        return rc < 0 ? 2 : 1;
    }
    return st->failed ? 1 : 0;
}

static int s_generate(cn_client *c, const cli_opts *o, const char *prompt, cli_state *st)
{
    char err[CN_CLIENT_ERRLEN];
    float *audio = NULL;
    int64_t n = 0;
    int rate = 0;
    if (cn_audio_read(prompt, &audio, &n, &rate, err, sizeof err)) {
        fprintf(stderr, "continuo: %s\n", err);
        return 2;
    }
    char *lyrics = o->lyrics_file ? s_read_text(o->lyrics_file) : NULL;
    if (o->lyrics_file && !lyrics) {
        fprintf(stderr, "continuo: cannot read lyrics file %s\n", o->lyrics_file);
        free(audio);
        return 2;
    }
    const cn_helper_info *hi = cn_client_info(c);
    double total = o->total > 0 ? o->total : (double)n / rate + o->seconds;
    if (o->total <= 0 && total < hi->min_total_seconds) total = hi->min_total_seconds;
    cn_generate_req r = {audio, n, rate, o->artist, o->genres, o->n_genres, lyrics, total,
                         o->seconds, o->sampling};
    uint64_t id = cn_client_generate(c, &r, err, sizeof err);
    free(audio);
    free(lyrics);
    return s_finish(c, id, st, err);
}

typedef struct s_export_ctx {
    uint64_t id;
    const char *path;
    double rate;
    int written;
    char err[CN_CLIENT_ERRLEN];
} s_export_ctx;

static void s_on_audio(void *user, const cn_event *ev)
{
    s_export_ctx *x = user;
    if (ev->type != CN_EV_AUDIO || ev->request_id != x->id) return;
    int rate = x->rate > 0 ? (int)x->rate : (int)ev->sample_rate;
    if (cn_audio_write(x->path, ev->audio, ev->audio_len, (int)ev->sample_rate, rate, x->err,
                       sizeof x->err) == 0) {
        x->written = 1;
        printf("wrote %s: %s level %d, %.2f s at %d Hz\n", x->path, ev->node, ev->level,
               (double)ev->audio_len / ev->sample_rate, rate);
    }
}

static int s_export(cn_client *c, const cli_opts *o, const char *node)
{
    char err[CN_CLIENT_ERRLEN];
    if (!o->out || o->level < 0) {
        fprintf(stderr, "continuo: export needs --level L and --out FILE\n");
        return 2;
    }
    s_export_ctx x = {0, o->out, o->rate, 0, ""};
    x.id = cn_client_audio(c, node, o->level, err, sizeof err);
    if (!x.id) { fprintf(stderr, "continuo: %s\n", err); return 2; }
    int rc = cn_client_wait(c, x.id, -1, s_on_audio, &x, err, sizeof err);
    if (rc) {
        fprintf(stderr, "continuo: %s\n", err);
        return rc < 0 ? 2 : 1;
    }
    if (!x.written) {
        fprintf(stderr, "continuo: %s\n", x.err);
        return 1;
    }
    return 0;
}

/* `tree COMP` prints one tree; `tree` every composition's tree. */
static void s_collect(void *user, const cn_event *ev)
{
    char (*ids)[64] = user;
    for (int i = 0; ev->type == CN_EV_TREE && i < ev->n_compositions && i < 256; i++)
        snprintf(ids[i], 64, "%s", ev->compositions[i].id);
}

static int s_tree(cn_client *c, const char *comp, cli_state *st)
{
    char err[CN_CLIENT_ERRLEN] = "";
    if (comp) return s_finish(c, cn_client_tree(c, comp, err, sizeof err), st, err);
    static char ids[257][64];
    memset(ids, 0, sizeof ids);
    uint64_t id = cn_client_tree(c, NULL, err, sizeof err);
    if (!id) return s_finish(c, id, st, err);
    int rc = cn_client_wait(c, id, -1, s_collect, ids, err, sizeof err);
    if (rc) {
        fprintf(stderr, "continuo: %s\n", err);
        return rc < 0 ? 2 : 1;
    }
    if (!ids[0][0]) printf("no compositions yet\n");
    for (int i = 0; i < 256 && ids[i][0]; i++) {
        rc = s_finish(c, cn_client_tree(c, ids[i], err, sizeof err), st, err);
        if (rc) return rc;
    }
    return 0;
}

/* Runs one command; returns the exit status. */
static int s_command(cn_client *c, const cli_opts *o, int argc, char **argv)
{
    const char *cmd = argv[0], *arg = argc > 1 ? argv[1] : NULL;
    char err[CN_CLIENT_ERRLEN] = "";
    cli_state st = {o, isatty(2), 0, "", 0};
    if (o->out && strcmp(cmd, "export")) mkdir(o->out, 0755);
    if (!strcmp(cmd, "tree")) return s_tree(c, arg, &st);
    if (!arg) {
        fprintf(stderr, "continuo: %s needs an argument (see --help)\n", cmd);
        return 2;
    }
    if (!strcmp(cmd, "generate")) {
        if (o->seconds <= 0) { fprintf(stderr, "continuo: generate needs --seconds S\n"); return 2; }
        return s_generate(c, o, arg, &st);
    }
    if (!strcmp(cmd, "continue")) {
        if (o->choice < -1 || o->seconds <= 0) {
            fprintf(stderr, "continuo: continue needs --choice K and --seconds S\n");
            return 2;
        }
        return s_finish(c, cn_client_continue(c, arg, o->choice, o->seconds, &o->sampling, err,
                                              sizeof err), &st, err);
    }
    if (!strcmp(cmd, "rerun"))
        return s_finish(c, cn_client_rerun(c, arg, &o->sampling, err, sizeof err), &st, err);
    if (!strcmp(cmd, "upsample")) {
        if (o->level < 0) { fprintf(stderr, "continuo: upsample needs --level 1 or 0\n"); return 2; }
        return s_finish(c, cn_client_upsample(c, arg, o->level, err, sizeof err), &st, err);
    }
    if (!strcmp(cmd, "export")) return s_export(c, o, arg);
    if (!strcmp(cmd, "cancel"))
        return s_finish(c, cn_client_cancel(c, strtoull(arg, NULL, 10), err, sizeof err), &st,
                        err);
    fprintf(stderr, "continuo: unknown command %s (see --help)\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    cli_opts o;
    memset(&o, 0, sizeof o);
    if (s_parse(argc, argv, &o)) { s_usage(stderr); return 2; }
    if (optind >= argc) { s_usage(stderr); return 2; }
    cn_client_config cfg = {o.helper, o.server_key, o.client_key, "continuo-cli", 0, 0, NULL,
                            NULL};
    char err[CN_CLIENT_ERRLEN];
    cn_client *c = NULL;
    if (cn_client_open(&c, &cfg, err, sizeof err)) {
        fprintf(stderr, "continuo: %s\n", err);
        return 2;
    }
    int rc = s_command(c, &o, argc - optind, argv + optind);
    cn_client_close(&c);
    return rc;
}

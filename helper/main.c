/* SPDX-License-Identifier: MIT
 * continuo-helper: command line, model loading, and the life of the daemon (start the server,
 * wait for SIGINT/SIGTERM or, with --stop-with-stdin, the end of standard input; stop cleanly).
 * `continuo-helper keygen BASE` makes CURVE keys.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "client.h"
#include "server.h"
#include "server_log.h"

static void s_usage(FILE *f)
{
    fprintf(f,
"usage: continuo-helper [options]\n"
"       continuo-helper keygen BASE      write BASE.key (key pair, mode 0600) and BASE.pub\n"
"\n"
"Runs the Continuo engine for any number of clients (the LV2 plugin, the `continuo` CLI).\n"
"\n"
"Models (converted with continuo-convert):\n"
"  --models DIR          folder holding vqvae.safetensors, upsampler_level_{0,1}.safetensors\n"
"                        and prior_<SET>.safetensors\n"
"  --model-set SET       5b, 5b_lyrics or 1b_lyrics (default 5b_lyrics)\n"
"  --vqvae FILE, --prior FILE, --upsampler1 FILE, --upsampler0 FILE\n"
"                        single files instead of (or overriding) --models\n"
"  --backend NAME        cpu or cuda (default cpu)\n"
"  --max-batch N         most candidates sampled as one batch (default 16)\n"
"\n"
"Network:\n"
"  --endpoint E          where to listen (default ipc://$XDG_RUNTIME_DIR/continuo-helper.sock;\n"
"                        tcp://0.0.0.0:5555 for remote clients, with --curve-key)\n"
"  --curve-key FILE      this helper's key pair (from keygen): turns on CURVE encryption\n"
"  --allow PATH          client public keys to admit: a .pub file, a file of keys, or a\n"
"                        folder of .pub files; every other client is refused\n"
"  --max-message-mb N    largest message accepted (default 256)\n"
"  --heartbeat-ms N      heartbeat interval; a peer silent for 3 is presumed gone (1000)\n"
"\n"
"Work:\n"
"  --store DIR           compositions and the jobs journal (default\n"
"                        $XDG_DATA_HOME/continuo/store)\n"
"  --max-candidates N    most candidates per request (default 16)\n"
"  --preview-s S         decoded previews every S seconds while sampling (3; 0: off)\n"
"  --log-level L         error, warn, info (default) or debug\n"
"  --stop-with-stdin     stop as on SIGTERM when standard input ends (the LV2 plugin starts\n"
"                        its local helper so: it stops when the host goes, even on a crash)\n"
"  --help                this text\n");
}

typedef struct s_opts {
    cn_engine_config eng;
    cn_server_config srv;
    const char *models, *set;
    char paths[4][4096];
    char store[4096];
    int stop_with_stdin;
} s_opts;

static int s_parse(int argc, char **argv, s_opts *o)
{
    static const struct option opts[] = {
        {"models", 1, 0, 'm'}, {"model-set", 1, 0, 's'}, {"vqvae", 1, 0, 'v'},
        {"prior", 1, 0, 'p'}, {"upsampler1", 1, 0, '1'}, {"upsampler0", 1, 0, '0'},
        {"backend", 1, 0, 'b'}, {"max-batch", 1, 0, 'B'}, {"endpoint", 1, 0, 'e'},
        {"curve-key", 1, 0, 'k'}, {"allow", 1, 0, 'a'}, {"max-message-mb", 1, 0, 'M'},
        {"heartbeat-ms", 1, 0, 'H'}, {"store", 1, 0, 'S'}, {"max-candidates", 1, 0, 'n'},
        {"preview-s", 1, 0, 'P'}, {"log-level", 1, 0, 'l'}, {"stop-with-stdin", 0, 0, 'I'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->models = optarg; break;
        case 's': o->set = optarg; break;
        case 'v': o->eng.vqvae_path = optarg; break;
        case 'p': o->eng.prior_path = optarg; break;
        case '1': o->eng.upsampler1_path = optarg; break;
        case '0': o->eng.upsampler0_path = optarg; break;
        case 'b': o->eng.backend = optarg; break;
        case 'B': o->eng.max_batch = atoi(optarg); break;
        case 'e': o->srv.endpoint = optarg; break;
        case 'k': o->srv.curve_secret = optarg; break;
        case 'a': o->srv.allow = optarg; break;
        case 'M': o->srv.max_message_bytes = (uint64_t)atof(optarg) * (1u << 20); break;
        case 'H': o->srv.heartbeat_ms = atoi(optarg); break;
        case 'S': o->srv.store_dir = optarg; break;
        case 'n': o->srv.max_candidates = atoi(optarg); break;
        case 'P': o->srv.preview_interval_s = atof(optarg); break;
        case 'l':
            if (cn_log_parse_level(optarg) < 0) {
                fprintf(stderr, "continuo-helper: log level %s: use error, warn, info or "
                        "debug\n", optarg);
                return -1;
            }
            cn_log_set_level(cn_log_parse_level(optarg));
            break;
        case 'I': o->stop_with_stdin = 1; break;
        case 'h': s_usage(stdout); exit(0);
        default: s_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "continuo-helper: unexpected argument %s (see --help)\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* --models DIR fills the paths not given one by one. */
static void s_model_paths(s_opts *o)
{
    if (!o->set) o->set = "5b_lyrics";
    if (!o->eng.backend) o->eng.backend = "cpu";
    if (!o->models) return;
    const char *names[4] = {"vqvae", NULL, "upsampler_level_1", "upsampler_level_0"};
    const char **slots[4] = {&o->eng.vqvae_path, &o->eng.prior_path, &o->eng.upsampler1_path,
                             &o->eng.upsampler0_path};
    for (int i = 0; i < 4; i++) {
        if (*slots[i]) continue;
        if (names[i]) snprintf(o->paths[i], sizeof o->paths[i], "%s/%s.safetensors", o->models,
                               names[i]);
        else snprintf(o->paths[i], sizeof o->paths[i], "%s/prior_%s.safetensors", o->models,
                      o->set);
        *slots[i] = o->paths[i];
    }
}

static void s_default_store(s_opts *o)
{
    if (o->srv.store_dir) return;
    const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (x && x[0]) snprintf(o->store, sizeof o->store, "%s/continuo/store", x);
    else snprintf(o->store, sizeof o->store, "%s/.local/share/continuo/store",
                  home ? home : ".");
    o->srv.store_dir = o->store;
}

/* --stop-with-stdin: reads standard input to its end, then sends this process SIGTERM (which
 * main's sigwait takes like any other). */
static void *s_stdin_watch(void *arg)
{
    (void)arg;
    char buf[256];
    ssize_t r;
    while ((r = read(0, buf, sizeof buf)) != 0)
        if (r < 0 && errno != EINTR) break;
    cn_log(CN_LOG_INFO, "standard input %s: the program that started this helper has gone",
           r == 0 ? "ended" : "failed");
    kill(getpid(), SIGTERM);
    return NULL;
}

static int s_watch_stdin(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, s_stdin_watch, NULL)) return -1;
    pthread_detach(t);
    return 0;
}

int main(int argc, char **argv)
{
    char err[1024];
    if (argc >= 2 && !strcmp(argv[1], "keygen")) {
        if (argc != 3) { fprintf(stderr, "usage: continuo-helper keygen BASE\n"); return 2; }
        if (cn_curve_keygen(argv[2], err, sizeof err)) {
            fprintf(stderr, "continuo-helper: %s\n", err);
            return 1;
        }
        printf("wrote %s.key (keep it secret) and %s.pub\n", argv[2], argv[2]);
        return 0;
    }
    s_opts o;
    memset(&o, 0, sizeof o);
    o.srv.preview_interval_s = 3;
    if (s_parse(argc, argv, &o)) return 2;
    s_model_paths(&o);
    s_default_store(&o);
    if (!o.eng.vqvae_path || !o.eng.prior_path) {
        fprintf(stderr, "continuo-helper: no models: give --models DIR (or --vqvae and "
                "--prior); see --help\n");
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);   /* every thread inherits this */
    signal(SIGPIPE, SIG_IGN);
    cn_runner runner;
    cn_log(CN_LOG_INFO, "loading model set %s on %s", o.set, o.eng.backend);
    if (cn_runner_engine(&runner, &o.eng, o.set, err, sizeof err)) {
        cn_log(CN_LOG_ERROR, "%s", err);
        return 1;
    }
    o.srv.runner = &runner;
    cn_server *srv = NULL;
    if (cn_server_start(&srv, &o.srv, err, sizeof err)) {
        cn_log(CN_LOG_ERROR, "%s", err);
        runner.close(runner.self);
        return 1;
    }
    if (o.stop_with_stdin && s_watch_stdin()) {
        cn_log(CN_LOG_ERROR, "--stop-with-stdin: could not start the thread that watches "
               "standard input");
        cn_server_stop(&srv);
        runner.close(runner.self);
        return 1;
    }
    int status = cn_server_wait(srv, &sigs);
    cn_server_stop(&srv);
    runner.close(runner.self);
    return status;
}

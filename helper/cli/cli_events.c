/* SPDX-License-Identifier: MIT
 * How the CLI shows events: a progress bar on a terminal (plain lines otherwise), one line
 * per candidate/window/result, and candidate and window audio written under --out.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void s_progress(cli_state *st, const cn_event *ev)
{
    if (st->o->quiet) return;
    if (!st->tty) {
        fprintf(stderr, "progress job %llu %.3f %.1f tokens/s eta %.1f s\n",
                (unsigned long long)ev->job, ev->fraction, ev->tokens_per_s, ev->eta_s);
        return;
    }
    int w = 30, k = (int)(ev->fraction * w + 0.5);
    if (k < 0) k = 0;
    if (k > w) k = w;
    char bar[64];
    memset(bar, '#', (size_t)k);
    memset(bar + k, '.', (size_t)(w - k));
    bar[w] = 0;
    fprintf(stderr, "\r[%s] %3.0f%%  %7.1f tok/s  ETA %5.0f s ", bar, ev->fraction * 100,
            ev->tokens_per_s, ev->eta_s);
    fflush(stderr);
}

static void s_write(cli_state *st, const char *name, const cn_event *ev)
{
    if (!st->o->out || !ev->audio_len) return;
    char path[4096], err[CN_CLIENT_ERRLEN];
    snprintf(path, sizeof path, "%s/%s.wav", st->o->out, name);
    int rate = st->o->rate > 0 ? (int)st->o->rate : (int)ev->sample_rate;
    if (cn_audio_write(path, ev->audio, ev->audio_len, (int)ev->sample_rate, rate, err,
                       sizeof err)) {
        fprintf(stderr, "continuo: %s\n", err);
        st->failed = 1;
        return;
    }
    printf("  wrote %s\n", path);
    st->wrote++;
}

void cli_on_event(void *user, const cn_event *ev)
{
    cli_state *st = user;
    char name[256];
    if (st->tty && ev->type != CN_EV_PROGRESS && !st->o->quiet) fputs("\r\033[K", stderr);
    switch (ev->type) {
    case CN_EV_ACCEPTED:
        printf("job %llu accepted, %u ahead of it%s%s\n", (unsigned long long)ev->job,
               ev->queue_position, ev->node[0] ? ", node " : "", ev->node);
        break;
    case CN_EV_PROGRESS: s_progress(st, ev); break;
    case CN_EV_PREVIEW: break;
    case CN_EV_CANDIDATE:
        printf("candidate %d: %s (child of %s, %.2f s new audio)\n", ev->index, ev->node,
               ev->parent, ev->sample_rate ? (double)ev->audio_len / ev->sample_rate : 0);
        snprintf(name, sizeof name, "%s", ev->node);
        s_write(st, name, ev);
        break;
    case CN_EV_WINDOW:
        if (st->o->quiet || st->tty) break;   /* the progress bar shows it on a terminal */
        printf("window %d/%d of level %d for %s\n", ev->index + 1, ev->count, ev->level,
               ev->node);
        break;
    case CN_EV_DONE:
        printf("done: job %llu", (unsigned long long)ev->job);
        for (int i = 0; i < ev->n_nodes; i++) printf(" %s", ev->nodes[i]);
        printf("\n");
        break;
    case CN_EV_ERROR:
        snprintf(st->message, sizeof st->message, "%s", ev->message);
        break;
    case CN_EV_TREE: cli_print_tree(ev); break;
    case CN_EV_AUDIO: break;
    case CN_EV_DISCONNECTED: fprintf(stderr, "continuo: helper silent; reconnecting\n"); break;
    case CN_EV_RECONNECTED: fprintf(stderr, "continuo: reconnected, session resumed\n"); break;
    }
    fflush(stdout);
}

static void s_print_node(const cn_event *ev, const char *id, int depth)
{
    for (int i = 0; i < ev->n_tree; i++) {
        const cn_tree_node *n = &ev->tree[i];
        if (strcmp(n->id, id)) continue;
        printf("%*s%s  %.2f s  %llu codes  audio:%s%s%s", depth * 2, "", n->id, n->seconds,
               (unsigned long long)n->n_codes, n->levels & 4 ? " top" : "",
               n->levels & 2 ? " L1" : "", n->levels & 1 ? " L0" : "");
        if (n->windows_done && !(n->levels & 1)) printf("  (%u windows upsampled)",
                                                         n->windows_done);
        printf("\n");
        for (int k = 0; k < n->n_children; k++) s_print_node(ev, n->children[k], depth + 1);
    }
}

void cli_print_tree(const cn_event *ev)
{
    for (int i = 0; i < ev->n_compositions; i++) {
        const cn_tree_composition *c = &ev->compositions[i];
        printf("composition %s  artist \"%s\"  genres", c->id, c->artist);
        for (int g = 0; g < c->n_genres; g++) printf(" \"%s\"", c->genres[g]);
        printf("  song %.2f s  root %s\n", c->total_seconds, c->root);
        if (ev->n_tree) s_print_node(ev, c->root, 1);
    }
    if (!ev->n_compositions) printf("no compositions yet\n");
}

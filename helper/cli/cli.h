/* SPDX-License-Identifier: MIT
 * The `continuo` CLI's shared pieces: options, event printing (progress bars on a terminal,
 * plain lines otherwise) and writing received audio. Never keeps state beyond one command.
 */
#ifndef CN_CLI_H
#define CN_CLI_H

#include "client.h"

typedef struct cli_opts {
    const char *helper, *server_key, *client_key;
    const char *artist, *genres[16], *lyrics_file, *out, *choice_s;
    int n_genres;
    double seconds, total, rate;
    int level, choice, quiet;
    cn_client_sampling sampling;
} cli_opts;

typedef struct cli_state {
    const cli_opts *o;
    int tty;
    int failed;
    char message[CN_CLIENT_ERRLEN];
    int wrote;
} cli_state;

/* The event callback of every command: prints and writes files under o->out. */
void cli_on_event(void *user, const cn_event *ev);
/* Prints a composition list or tree. */
void cli_print_tree(const cn_event *ev);

#endif

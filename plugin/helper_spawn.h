/* SPDX-License-Identifier: MIT
 * The local default helper: one continuo-helper per host process, started by the plugin when
 * nobody answers on the default endpoint and stopped with the last instance. Never from run().
 */
#ifndef CN_HELPER_SPAWN_H
#define CN_HELPER_SPAWN_H

#include <stddef.h>

/* One call per plugin instance (instantiate / cleanup). The last cn_hs_unref stops the helper
 * this process started (SIGTERM to its process group, then waits; SIGKILL after 10 s). */
void cn_hs_ref(void);
void cn_hs_unref(void);

/* Whether something listens at an ipc:// endpoint: 1 yes, 0 nobody (no socket file, or the
 * connection is refused), -1 cannot tell (not ipc://). Never blocks. */
int cn_hs_listening(const char *endpoint);

/* Starts continuo-helper listening at endpoint, unless the one this process started is still
 * running. bundle: the plugin's bundle folder (the helper is looked for next to it);
 * model_set: "" for the helper's default. Returns 0 with what started in msg, or -1 with why
 * not ("... (models in DIR)"). */
int cn_hs_start(const char *endpoint, const char *bundle, const char *model_set, char *msg,
                size_t n);

/* The helper this process started: 1 running, 0 none, -1 the last start failed or it ended
 * (msg: "could not start continuo-helper: it exited with status 1: <its log's last line>
 * (models in DIR, log FILE)", or "continuo-helper stopped: ..." once it had answered).
 * Reaps it; never blocks. */
int cn_hs_check(char *msg, size_t n);

/* A client got an answer from it: a later exit is reported as "stopped", not "could not
 * start". */
void cn_hs_answered(void);

/* Where the helper's models are looked for: CONTINUO_MODELS, else
 * $XDG_DATA_HOME/continuo/models, else ~/.local/share/continuo/models. */
const char *cn_hs_models_dir(char *buf, size_t n);

#endif

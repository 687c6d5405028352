/* SPDX-License-Identifier: MIT
 * Starts, watches and stops the local continuo-helper a host process's plugin instances share
 * (posix_spawn, its own process group, output to a log). Its standard input is a pipe whose
 * other end only this process holds: if the host dies without cleanup, the helper sees end of
 * file and stops as on SIGTERM (--stop-with-stdin). Client thread and instantiate/cleanup
 * only: it may block for a moment; never call it from run() or the LV2 worker.
 */
#define _GNU_SOURCE
#include "helper_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define S_MAX_ARGS 40

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_refs;
static pid_t s_pid;                 /* the running helper this process started, or 0 */
static char s_models[1024], s_log[1024];
static char s_exit[2400];           /* why the last start failed or how it ended; or "" */
static int s_up;                    /* it has answered a client (cn_hs_answered) */
static int s_stdin = -1;            /* write end of the helper's stdin pipe (never written) */

const char *cn_hs_models_dir(char *buf, size_t n)
{
    const char *env = getenv("CONTINUO_MODELS"), *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (env && env[0])
        snprintf(buf, n, "%s", env);
    else if (xdg && xdg[0])
        snprintf(buf, n, "%s/continuo/models", xdg);
    else
        snprintf(buf, n, "%s/.local/share/continuo/models", home ? home : "");
    return buf;
}

int cn_hs_listening(const char *endpoint)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strncmp(endpoint, "ipc://", 6) || endpoint[6] == '@' ||
        strlen(endpoint + 6) >= sizeof a.sun_path)
        return -1;
    memcpy(a.sun_path, endpoint + 6, strlen(endpoint + 6) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int r = connect(fd, (struct sockaddr *)&a, sizeof a), e = errno;
    close(fd);
    if (!r || e == EAGAIN || e == EINPROGRESS)
        return 1;
    return e == ENOENT || e == ECONNREFUSED ? 0 : -1;
}

/* The helper program: CONTINUO_HELPER's words (a command line, split at spaces), else
 * continuo-helper next to the bundle (the build tree's BUILD/helper, or PREFIX/bin for
 * PREFIX/lib/lv2), else continuo-helper from PATH. Returns the number of words. */
static int s_program(const char *bundle, char *buf, size_t n, char **argv)
{
    const char *env = getenv("CONTINUO_HELPER");
    if (env && env[0]) {
        snprintf(buf, n, "%s", env);
        int argc = 0;
        for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w && argc < S_MAX_ARGS - 10;
             w = strtok_r(NULL, " \t", &save))
            argv[argc++] = w;
        if (argc)
            return argc;
    }
    static const char *const near[] = { "continuo-helper", "../../helper/continuo-helper",
                                        "../../../bin/continuo-helper" };
    const char *sep = bundle[0] && bundle[strlen(bundle) - 1] != '/' ? "/" : "";
    for (size_t i = 0; bundle[0] && i < sizeof near / sizeof near[0]; i++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof cand, "%s%s%s", bundle, sep, near[i]);
        if (!access(cand, X_OK) && realpath(cand, buf)) {
            argv[0] = buf;
            return 1;
        }
    }
    snprintf(buf, n, "continuo-helper");
    argv[0] = buf;
    return 1;
}

/* The log goes beside the socket (the user's runtime folder), which is made if needed. */
static void s_log_path(const char *endpoint, char *buf, size_t n)
{
    snprintf(buf, n, "%s", endpoint + 6);
    char *slash = strrchr(buf, '/');
    if (!slash) {
        snprintf(buf, n, "/tmp/continuo-helper-%d.log", (int)getuid());
        return;
    }
    *slash = '\0';
    mkdir(buf, 0700);
    size_t at = strlen(buf);
    snprintf(buf + at, n - at, "/continuo-helper.log");
}

/* Spawns argv with stdin the read end of a new pipe; *wfd gets the write end (close-on-exec,
 * so programs the host starts later do not keep the helper alive). */
static int s_spawn(char **argv, const char *log, pid_t *pid, int *wfd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return errno;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);   /* not the host's sockets and files */
#endif
    posix_spawnattr_init(&at);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&dflt, sigs[i]);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    int r = strchr(argv[0], '/') ? posix_spawn(pid, argv[0], &fa, &at, argv, environ)
                                 : posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (r)
        close(p[1]);
    else
        *wfd = p[1];
    return r;
}

static void s_close_stdin(void)
{
    if (s_stdin >= 0)
        close(s_stdin);
    s_stdin = -1;
}

/* Whether the helper we started has ended; if so, says how in s_exit. Under s_lock. */
static int s_reaped(void)
{
    if (s_pid <= 0)
        return 1;
    int st = 0;
    pid_t r = waitpid(s_pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return 0;
    char how[64], last[160] = "";
    if (r < 0)
        snprintf(how, sizeof how, "it ended (pid %d)", (int)s_pid);
    else if (WIFSIGNALED(st))
        snprintf(how, sizeof how, "it was killed by signal %d", WTERMSIG(st));
    else
        snprintf(how, sizeof how, "it exited with status %d", WEXITSTATUS(st));
    FILE *f = fopen(s_log, "r");
    if (f) {   /* the last line it wrote, which says why */
        char line[512];
        while (fgets(line, sizeof line, f))
            if (line[0] != '\n') {   /* without "12:00:00.000 continuo-helper error: " */
                const char *p = strstr(line, "continuo-helper error: ");
                p = p ? p + strlen("continuo-helper error: ") : line;
                snprintf(last, sizeof last, "%.*s", (int)strcspn(p, "\n"), p);
            }
        fclose(f);
    }
    snprintf(s_exit, sizeof s_exit, "%s: %s%s%s (models in %s, log %s)",
             s_up ? "continuo-helper stopped" : "could not start continuo-helper", how,
             last[0] ? ": " : "", last, s_models, s_log);
    s_pid = 0;
    s_close_stdin();
    return 1;
}

int cn_hs_start(const char *endpoint, const char *bundle, const char *model_set, char *msg,
                size_t n)
{
    pthread_mutex_lock(&s_lock);
    if (!s_reaped()) {
        snprintf(msg, n, "continuo-helper (pid %d) is starting (models in %s)", (int)s_pid,
                 s_models);
        pthread_mutex_unlock(&s_lock);
        return 0;
    }
    cn_hs_models_dir(s_models, sizeof s_models);
    struct stat st;
    int ret = -1;
    if (stat(s_models, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(s_exit, sizeof s_exit, "could not start continuo-helper: no models folder "
                 "(models in %s: convert them there or set CONTINUO_MODELS)", s_models);
        goto out;
    }
    static char prog[PATH_MAX + 4096];
    char *argv[S_MAX_ARGS];
    int argc = s_program(bundle ? bundle : "", prog, sizeof prog, argv);
    argv[argc++] = "--models";
    argv[argc++] = s_models;
    if (model_set && model_set[0]) {
        argv[argc++] = "--model-set";
        argv[argc++] = (char *)model_set;
    }
    argv[argc++] = "--endpoint";
    argv[argc++] = (char *)endpoint;
    argv[argc++] = "--stop-with-stdin";
    argv[argc] = NULL;
    s_log_path(endpoint, s_log, sizeof s_log);
    pid_t pid = 0;
    int r = s_spawn(argv, s_log, &pid, &s_stdin);
    if (r) {
        snprintf(s_exit, sizeof s_exit, "could not start continuo-helper: %s: %s (models in "
                 "%s)", argv[0], strerror(r), s_models);
        goto out;
    }
    s_pid = pid;
    s_up = 0;
    s_exit[0] = '\0';
    snprintf(msg, n, "started %s (pid %d, models in %s, log %s)", argv[0], (int)pid, s_models,
             s_log);
    ret = 0;
out:
    if (ret)
        snprintf(msg, n, "%s", s_exit);
    pthread_mutex_unlock(&s_lock);
    return ret;
}

int cn_hs_check(char *msg, size_t n)
{
    pthread_mutex_lock(&s_lock);
    int ret = !s_reaped() ? 1 : s_exit[0] ? -1 : 0;
    if (ret < 0)
        snprintf(msg, n, "%s", s_exit);
    pthread_mutex_unlock(&s_lock);
    return ret;
}

void cn_hs_answered(void)
{
    pthread_mutex_lock(&s_lock);
    s_up = 1;
    pthread_mutex_unlock(&s_lock);
}

void cn_hs_ref(void)
{
    pthread_mutex_lock(&s_lock);
    s_refs++;
    pthread_mutex_unlock(&s_lock);
}

/* TERM to the helper's process group, up to 10 s for it to finish, then KILL. */
static void s_stop(pid_t pid)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        struct timespec ts = { 0, 50 * 1000000 };
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

void cn_hs_unref(void)
{
    pthread_mutex_lock(&s_lock);
    if (--s_refs <= 0) {
        s_refs = 0;
        if (!s_reaped())
            s_stop(s_pid);
        s_pid = 0;
        s_close_stdin();
        s_exit[0] = '\0';
    }
    pthread_mutex_unlock(&s_lock);
}

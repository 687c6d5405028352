/* SPDX-License-Identifier: MIT
 * The store survives anything: a writer process is SIGKILLed at random moments while it adds
 * nodes and windows, and after each kill the reopened store holds only complete entries
 * (every indexed node's codes intact, every counted window readable), no temp files, and job
 * ids that never repeat. Also: atomic writes, the journal, and the index after a reopen.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

#define N_CODES 20000

static cn_check chk;

static void s_pattern(int32_t *c, long k, int64_t n)
{
    for (int64_t i = 0; i < n; i++) c[i] = (int32_t)(k * 7919 + i);
}

/* The child: adds nodes (with windows) under c1.0 until killed. */
/* Adds nodes with their windows forever, writing a byte to `progress` after each node. */
static void s_writer(const char *dir, int progress)
{
    char err[512];
    cn_store *s;
    if (cn_store_open(&s, dir, err, sizeof err)) _exit(3);
    static int32_t codes[N_CODES];
    static float audio[N_CODES];
    cn_store_node root;
    if (cn_store_get_node(s, "c1.0", &root)) {
        cn_store_comp c = {0};
        snprintf(c.artist, sizeof c.artist, "x");
        c.total_seconds = 1;
        s_pattern(codes, 0, 100);
        if (cn_store_new_composition(s, &c, codes, 100, err, sizeof err)) _exit(4);
    }
    for (;;) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "c1.0");
        cn_store_node n;
        uint64_t job = cn_store_next_job_id(s, err, sizeof err);
        cn_store_journal_put(s, job, "{\"kind\":4}", err, sizeof err);
        /* the node's codes follow the pattern of the number it will get */
        char (*ids)[CN_STORE_ID] = NULL;
        int nn = 0;
        cn_store_list(s, "c1", &ids, &nn);
        free(ids);
        s_pattern(codes, nn, N_CODES);
        if (cn_store_add_node(s, "c1.0", codes, N_CODES, 100, NULL, &n, err, sizeof err)) _exit(5);
        if (write(progress, "n", 1) != 1) _exit(6);
        for (int w = 0; w < 3; w++)
            cn_store_put_window(s, n.id, 1, w, codes, 1000, audio, 4000, err, sizeof err);
        cn_store_journal_remove(s, job);
    }
}

/* Waits (at most 60 s) until the writer reports `count` more nodes. */
static void s_await_nodes(int fd, int count)
{
    char b;
    for (int got = 0; got < count;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 60000) <= 0 || read(fd, &b, 1) != 1) return;
        got++;
    }
}

static int s_tmp_files(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/compositions/c1", dir);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

/* Reopens the store and checks every indexed node and counted window. */
static void s_verify(const char *dir, int round, uint64_t *last_job)
{
    char err[512], msg[700];
    cn_store *s;
    int rc = cn_store_open(&s, dir, err, sizeof err);
    if (rc) { cn_check_true(&chk, "reopen after a kill", 0, err); return; }
    char (*ids)[CN_STORE_ID] = NULL;
    int n = 0, bad = 0, windows = 0;
    cn_store_list(s, "c1", &ids, &n);
    static int32_t want[N_CODES];
    for (int i = 0; i < n; i++) {
        int32_t *codes = NULL;
        int64_t nc = 0;
        long k = strtol(strchr(ids[i], '.') + 1, NULL, 10);
        if (cn_store_node_codes(s, ids[i], &codes, &nc, err, sizeof err)) { bad++; continue; }
        s_pattern(want, k, nc);
        cn_store_node node;
        cn_store_get_node(s, ids[i], &node);
        if (nc != node.n_codes || memcmp(codes, want, (size_t)nc * 4)) bad++;
        free(codes);
        int w = cn_store_windows_done(s, ids[i], 1);
        for (int j = 0; j < w; j++) {
            int32_t *wc;
            float *wa;
            int64_t nwc, nwa;
            if (cn_store_get_window(s, ids[i], 1, j, &wc, &nwc, &wa, &nwa, err, sizeof err) ||
                nwc != 1000 || nwa != 4000)
                bad++;
            else free(wc), free(wa);
            windows++;
        }
    }
    uint64_t job = cn_store_next_job_id(s, err, sizeof err);
    snprintf(msg, sizeof msg, "round %d: %d nodes, %d windows, %d damaged, %d temp files left, "
             "next job id %llu after %llu", round, n, windows, bad, s_tmp_files(dir),
             (unsigned long long)job, (unsigned long long)*last_job);
    cn_check_true(&chk, "after SIGKILL the store holds only complete entries", n > 1 &&
                  bad == 0 && s_tmp_files(dir) == 0 && job > *last_job, msg);
    *last_job = job;
    free(ids);
    cn_store_close(&s);
}

static void s_basics(const char *dir)
{
    char path[1024], err[512], msg[700];
    snprintf(path, sizeof path, "%s/atomic.bin", dir);
    int rc = cn_store_write_atomic(path, "hello ", 6, "world", 5, err, sizeof err);
    void *data = NULL;
    size_t n = 0;
    if (!rc) rc = cn_store_read_file(path, &data, &n, err, sizeof err);
    snprintf(msg, sizeof msg, "%zu bytes \"%.11s\"", n, data ? (char *)data : "");
    cn_check_true(&chk, "atomic write of two buffers reads back", rc == 0 && n == 11 &&
                  !memcmp(data, "hello world", 11), msg);
    free(data);
    snprintf(path, sizeof path, "%s/no/such/dir/file", dir);
    rc = cn_store_write_atomic(path, "x", 1, NULL, 0, err, sizeof err);
    cn_check_true(&chk, "a failed write names the file and the reason", rc == -1 &&
                  strstr(err, "no/such/dir") && strstr(err, "No such file"), err);
}

int main(void)
{
    char dir[512], store[600];
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cn-store-XXXXXX", t && t[0] ? t : "/tmp");
    if (!mkdtemp(dir)) return 2;
    snprintf(store, sizeof store, "%s/store", dir);
    s_basics(dir);
    srand((unsigned)time(NULL));
    uint64_t last_job = 0;
    for (int round = 0; round < 6; round++) {
        int fds[2];
        if (pipe(fds)) return 2;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            s_writer(store, fds[1]);
        }
        close(fds[1]);
        s_await_nodes(fds[0], 2);   /* a loaded machine may take long to write the first */
        usleep((useconds_t)(rand() % 120000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(fds[0]);
        s_verify(store, round, &last_job);
    }
    return cn_check_finish(&chk);
}

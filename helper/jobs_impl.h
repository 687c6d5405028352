/* SPDX-License-Identifier: MIT
 * The scheduler's private state, shared by jobs*.c only.
 */
#ifndef CN_JOBS_IMPL_H
#define CN_JOBS_IMPL_H

#include <pthread.h>

#include "cn_proto.h"
#include "jobs.h"

typedef struct cn_served {
    char session[64];
    uint64_t tick;
} cn_served;

struct cn_jobs {
    cn_jobs_config cfg;
    char events_endpoint[128];   /* a copy: cfg's string belongs to the caller */
    cn_engine_info info;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;        /* guards queue, running, served, order, tick */
    pthread_cond_t wake;
    cn_job *queue;
    cn_job *running;
    cn_served *served;
    int n_served;
    uint64_t order, tick;
    atomic_int stop;
    atomic_int device_lost;      /* the runner's device is unusable: the worker has ended */
    void *events;                /* PAIR to the server; worker thread only */
};

/* Runs one turn of a job on the worker thread: a whole interactive job or one upsampling
 * window. Returns 1 when the job is over (done, failed or cancelled), 0 when it wants more
 * turns, -1 when the helper is stopping (the job stays journaled). */
int cn_jobs_run_turn(cn_jobs *j, cn_job *job);

/* Samples job->sampling.n children of base by job->seconds (jobs_run.c); one window of an
 * upsample (jobs_upsample.c). Both return like cn_jobs_run_turn. */
int cn_jobs_sample_children(cn_jobs *j, cn_job *job, const char *base);
int cn_jobs_upsample_turn(cn_jobs *j, cn_job *job);

/* Window plan of an upsampler level of T codes (the reference's get_starts with the last
 * window pulled back): ends[i] = where window i stops. Returns the count (<= max). */
int cn_jobs_window_ends(int64_t total, int n_ctx, int hop, int64_t *ends, int max);

/* Events to the job's session (worker thread). */
void cn_jobs_emit(cn_jobs *j, const cn_job *job, cn_env *env, const cn_blob *blobs, int n);
void cn_jobs_emit_error(cn_jobs *j, const cn_job *job, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

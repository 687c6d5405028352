/* SPDX-License-Identifier: MIT
 * Jobs: the runner interface (the engine, or a test double), the scheduler (interactive jobs
 * first, fair across sessions, upsampling one window per turn) and the engine worker thread.
 * The worker is the only thread that computes; it never touches the client sockets.
 */
#ifndef CN_JOBS_H
#define CN_JOBS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "store.h"

/* The engine as jobs see it. The real one (jobs_engine.c) wraps cn_engine_*; tests inject a
 * double. Every function runs on the worker thread, except info and check_labels (pure
 * lookups, also called by the server thread). */
typedef struct cn_runner {
    void *self;
    const char *model_set;      /* shown in the welcome */
    const char *backend;
    void (*info)(void *self, cn_engine_info *info);
    int (*check_labels)(void *self, const cn_song *song, char *err, size_t errlen);
    int (*encode)(void *self, const float *audio, int64_t n, int level, int32_t **codes,
                  int64_t *n_codes, char *err, size_t errlen);
    int (*decode)(void *self, const int32_t *codes, int64_t n, int level, float **audio,
                  int64_t *n_samples, char *err, size_t errlen);
    int (*sample_level)(void *self, int level, int32_t *codes, int64_t have,
                        int64_t target_len, const int32_t *above, int64_t above_len,
                        const cn_song *song, const cn_sampling *s, cn_progress_fn progress,
                        void *user, char *err, size_t errlen);
    /* Optional (NULL: never): 1 when the device is unusable after a sticky error, so that no
     * later call can succeed in this process (cn_engine_device_lost). */
    int (*device_lost)(void *self);
    void (*close)(void *self);
} cn_runner;

/* The real engine as a runner. Returns 0, or -1 with err from cn_engine_open. */
int cn_runner_engine(cn_runner *r, const cn_engine_config *cfg, const char *model_set,
                     char *err, size_t errlen);

typedef enum cn_job_kind {
    CN_JOB_GENERATE = 1, CN_JOB_CONTINUE, CN_JOB_RERUN, CN_JOB_UPSAMPLE
} cn_job_kind;

/* Exit status of a helper whose device became unusable (systemd's Restart=on-failure and the
 * plugin's next command start a new one). */
#define CN_EXIT_DEVICE_LOST 75

typedef struct cn_job {
    uint64_t id;
    uint64_t request_id;
    char session[64];
    cn_job_kind kind;
    char node[CN_STORE_ID];     /* generate: root once encoded; else the node worked on */
    int choice;                 /* continue */
    int level;                  /* upsample target level */
    double seconds;             /* continuation length */
    cn_store_sampling sampling;
    cn_store_comp comp;         /* generate: song metadata (comp.lyrics owned by the job) */
    double prompt_rate;         /* generate: prompt kept in DIR/jobs/<id>.prompt.f32 */
    atomic_int cancel;
    int interactive;
    uint64_t order;             /* submission order (FIFO within a class and session) */
    struct cn_job *next;
} cn_job;

typedef struct cn_jobs cn_jobs;

typedef struct cn_jobs_config {
    cn_runner *runner;
    cn_store *store;
    void *zmq_ctx;
    const char *events_endpoint;   /* inproc PAIR the server binds; the worker connects */
    double preview_interval_s;     /* 0 = no previews */
    double progress_interval_s;    /* 0 = 0.25 */
} cn_jobs_config;

/* Starts the worker thread. Journaled jobs of the store are queued again (resume). */
int cn_jobs_start(cn_jobs **j, const cn_jobs_config *cfg, char *err, size_t errlen);
/* Stops after the current step (running jobs are cancelled but stay journaled). */
void cn_jobs_stop(cn_jobs **j);

/* 1 once a job failed because the runner's device became unusable (runner->device_lost):
 * the worker then runs nothing more, and queued jobs stay journaled for a new process. */
int cn_jobs_device_lost(cn_jobs *j);

/* Journals and queues a job (takes ownership of job). Returns its place in the queue
 * (0 = runs next), or -1 with err (store failure). */
int cn_jobs_submit(cn_jobs *j, cn_job *job, char *err, size_t errlen);
/* Cancels a job of that session. Returns 0 when it is running (it ends within one sampling
 * step with its own ERR_CANCELLED event), 1 when it was queued and is now gone (the caller
 * reports it; *request_id is the job's request), -1 when the session has no such job. */
int cn_jobs_cancel(cn_jobs *j, uint64_t job_id, const char *session, uint64_t *request_id);
/* Serialises a job for the journal (malloc'd JSON) and back. */
char *cn_job_to_json(const cn_job *job);
cn_job *cn_job_from_json(uint64_t id, const char *json);
void cn_job_free(cn_job *job);

#endif

/* SPDX-License-Identifier: MIT
 * The scheduler and the engine worker thread: interactive jobs before upsampling, the session
 * served least recently first, FIFO within a session; upsampling runs one window per turn.
 * The worker is the only thread that computes; it talks to the server through a PAIR socket.
 */
#define _GNU_SOURCE
#include "jobs_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_log.h"

static uint64_t s_served(cn_jobs *j, const char *session)
{
    for (int i = 0; i < j->n_served; i++)
        if (!strcmp(j->served[i].session, session)) return j->served[i].tick;
    return 0;
}

static void s_mark_served(cn_jobs *j, const char *session)
{
    j->tick++;
    for (int i = 0; i < j->n_served; i++)
        if (!strcmp(j->served[i].session, session)) {
            j->served[i].tick = j->tick;
            return;
        }
    cn_served *p = realloc(j->served, (size_t)(j->n_served + 1) * sizeof *p);
    if (!p) return;
    j->served = p;
    snprintf(p[j->n_served].session, sizeof p->session, "%s", session);
    p[j->n_served++].tick = j->tick;
}

/* Lower is sooner: (class, last served, order). Lock held. */
static int s_before(cn_jobs *j, const cn_job *a, const cn_job *b)
{
    if (a->interactive != b->interactive) return a->interactive;
    uint64_t sa = s_served(j, a->session), sb = s_served(j, b->session);
    if (sa != sb) return sa < sb;
    return a->order < b->order;
}

static cn_job *s_pick(cn_jobs *j)
{
    cn_job **best = NULL;
    for (cn_job **p = &j->queue; *p; p = &(*p)->next)
        if (!best || s_before(j, *p, *best)) best = p;
    if (!best) return NULL;
    cn_job *job = *best;
    *best = job->next;
    job->next = NULL;
    return job;
}

static int s_position(cn_jobs *j, const cn_job *job)
{
    int pos = j->running ? 1 : 0;
    for (cn_job *q = j->queue; q; q = q->next)
        if (q != job && s_before(j, q, job)) pos++;
    return pos;
}

static void s_append(cn_jobs *j, cn_job *job)
{
    job->order = ++j->order;
    job->next = NULL;
    cn_job **p = &j->queue;
    while (*p) p = &(*p)->next;
    *p = job;
}

static void *s_worker(void *arg)
{
    cn_jobs *j = arg;
    j->events = zmq_socket(j->cfg.zmq_ctx, ZMQ_PAIR);
    int linger = 2000, unlimited = 0, timeout = 5000;
    zmq_setsockopt(j->events, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(j->events, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(j->events, ZMQ_SNDTIMEO, &timeout, sizeof timeout);   /* never hang */
    zmq_connect(j->events, j->cfg.events_endpoint);
    for (;;) {
        pthread_mutex_lock(&j->lock);
        while (!atomic_load(&j->stop) && !j->queue) pthread_cond_wait(&j->wake, &j->lock);
        if (atomic_load(&j->stop)) { pthread_mutex_unlock(&j->lock); break; }
        cn_job *job = s_pick(j);
        j->running = job;
        s_mark_served(j, job->session);
        pthread_mutex_unlock(&j->lock);

        int over = cn_jobs_run_turn(j, job);

        pthread_mutex_lock(&j->lock);
        j->running = NULL;
        if (over == 0 && !atomic_load(&job->cancel)) s_append(j, job);
        else {
            if (over == 0) cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_CANCELLED,
                                              "job %llu cancelled", (unsigned long long)job->id);
            if (over >= 0) cn_store_journal_remove(j->cfg.store, job->id);
            cn_job_free(job);
        }
        int lost = atomic_load(&j->device_lost);
        pthread_mutex_unlock(&j->lock);
        if (lost) break;
    }
    zmq_close(j->events);
    j->events = NULL;
    return NULL;
}

static void s_resume_one(void *user, uint64_t id, const char *json)
{
    cn_jobs *j = user;
    cn_job *job = cn_job_from_json(id, json);
    if (!job) {
        cn_log(CN_LOG_WARN, "journal entry of job %llu is unreadable; dropped",
               (unsigned long long)id);
        cn_store_journal_remove(j->cfg.store, id);
        return;
    }
    cn_log(CN_LOG_INFO, "resuming job %llu (%s of session %s)", (unsigned long long)id,
           job->interactive ? "interactive" : "upsample", job->session);
    s_append(j, job);
}

int cn_jobs_start(cn_jobs **out, const cn_jobs_config *cfg, char *err, size_t errlen)
{
    cn_jobs *j = calloc(1, sizeof *j);
    if (!j) { snprintf(err, errlen, "out of memory"); return -1; }
    j->cfg = *cfg;
    snprintf(j->events_endpoint, sizeof j->events_endpoint, "%s", cfg->events_endpoint);
    j->cfg.events_endpoint = j->events_endpoint;
    if (j->cfg.progress_interval_s <= 0) j->cfg.progress_interval_s = 0.25;
    cfg->runner->info(cfg->runner->self, &j->info);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    cn_store_journal_each(cfg->store, s_resume_one, j);
    if (pthread_create(&j->thread, NULL, s_worker, j)) {
        snprintf(err, errlen, "cannot start the engine worker thread");
        free(j);
        return -1;
    }
    j->started = 1;
    *out = j;
    return 0;
}

void cn_jobs_stop(cn_jobs **jp)
{
    if (!jp || !*jp) return;
    cn_jobs *j = *jp;
    pthread_mutex_lock(&j->lock);
    atomic_store(&j->stop, 1);
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->lock);
    if (j->started) pthread_join(j->thread, NULL);
    while (j->queue) {
        cn_job *n = j->queue->next;
        cn_job_free(j->queue);
        j->queue = n;
    }
    free(j->served);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->wake);
    free(j);
    *jp = NULL;
}

int cn_jobs_device_lost(cn_jobs *j) { return atomic_load(&j->device_lost); }

int cn_jobs_submit(cn_jobs *j, cn_job *job, char *err, size_t errlen)
{
    job->interactive = job->kind != CN_JOB_UPSAMPLE;
    char *json = cn_job_to_json(job);
    int rc = json ? cn_store_journal_put(j->cfg.store, job->id, json, err, errlen) : -1;
    free(json);
    if (rc) return -1;
    pthread_mutex_lock(&j->lock);
    s_append(j, job);
    int pos = s_position(j, job);
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
    return pos;
}

int cn_jobs_cancel(cn_jobs *j, uint64_t id, const char *session, uint64_t *request_id)
{
    int rc = -1;
    pthread_mutex_lock(&j->lock);
    if (j->running && j->running->id == id && !strcmp(j->running->session, session)) {
        atomic_store(&j->running->cancel, 1);
        rc = 0;
    }
    for (cn_job **p = &j->queue; rc < 0 && *p; p = &(*p)->next) {
        cn_job *q = *p;
        if (q->id != id || strcmp(q->session, session)) continue;
        *p = q->next;
        if (request_id) *request_id = q->request_id;
        cn_store_journal_remove(j->cfg.store, q->id);
        cn_job_free(q);
        rc = 1;
        break;
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

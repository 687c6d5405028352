/* SPDX-License-Identifier: MIT
 * One turn of each kind of job: generate (encode the prompt into a new composition, then
 * sample), continue, rerun, and upsample (one window per turn, resumable from the store).
 * Runs on the worker thread only.
 */
#define _GNU_SOURCE
#include "jobs_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server_log.h"

#define ERRLEN 512

/* Prompt file -> 44.1 kHz -> codes -> a new composition; sets job->node to its root. */
static int s_encode_prompt(cn_jobs *j, cn_job *job, char *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/jobs/%llu.prompt.f32", cn_store_dir(j->cfg.store),
             (unsigned long long)job->id);
    float *raw = NULL, *audio = NULL;
    size_t bytes;
    int64_t n;
    if (cn_store_read_file(path, (void **)&raw, &bytes, err, ERRLEN)) return -1;
    if (cn_audio_resample(raw, (int64_t)(bytes / 4), job->prompt_rate, CN_SAMPLE_RATE, &audio,
                          &n, err, ERRLEN)) {
        free(raw);
        return -1;
    }
    free(raw);
    cn_runner *r = j->cfg.runner;
    int32_t *codes = NULL;
    int64_t nc = 0;
    int rc = r->encode(r->self, audio, n, 2, &codes, &nc, err, ERRLEN);
    free(audio);
    if (rc) return -1;
    rc = cn_store_new_composition(j->cfg.store, &job->comp, codes, nc, err, ERRLEN);
    float *dec = NULL;
    int64_t nd = 0;
    if (!rc && !r->decode(r->self, codes, nc, 2, &dec, &nd, err, ERRLEN)) {
        rc = cn_store_put_audio(j->cfg.store, job->comp.root, 2, dec, nd, err, ERRLEN);
        free(dec);
    }
    free(codes);
    if (rc) return -2;
    snprintf(job->node, sizeof job->node, "%s", job->comp.root);
    char *json = cn_job_to_json(job);
    if (json) cn_store_journal_put(j->cfg.store, job->id, json, err, ERRLEN);
    free(json);
    cn_log(CN_LOG_INFO, "job %llu: prompt encoded to %lld codes, composition %s",
           (unsigned long long)job->id, (long long)nc, job->comp.id);
    return 0;
}

int cn_jobs_run_turn(cn_jobs *j, cn_job *job)
{
    char err[ERRLEN];
    switch (job->kind) {
    case CN_JOB_GENERATE:
        if (!job->node[0]) {
            int rc = s_encode_prompt(j, job, err);
            if (rc) {
                cn_jobs_emit_error(j, job, rc == -2 ? CONTINUO__ERROR_CODE__ERR_STORE
                                                    : CONTINUO__ERROR_CODE__ERR_ENGINE,
                                   "%s", err);
                return 1;
            }
        }
        return cn_jobs_sample_children(j, job, job->node);
    case CN_JOB_CONTINUE:
    case CN_JOB_RERUN:
        return cn_jobs_sample_children(j, job, job->node);
    case CN_JOB_UPSAMPLE:
        return cn_jobs_upsample_turn(j, job);
    }
    cn_jobs_emit_error(j, job, CONTINUO__ERROR_CODE__ERR_BAD_VALUE, "job kind %d is unknown",
                       (int)job->kind);
    return 1;
}

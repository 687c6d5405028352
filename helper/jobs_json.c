/* SPDX-License-Identifier: MIT
 * Journal form of a job (JSON) and back: everything needed to run it again after a restart.
 * Never trusts a journal entry: missing fields read as 0/empty and the job then fails cleanly.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"

char *cn_job_to_json(const cn_job *job)
{
    cJSON *j = cJSON_CreateObject();
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)job->request_id);
    cJSON_AddStringToObject(j, "request_id", num);
    cJSON_AddStringToObject(j, "session", job->session);
    cJSON_AddNumberToObject(j, "kind", job->kind);
    cJSON_AddStringToObject(j, "node", job->node);
    cJSON_AddNumberToObject(j, "choice", job->choice);
    cJSON_AddNumberToObject(j, "level", job->level);
    cJSON_AddNumberToObject(j, "seconds", job->seconds);
    const cn_store_sampling *s = &job->sampling;
    cJSON_AddNumberToObject(j, "n", s->n);
    cJSON_AddNumberToObject(j, "temperature", s->temperature);
    cJSON_AddNumberToObject(j, "top_k", s->top_k);
    cJSON_AddNumberToObject(j, "top_p", s->top_p);
    snprintf(num, sizeof num, "%llu", (unsigned long long)s->seed);
    cJSON_AddStringToObject(j, "seed", num);
    cJSON_AddStringToObject(j, "artist", job->comp.artist);
    cJSON *g = cJSON_AddArrayToObject(j, "genres");
    for (int i = 0; i < job->comp.n_genres; i++)
        cJSON_AddItemToArray(g, cJSON_CreateString(job->comp.genres[i]));
    cJSON_AddStringToObject(j, "lyrics", job->comp.lyrics ? job->comp.lyrics : "");
    cJSON_AddNumberToObject(j, "total_seconds", job->comp.total_seconds);
    cJSON_AddNumberToObject(j, "prompt_rate", job->prompt_rate);
    char *txt = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return txt;
}

static double s_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *s_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

cn_job *cn_job_from_json(uint64_t id, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    if (!j) return NULL;
    cn_job *job = calloc(1, sizeof *job);
    if (!job) { cJSON_Delete(j); return NULL; }
    job->id = id;
    job->request_id = strtoull(s_str(j, "request_id"), NULL, 10);
    snprintf(job->session, sizeof job->session, "%s", s_str(j, "session"));
    job->kind = (cn_job_kind)(int)s_num(j, "kind");
    snprintf(job->node, sizeof job->node, "%s", s_str(j, "node"));
    job->choice = (int)s_num(j, "choice");
    job->level = (int)s_num(j, "level");
    job->seconds = s_num(j, "seconds");
    job->sampling.n = (int)s_num(j, "n");
    job->sampling.temperature = (float)s_num(j, "temperature");
    job->sampling.top_k = (int)s_num(j, "top_k");
    job->sampling.top_p = (float)s_num(j, "top_p");
    job->sampling.seed = strtoull(s_str(j, "seed"), NULL, 10);
    job->sampling.seconds = job->seconds;
    snprintf(job->comp.artist, sizeof job->comp.artist, "%s", s_str(j, "artist"));
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(j, "genres")) {
        if (job->comp.n_genres < 16 && cJSON_IsString(g))
            snprintf(job->comp.genres[job->comp.n_genres++], 256, "%s", g->valuestring);
    }
    job->comp.lyrics = strdup(s_str(j, "lyrics"));
    job->comp.total_seconds = s_num(j, "total_seconds");
    job->prompt_rate = s_num(j, "prompt_rate");
    job->interactive = job->kind != CN_JOB_UPSAMPLE;
    cJSON_Delete(j);
    return job;
}

void cn_job_free(cn_job *job)
{
    if (!job) return;
    free(job->comp.lyrics);
    free(job);
}

/* SPDX-License-Identifier: MIT
 * The LV2 worker: short file work only (writing clip WAVs into the session folder and the
 * clips folder). Never waits on the network or on the client thread: some hosts share one
 * worker between plugins, and during export a host may run work() inside run().
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int s_mkdirs(const char *dir)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int cn_clip_file_path(cn_core *c, const char *name, char *out, size_t outlen)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s.wav", name);
    if (c->make_path) {
        char *p = c->make_path->path(c->make_path->handle, rel);
        if (!p)
            return -1;
        int n = snprintf(out, outlen, "%s", p);
        free(p);
        return n < (int)outlen ? 0 : -1;
    }
    /* No session folder from the host: the user's data folder. */
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char dir[900];
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/continuo/clips", xdg);
    else
        snprintf(dir, sizeof dir, "%s/.local/share/continuo/clips", home ? home : "/tmp");
    if (s_mkdirs(dir))
        return -1;
    int n = snprintf(out, outlen, "%s/%s", dir, rel);
    return n < (int)outlen ? 0 : -1;
}

static void s_write(cn_core *c, const cn_work_msg *w)
{
    char path[1024], err[1200], clips[CN_PROP_CAP];
    const char *what = NULL;
    if (cn_clip_file_path(c, w->clip->name, path, sizeof path)) {
        snprintf(err, sizeof err, "no folder for clip %s", w->clip->name);
        what = err;
    } else if (cn_clip_write_wav(w->clip, path, err, sizeof err)) {
        what = err;
    }
    pthread_mutex_lock(&c->lock);
    snprintf(clips, sizeof clips, "%s", c->props.v[CN_P_CLIPS_DIR]);
    if (!what && w->step >= 0 && w->step < CN_MAX_STEPS && w->slot >= 0 &&
        w->slot < CN_MAX_CAND && c->saved.clip_id[w->step][w->slot] == w->clip)
        snprintf(c->saved.clip_path[w->step][w->slot], 1024, "%s", path);
    pthread_mutex_unlock(&c->lock);
    if (clips[0] && !what) {
        char copy[CN_PROP_CAP + 200];
        snprintf(copy, sizeof copy, "%s/%s.wav", clips, w->clip->name);
        if (s_mkdirs(clips) || cn_clip_write_wav(w->clip, copy, err, sizeof err))
            what = err;
    }
    if (what)
        cn_log_error(c, what);
}

LV2_Worker_Status cn_work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                          LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
    (void)respond;
    (void)rh;
    cn_core *c = h;
    cn_work_msg w;
    if (size != sizeof w)
        return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&w, data, sizeof w);
    if (w.type == CN_W_WRITE && w.clip) {
        s_write(c, &w);
        cn_clip_unref(&w.clip);
    }
    return LV2_WORKER_SUCCESS;
}

LV2_Worker_Status cn_work_response(LV2_Handle h, uint32_t size, const void *data)
{
    (void)h;
    (void)size;
    (void)data;
    return LV2_WORKER_SUCCESS;
}

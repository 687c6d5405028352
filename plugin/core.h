/* SPDX-License-Identifier: MIT
 * The plugin instance shared by run() (run.c), state (state.c), worker (worker.c) and the
 * client thread (client_thread.c). Fields say which thread owns them; nothing is shared
 * between run() and other threads except through the rings and the atomics marked so.
 */
#ifndef CN_CORE_H
#define CN_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include "clip.h"
#include "props.h"
#include "ring.h"
#include "uris.h"

enum cn_port {
    CN_IN_L, CN_IN_R, CN_OUT_L, CN_OUT_R, CN_CONTROL, CN_NOTIFY,
    CN_CAPTURE, CN_GENERATE, CN_CANDIDATE, CN_AUDITION, CN_CONTINUE, CN_RERUN, CN_BACK,
    CN_UPSAMPLE, CN_N, CN_SECONDS, CN_TEMPERATURE, CN_MIX, CN_SONG_SECONDS,
    CN_STATUS, CN_PROGRESS, CN_ERROR, CN_READY, CN_PLAYING, CN_CAPTURED,
    CN_PORT_COUNT
};

/* Status codes of the `status` output control (same numbers as the ttl's scale points). */
enum cn_status {
    CN_ST_IDLE, CN_ST_CAPTURING, CN_ST_CONNECTING, CN_ST_QUEUED, CN_ST_GENERATING,
    CN_ST_UPSAMPLING, CN_ST_READY, CN_ST_HELPER_DOWN, CN_ST_ERROR
};

#define CN_MAX_CAND 8
#define CN_MAX_STEPS 32
#define CN_MODEL_RATE 44100.0
/* The longest prompt a released top-level prior takes: one window of 5b / 5b_lyrics,
 * 8192 codes x hop 128 = 1048576 samples at 44.1 kHz (23.8 s). The capture holds this. */
#define CN_MAX_PROMPT_44K 1048576
#define CN_TEXT_CAP 512   /* a status text, with the helper message it quotes */

/* Messages on the rings (type of each record). */
enum cn_msg_type {
    /* run() -> client thread */
    CN_M_GENERATE = 1, CN_M_CONTINUE, CN_M_RERUN, CN_M_BACK, CN_M_UPSAMPLE, CN_M_SELECT,
    CN_M_PROP, CN_M_RETURN,
    /* client thread -> run() */
    CN_M_STATUS = 32, CN_M_PROGRESS, CN_M_INSTALL, CN_M_CLEAR, CN_M_PLAY_START, CN_M_PROPS
};

/* One fixed record for every command and event; strings follow it in the same record.
 * GENERATE: l0 captured frames kept, l1 frames played while capturing, d3 region end frame.
 * CONTINUE/RERUN/BACK/SELECT/UPSAMPLE: i0 selected candidate (0-based), i1 N, i2 level,
 *   d0 seconds, d1 temperature, d2 song seconds.
 * STATUS: i0 code, i1 error flag, d0 progress, text after the record.
 * INSTALL: i0 slot, i1 candidates ready, i2 write a clip file (0/1), i3 step, clip.
 * CLEAR: i0 first slot to empty. PLAY_START: l0 frame. RETURN: clip run() let go of. */
typedef struct cn_msg {
    int32_t i0, i1, i2, i3;
    int64_t l0, l1;
    double d0, d1, d2, d3;
    cn_clip *clip;
} cn_msg;

/* Worker jobs (the bodies given to worker:schedule). */
typedef struct cn_work_msg {
    uint32_t type;        /* CN_W_WRITE */
    int32_t step, slot;   /* slot -1-L: the upsampled path at level L */
    cn_clip *clip;        /* holds one reference, dropped by work() */
} cn_work_msg;
enum { CN_W_WRITE = 1 };

/* What save() writes: kept by the client thread and the worker under `lock`. */
typedef struct cn_saved {
    char composition[64];
    char tree[CN_MAX_STEPS * CN_MAX_CAND * 70 + 64];   /* lines "S I node parent" */
    int selected;         /* 0-based */
    int64_t region_end;   /* host frame where candidates start playing */
    int depth;
    const cn_clip *clip_id[CN_MAX_STEPS][CN_MAX_CAND];
    char clip_path[CN_MAX_STEPS][CN_MAX_CAND][1024];
} cn_saved;

typedef struct cn_ct cn_ct;   /* the client thread (client_thread.c) */

typedef struct cn_core {
    /* Set at instantiate, read-only afterwards. */
    double rate;
    uint32_t max_block;
    cn_uris uris;
    LV2_URID prop_urid[CN_P_COUNT];
    LV2_URID_Map *map;
    LV2_Worker_Schedule *schedule;
    LV2_State_Make_Path *make_path;   /* may be NULL */
    LV2_Log_Log *log;                 /* may be NULL; never used from run() */
    char bundle[1024];

    /* Ports (host thread sets, run() reads). */
    void *port[CN_PORT_COUNT];

    /* Capture buffer: stereo interleaved, cap_frames frames. run() writes while !cap_locked;
     * the client thread reads it while cap_locked (set by run(), cleared by the thread). */
    float *cap;
    int64_t cap_frames;
    atomic_bool cap_locked;

    cn_ring to_ct, from_ct;

    /* run()-only state. */
    struct {
        LV2_Atom_Forge forge;
        bool have_pos, rolling;
        int64_t frame;            /* host transport frame at the start of this segment */
        bool region_open, region_done;
        int64_t region_start, region_end, cap_len, cap_total;
        float last[CN_PORT_COUNT];    /* previous control values for edges */
        cn_clip *slot[CN_MAX_CAND];   /* borrowed; given back via CN_M_RETURN */
        int n_ready;
        int64_t play_start;
        bool auditioning;
        int64_t aud_pos;
        int status, error;
        float progress;
        char text[CN_TEXT_CAP];
        bool text_dirty, props_dirty;
        uint32_t dropped;         /* messages that did not fit a ring */
        cn_props props;           /* mirror for patch:Get */
    } rt;

    /* Non-realtime shared state (client thread, worker, save()); never touched by run(). */
    pthread_mutex_t lock;
    cn_props props;
    cn_saved saved;

    cn_ct *ct;
} cn_core;

/* continuo.c: the host's log (stderr without one); never from run(). */
void cn_log_error(cn_core *c, const char *msg);
/* A status that is not an error, as a trace message (jalv shows them with -t); no-op without
 * a host log. */
void cn_log_trace(cn_core *c, const char *msg);

/* run.c */
void cn_run(cn_core *c, uint32_t n);

/* worker.c */
LV2_Worker_Status cn_work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                          LV2_Worker_Respond_Handle rh, uint32_t size, const void *data);
LV2_Worker_Status cn_work_response(LV2_Handle h, uint32_t size, const void *data);
/* Abstract (mapped) folder for clip files via make_path; 0 or -1. */
int cn_clip_file_path(cn_core *c, const char *name, char *out, size_t outlen);

/* state.c */
extern const LV2_State_Interface cn_state_iface;

/* client_thread.c */
int cn_ct_start(cn_core *c, char *err, size_t errlen);
void cn_ct_stop(cn_core *c);
/* Hands a restored session (clips already loaded) to the thread. Not realtime. */
typedef struct cn_restored {
    char composition[64];
    int depth, selected;
    int64_t region_end;
    int n[CN_MAX_STEPS];
    char node[CN_MAX_STEPS][CN_MAX_CAND][64], parent[CN_MAX_STEPS][64];
    cn_clip *clip[CN_MAX_STEPS][CN_MAX_CAND];   /* ownership passes to the thread */
    char path[CN_MAX_STEPS][CN_MAX_CAND][1024];  /* where each clip was read from */
    int chosen[CN_MAX_STEPS];
} cn_restored;
void cn_ct_restore(cn_core *c, cn_restored *r);
/* Property changed outside run() (restore); the thread reconnects if needed. */
void cn_ct_props_changed(cn_core *c);

#endif

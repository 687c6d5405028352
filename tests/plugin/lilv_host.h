/* SPDX-License-Identifier: MIT
 * A small lilv host for the offline tests: urid:map/unmap, worker:schedule (run synchronously
 * on the caller's thread after each block), options and state:makePath; ports by lilv's symbols.
 */
#ifndef CN_LILV_HOST_H
#define CN_LILV_HOST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/resize-port/resize-port.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <sndfile.h>


#define PLUGIN_URI "http://continuo.dev/lv2/continuo"
#define PRESET_URI PLUGIN_URI "#preset-remote-gpu"
#define RATE 48000
#define BLOCK 512
#define SECONDS 2
#define MAX_PORTS 64
#define MAX_URIS 1024
#define WORK_BYTES 65536

typedef struct host {
    LilvWorld *world;
    const LilvPlugin *plug;
    LilvInstance *inst;
    const LV2_Worker_Interface *wi;
    char *uris[MAX_URIS];
    uint32_t n_uris;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;
    LV2_Worker_Schedule sched;
    LV2_State_Make_Path make_path;
    LV2_Options_Option opts[4];
    int32_t block;
    float rate;
    LV2_Feature f_map, f_unmap, f_sched, f_make_path, f_opts;
    const LV2_Feature *features[6];
    uint8_t work[WORK_BYTES], resp[WORK_BYTES];   /* [uint32 size][data] queues */
    size_t work_len, resp_len;
    char dir[64];
    uint32_t n_ports;
    float ctl[MAX_PORTS];
    float *in[2], *out[2];
    LV2_Atom_Sequence *seq[MAX_PORTS];
    uint32_t seq_cap[MAX_PORTS];
    bool seq_is_in[MAX_PORTS];
} host;

/* lh_open: world loaded from LV2_PATH, the plugin found by URI, features made; 0 or -1.
 * lh_features_ok: every required feature is one this host gives (detail lists them).
 * lh_instantiate, lh_connect: an instance at RATE / BLOCK with every port connected by lilv's
 * index and symbol, controls at their ttl defaults (log lists index:symbol).
 * lh_port: a port's index by symbol, or -1. lh_block: one block with the worker run after it;
 * lh_run: run() only; lh_reset_seqs: empty input and full-capacity output sequences.
 * lh_map: the URID map, usable directly. lh_close frees everything. */
LV2_URID lh_map(LV2_URID_Map_Handle hd, const char *uri);
bool lh_features_ok(host *h, char *detail, size_t cap);
int lh_connect(host *h, char *log, size_t cap);
int lh_port(host *h, const char *sym);
void lh_reset_seqs(host *h);
void lh_run(host *h);
void lh_block(host *h);
int lh_open(host *h);
int lh_instantiate(host *h);
void lh_close(host *h);

#endif

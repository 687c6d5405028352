/* SPDX-License-Identifier: MIT
 * The plugin's writable properties: one table (URI, type, length limit) used by patch:Set,
 * patch:Get, state save/restore and presets alike. Setting a value never allocates.
 */
#ifndef CN_PROPS_H
#define CN_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lv2/urid/urid.h>

enum {
    CN_P_ENDPOINT, CN_P_SERVER_KEY, CN_P_ARTIST, CN_P_GENRE, CN_P_LYRICS, CN_P_MODEL_SET,
    CN_P_CLIPS_DIR, CN_P_COUNT
};

#define CN_PROP_CAP 4096 /* bytes per value including the NUL; the largest limit below */

typedef struct cn_prop_def {
    const char *uri;
    const char *name;     /* for messages */
    bool is_path;         /* atom:Path (else atom:String) */
    uint32_t max_len;     /* bytes, without the NUL */
} cn_prop_def;

extern const cn_prop_def cn_prop_defs[CN_P_COUNT];

typedef struct cn_props {
    char v[CN_P_COUNT][CN_PROP_CAP];
} cn_props;

/* Index of the property with this URID (urids[] from cn_props_map), or -1. */
int cn_prop_find(const LV2_URID *urids, LV2_URID key);
void cn_props_map(LV2_URID *urids, LV2_URID_Map *map);

/* Copies a value of len bytes (not NUL-terminated) into p; refuses (returns -1, p unchanged)
 * a value longer than the property's limit or holding a NUL. Realtime-safe. */
int cn_prop_set(cn_props *p, int idx, const char *val, size_t len);

#endif

/* SPDX-License-Identifier: MIT
 * The property table and its bounded setter. Every copy is checked against the limit; no
 * function here allocates, so run() may call cn_prop_set and cn_prop_find.
 */
#include "props.h"
#include "uris.h"

#include <string.h>

const cn_prop_def cn_prop_defs[CN_P_COUNT] = {
    [CN_P_ENDPOINT] = { CN__endpoint, "helper endpoint", false, 1023 },
    [CN_P_SERVER_KEY] = { CN__serverKey, "server key file", true, 1023 },
    [CN_P_ARTIST] = { CN__artist, "artist", false, 255 },
    [CN_P_GENRE] = { CN__genre, "genre", false, 255 },
    [CN_P_LYRICS] = { CN__lyrics, "lyrics", false, CN_PROP_CAP - 1 },
    [CN_P_MODEL_SET] = { CN__modelSet, "model set", false, 255 },
    [CN_P_CLIPS_DIR] = { CN__clipsDir, "clips folder", true, 1023 },
};

void cn_props_map(LV2_URID *urids, LV2_URID_Map *map)
{
    for (int i = 0; i < CN_P_COUNT; i++)
        urids[i] = map->map(map->handle, cn_prop_defs[i].uri);
}

int cn_prop_find(const LV2_URID *urids, LV2_URID key)
{
    for (int i = 0; i < CN_P_COUNT; i++)
        if (urids[i] == key)
            return i;
    return -1;
}

int cn_prop_set(cn_props *p, int idx, const char *val, size_t len)
{
    if (idx < 0 || idx >= CN_P_COUNT || len > cn_prop_defs[idx].max_len)
        return -1;
    if (len && memchr(val, '\0', len))
        len = strnlen(val, len);   /* atom strings carry their NUL inside the body */
    memcpy(p->v[idx], val, len);
    p->v[idx][len] = '\0';
    return 0;
}

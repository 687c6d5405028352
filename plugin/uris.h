/* SPDX-License-Identifier: MIT
 * The plugin's URIs and the one URID table, mapped once at instantiate (fields named after
 * their URI: patch_Set, atom_Path). Mapping never happens on the audio thread.
 */
#ifndef CN_URIS_H
#define CN_URIS_H

#include <lv2/atom/atom.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#define CN_URI "http://continuo.dev/lv2/continuo"
#define CN_NS CN_URI "#"

/* Properties (patch:Parameter), state keys and status strings. */
#define CN__endpoint CN_NS "endpoint"
#define CN__serverKey CN_NS "serverKey"
#define CN__artist CN_NS "artist"
#define CN__genre CN_NS "genre"
#define CN__lyrics CN_NS "lyrics"
#define CN__modelSet CN_NS "modelSet"
#define CN__clipsDir CN_NS "clipsDir"
#define CN__statusText CN_NS "statusText"
#define CN__composition CN_NS "composition"
#define CN__tree CN_NS "tree"
#define CN__selected CN_NS "selected"
#define CN__regionEnd CN_NS "regionEnd"
#define CN__clip CN_NS "clip"      /* + "-S-I": clip of candidate I at step S (atom:Path) */
#define CN__upsampled CN_NS "upsampled" /* + "-L": upsampled path at level L (atom:Path) */

typedef struct cn_uris {
    LV2_URID atom_Blank, atom_Object, atom_Sequence, atom_Float, atom_Double, atom_Int,
        atom_Long, atom_Bool, atom_String, atom_Path, atom_URID, atom_eventTransfer;
    LV2_URID time_Position, time_frame, time_speed;
    LV2_URID patch_Set, patch_Get, patch_property, patch_value, patch_subject;
    LV2_URID cn_statusText, cn_composition, cn_tree, cn_selected, cn_regionEnd;
} cn_uris;

static inline void cn_uris_map(cn_uris *u, LV2_URID_Map *m)
{
#define M(f, uri) u->f = m->map(m->handle, uri)
    M(atom_Blank, LV2_ATOM__Blank);
    M(atom_Object, LV2_ATOM__Object);
    M(atom_Sequence, LV2_ATOM__Sequence);
    M(atom_Float, LV2_ATOM__Float);
    M(atom_Double, LV2_ATOM__Double);
    M(atom_Int, LV2_ATOM__Int);
    M(atom_Long, LV2_ATOM__Long);
    M(atom_Bool, LV2_ATOM__Bool);
    M(atom_String, LV2_ATOM__String);
    M(atom_Path, LV2_ATOM__Path);
    M(atom_URID, LV2_ATOM__URID);
    M(atom_eventTransfer, LV2_ATOM__eventTransfer);
    M(time_Position, LV2_TIME__Position);
    M(time_frame, LV2_TIME__frame);
    M(time_speed, LV2_TIME__speed);
    M(patch_Set, LV2_PATCH__Set);
    M(patch_Get, LV2_PATCH__Get);
    M(patch_property, LV2_PATCH__property);
    M(patch_value, LV2_PATCH__value);
    M(patch_subject, LV2_PATCH__subject);
    M(cn_statusText, CN__statusText);
    M(cn_composition, CN__composition);
    M(cn_tree, CN__tree);
    M(cn_selected, CN__selected);
    M(cn_regionEnd, CN__regionEnd);
#undef M
}

#endif

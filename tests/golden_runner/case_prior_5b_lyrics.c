/* SPDX-License-Identifier: MIT
 * Golden case prior_5b_lyrics (lyric encoder, cross attention, alignment):
 * the shared prior checks of case_prior_common.c. Never edits the golden data.
 */
#include "case_prior_common.h"

int golden_case_prior_5b_lyrics(golden_ctx *g, const char *case_dir)
{
    return golden_prior_case(g, case_dir, "prior_5b_lyrics");
}

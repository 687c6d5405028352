/* SPDX-License-Identifier: MIT
 * Golden case prior_1b_lyrics (lyrics as the sequence prefix, prime attention, alignment):
 * the shared prior checks of case_prior_common.c. Never edits the golden data.
 */
#include "case_prior_common.h"

int golden_case_prior_1b_lyrics(golden_ctx *g, const char *case_dir)
{
    return golden_prior_case(g, case_dir, "prior_1b_lyrics");
}

/* SPDX-License-Identifier: MIT
 * Golden case upsampler_level_0 (conditioner on level-1 codes):
 * the shared prior checks of case_prior_common.c. Never edits the golden data.
 */
#include "case_prior_common.h"

int golden_case_upsampler_level_0(golden_ctx *g, const char *case_dir)
{
    return golden_prior_case(g, case_dir, "upsampler_level_0");
}

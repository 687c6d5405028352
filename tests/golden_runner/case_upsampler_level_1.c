/* SPDX-License-Identifier: MIT
 * Golden case upsampler_level_1: not implemented yet, so it counts as failed.
 */
#include "golden.h"

int golden_case_upsampler_level_1(golden_ctx *g, const char *case_dir)
{
    (void)case_dir;
    return cn_check_true(&g->check, "upsampler_level_1", 0, "not implemented yet");
}

/* SPDX-License-Identifier: MIT
 * Golden case filter: not implemented yet, so it counts as failed.
 */
#include "golden.h"

int golden_case_filter(golden_ctx *g, const char *case_dir)
{
    (void)case_dir;
    return cn_check_true(&g->check, "filter", 0, "not implemented yet");
}

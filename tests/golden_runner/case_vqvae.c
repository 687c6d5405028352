/* SPDX-License-Identifier: MIT
 * Golden case vqvae: not implemented yet, so it counts as failed.
 */
#include "golden.h"

int golden_case_vqvae(golden_ctx *g, const char *case_dir)
{
    (void)case_dir;
    return cn_check_true(&g->check, "vqvae", 0, "not implemented yet");
}

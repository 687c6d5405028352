/* SPDX-License-Identifier: MIT
 * The checks every prior golden case shares (weights, structure, conditioning, full, stepwise
 * and primed logits, filtered logits, encoder keys, alignment), driven by the case's arrays.
 */
#ifndef CN_CASE_PRIOR_COMMON_H
#define CN_CASE_PRIOR_COMMON_H

#include "golden.h"

/* Runs the prior case NAME from CASE_DIR; records its checks in g. Returns 0. */
int golden_prior_case(golden_ctx *g, const char *case_dir, const char *name);

#endif

/* SPDX-License-Identifier: MIT
 * The engine's private state, shared by engine.c (opening, encode/decode) and
 * engine_sample.c (labels and the windowed sampler). Not part of the public API.
 */
#ifndef CN_ENGINE_IMPL_H
#define CN_ENGINE_IMPL_H

#include "engine.h"
#include "labels.h"
#include "modelfile.h"
#include "prior.h"
#include "vqvae.h"

struct cn_engine {
    cn_backend *be;
    cn_vqvae *vq;
    cn_prior *prior[CN_LEVELS];              /* 0, 1: upsamplers; 2: top level */
    cn_label_tables *tables[CN_LEVELS];      /* artist/genre names of each prior, if embedded */
    int max_batch;
};

#endif

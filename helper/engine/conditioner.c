/* SPDX-License-Identifier: MIT
 * The upsamplers' conditioner: building it from conditioner_blocks.0.* and running it on the
 * level-above codes of a window (facts 6; residual dilations in forward order, not reversed).
 * Never touches the transformer or its cache.
 */
#include "conditioner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_util.h"

#define S_PRE "conditioner_blocks.0"

static int s_conv(cn_conditioner *c, cn_modelfile *mf, const char *name, cn_cond_conv *cv,
                  int transposed, int cin, int cout, int k, int stride, int pad, int dil,
                  char *err, size_t errlen)
{
    char n[256];
    int64_t wne[3] = { transposed ? cin : cout, transposed ? cout : cin, k }, bne[1] = { cout };
    *cv = (cn_cond_conv){ .cin = cin, .cout = cout, .k = k, .stride = stride, .pad = pad,
                          .dil = dil };
    snprintf(n, sizeof n, "%s.weight", name);
    if (cn_tu_upload(c->be, mf, n, 3, wne, &cv->w, err, errlen)) return -1;
    snprintf(n, sizeof n, "%s.bias", name);
    return cn_tu_upload(c->be, mf, n, 1, bne, &cv->b, err, errlen);
}

static int s_check(const cn_cond_hparams *hp, char *err, size_t errlen)
{
    if (hp->down_t < 1 || hp->down_t > CN_COND_MAX_DOWN || hp->stride_t < 1 ||
        hp->cond_depth < 1 || hp->cond_depth > CN_COND_MAX_DEPTH || hp->cond_width < 1 ||
        (int)(hp->m_conv * hp->cond_width) < 1 || hp->growth < 1 || hp->cycle < 0)
        return snprintf(err, errlen, "conditioner: down_t %d (1..%d), stride %d, cond_depth %d "
                        "(1..%d), cond_width %d, growth %d, cycle %d: not a conditioner this "
                        "engine builds", hp->down_t, CN_COND_MAX_DOWN, hp->stride_t,
                        hp->cond_depth, CN_COND_MAX_DEPTH, hp->cond_width, hp->growth,
                        hp->cycle), -1;
    return 0;
}

static int s_load_steps(cn_conditioner *c, cn_modelfile *mf, int c_res, char *err,
                        size_t errlen)
{
    char n[256];
    for (int i = 0; i < c->down_t; i++) {
        for (int d = 0; d < c->depth; d++) {
            int dil = 1, e = c->cycle ? d % c->cycle : d;
            for (int j = 0; j < e; j++) dil *= c->growth;
            snprintf(n, sizeof n, "%s.cond.model.%d.0.%s.%d.model.1", S_PRE, i + 1,
                     c_res ? "blocks" : "model", d);
            if (s_conv(c, mf, n, &c->res3[i][d], 0, c->cond_width, c->n_state, 3, 1, dil, dil,
                       err, errlen))
                return -1;
            snprintf(n, sizeof n, "%s.cond.model.%d.0.%s.%d.model.3", S_PRE, i + 1,
                     c_res ? "blocks" : "model", d);
            if (s_conv(c, mf, n, &c->res1[i][d], 0, c->n_state, c->cond_width, 1, 1, 0, 1, err,
                       errlen))
                return -1;
        }
        snprintf(n, sizeof n, "%s.cond.model.%d.1", S_PRE, i + 1);
        int out = i == c->down_t - 1 ? c->width : c->cond_width;
        if (s_conv(c, mf, n, &c->up[i], 1, c->cond_width, out, 2 * c->stride_t, c->stride_t,
                   c->stride_t / 2, 1, err, errlen))
            return -1;
    }
    return 0;
}

int cn_conditioner_load(cn_conditioner *c, cn_modelfile *mf, cn_backend *be,
                        const cn_cond_hparams *hp, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (s_check(hp, err, errlen)) return -1;
    c->be = be;
    c->width = hp->width;
    c->bins = hp->bins;
    c->cond_width = hp->cond_width;
    c->n_state = (int)(hp->m_conv * hp->cond_width);
    c->depth = hp->cond_depth;
    c->down_t = hp->down_t;
    c->stride_t = hp->stride_t;
    c->growth = hp->growth;
    c->cycle = hp->cycle;
    c->res_scale = hp->res_scale ? (float)(1.0 / sqrt((double)hp->cond_depth)) : 1.0f;
    int64_t emb[2] = { hp->bins, hp->width }, w[1] = { hp->width };
    int c_res = hp->c_res;
    char probe[256];
    snprintf(probe, sizeof probe, "%s.cond.model.1.0.%s.0.model.1.weight", S_PRE,
             c_res ? "blocks" : "model");
    if (!cn_modelfile_has(mf, probe)) c_res = !c_res;   /* name by what the file holds */
    if (cn_tu_upload_f32(be, mf, S_PRE ".x_emb.weight", 2, emb, &c->x_emb, err, errlen) ||
        cn_tu_upload(be, mf, S_PRE ".ln.weight", 1, w, &c->ln_g, err, errlen) ||
        cn_tu_upload(be, mf, S_PRE ".ln.bias", 1, w, &c->ln_b, err, errlen) ||
        s_conv(c, mf, S_PRE ".cond.model.0", &c->in, 0, hp->width, hp->cond_width, 3, 1, 1, 1,
               err, errlen) ||
        s_load_steps(c, mf, c_res, err, errlen)) {
        cn_conditioner_free(c);
        return -1;
    }
    return 0;
}

static void s_free_conv(cn_backend *be, cn_cond_conv *cv)
{
    cn_tu_release(be, &cv->w);
    cn_tu_release(be, &cv->b);
}

void cn_conditioner_free(cn_conditioner *c)
{
    if (!c || !c->be) return;
    cn_backend *be = c->be;
    cn_tu_release(be, &c->x_emb);
    cn_tu_release(be, &c->ln_g);
    cn_tu_release(be, &c->ln_b);
    s_free_conv(be, &c->in);
    for (int i = 0; i < CN_COND_MAX_DOWN; i++) {
        s_free_conv(be, &c->up[i]);
        for (int d = 0; d < CN_COND_MAX_DEPTH; d++) {
            s_free_conv(be, &c->res3[i][d]);
            s_free_conv(be, &c->res1[i][d]);
        }
    }
    c->be = NULL;
}

int cn_conditioner_factor(const cn_conditioner *c)
{
    int f = 1;
    for (int i = 0; i < c->down_t; i++) f *= c->stride_t;
    return f;
}

/* Working buffers of one forward: x (N, cw, T') the stream, t (N, n_state, T') the inner
 * residual activation, u (N, cw, T') its output; sized for the longest T'. */
typedef struct s_bufs {
    cn_tensor x, t, u, e;
} s_bufs;

static void s_free_bufs(cn_backend *be, s_bufs *b)
{
    cn_tu_release(be, &b->x);
    cn_tu_release(be, &b->t);
    cn_tu_release(be, &b->u);
    cn_tu_release(be, &b->e);
}

/* One residual stack of step i on x (N, cw, T): x += scale * C1(relu(C3(relu(x)))) */
static int s_res_stack(cn_conditioner *c, s_bufs *b, int i, int N, int T)
{
    const cn_backend_ops *o = c->be->ops;
    int rc = 0;
    int64_t nx[3] = { N, c->cond_width, T }, nt[3] = { N, c->n_state, T };
    cn_tensor x = cn_tensor_make(b->x.data, CN_F32, 3, nx);
    cn_tensor u = cn_tensor_make(b->u.data, CN_F32, 3, nx);
    cn_tensor t = cn_tensor_make(b->t.data, CN_F32, 3, nt);
    for (int d = 0; d < c->depth && rc == 0; d++) {
        const cn_cond_conv *a = &c->res3[i][d], *e = &c->res1[i][d];
        if ((rc = o->relu(c->be, &u, &x)) ||
            (rc = o->conv1d(c->be, &t, &u, &a->w, &a->b, 1, a->pad, a->dil)) ||
            (rc = o->relu(c->be, &t, &t)) ||
            (rc = o->conv1d(c->be, &u, &t, &e->w, &e->b, 1, 0, 1)))
            break;
        rc = o->axpy(c->be, &x, &u, c->res_scale);
    }
    return rc;
}

int cn_conditioner_forward(cn_conditioner *c, const cn_tensor *ids, int N, int T,
                           cn_tensor *out, char *err, size_t errlen)
{
    cn_backend *be = c->be;
    const cn_backend_ops *o = be->ops;
    int f = cn_conditioner_factor(c), Tout = T * f, wmax = c->width;
    if (c->cond_width > wmax) wmax = c->cond_width;
    if (c->n_state > wmax) wmax = c->n_state;
    if (cn_tensor_nelem(ids) != (int64_t)N * T ||
        cn_tensor_nelem(out) != (int64_t)N * Tout * c->width)
        return snprintf(err, errlen, "conditioner: %d items x %d codes above give %d positions "
                        "x %d", N, T, Tout, c->width), CN_EINVAL;
    s_bufs b = { 0 };
    int64_t big[1] = { (int64_t)N * wmax * Tout };
    int rc = CN_ENOMEM;
    if (cn_tu_alloc(be, &b.x, CN_F32, 1, big) || cn_tu_alloc(be, &b.t, CN_F32, 1, big) ||
        cn_tu_alloc(be, &b.u, CN_F32, 1, big) || cn_tu_alloc(be, &b.e, CN_F32, 1, big))
        goto done;
    int64_t ne[3] = { N, T, c->width }, nc[3] = { N, c->width, T };
    cn_tensor e = cn_tensor_make(b.e.data, CN_F32, 3, ne);       /* zero-filled */
    cn_tensor e2 = cn_tensor_2d(b.e.data, CN_F32, (int64_t)N * T, c->width);
    cn_tensor et = cn_tensor_make(b.u.data, CN_F32, 3, nc);
    cn_tensor x = cn_tensor_make(b.x.data, CN_F32, 3, (int64_t[]){ N, c->cond_width, T });
    if ((rc = o->embed_add(be, &e2, &c->x_emb, ids)) || (rc = o->transpose(be, &et, &e)) ||
        (rc = o->conv1d(be, &x, &et, &c->in.w, &c->in.b, 1, 1, 1)))
        goto done;
    int t = T;
    for (int i = 0; i < c->down_t; i++) {
        if ((rc = s_res_stack(c, &b, i, N, t))) goto done;
        int cout = c->up[i].cout, t2 = t * c->stride_t;
        cn_tensor xin = cn_tensor_make(b.x.data, CN_F32, 3, (int64_t[]){ N, c->cond_width, t });
        cn_tensor y = cn_tensor_make(b.u.data, CN_F32, 3, (int64_t[]){ N, cout, t2 });
        if ((rc = o->conv_transpose1d(be, &y, &xin, &c->up[i].w, &c->up[i].b, c->stride_t,
                                      c->up[i].pad)) ||
            (rc = o->copy(be, b.x.data, b.u.data, cn_tensor_bytes(&y))))
            goto done;
        t = t2;
    }
    cn_tensor xf = cn_tensor_make(b.x.data, CN_F32, 3, (int64_t[]){ N, c->width, Tout });
    cn_tensor o3 = cn_tensor_make(out->data, CN_F32, 3, (int64_t[]){ N, Tout, c->width });
    if ((rc = o->transpose(be, &o3, &xf))) goto done;
    cn_tensor o2 = cn_tensor_2d(out->data, CN_F32, (int64_t)N * Tout, c->width);
    rc = o->layernorm(be, &o2, &o2, &c->ln_g, &c->ln_b, 1e-5f);
done:
    if (rc == CN_ENOMEM && !b.e.data)
        snprintf(err, errlen, "conditioner: out of backend memory for %d items x %d positions",
                 N, Tout);
    else if (rc)
        snprintf(err, errlen, "conditioner: %s", o->last_error(be));
    s_free_bufs(be, &b);
    return rc;
}

/* models/gpt_kv.c: forward passes after a cached prefix (KV cache) for scoring and decoding:
 * the keys and values of positions already run are kept per layer, and only new tokens go
 * through the model. Inference only (no activations are kept for backward). */
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

void gpt_kv_free(gpt_kv *kv) {
    free(kv->k);
    free(kv->v);
    free(kv->tmp);
    free(kv->work);
    memset(kv, 0, sizeof *kv);
}

ub_status gpt_kv_build(gpt_kv *kv, const gpt_config *cfg, int S, ub_err *e) {
    memset(kv, 0, sizeof *kv);
    if (S < 1) return ub_fail(e, UB_EARG, "a KV cache needs at least one sequence");
    kv->L = cfg->n_layer, kv->C = cfg->n_embd, kv->S = S, kv->cap = cfg->n_ctx;
    size_t n = (size_t)kv->L * S * kv->cap * kv->C;
    kv->k = ub_malloc(n * sizeof(float), "KV cache", e);
    kv->v = ub_malloc(n * sizeof(float), "KV cache", e);
    if (!kv->k || !kv->v) {
        gpt_kv_free(kv);
        return UB_ENOMEM;
    }
    return UB_OK;
}

/* Cache row (layer l, sequence s, position t). */
static size_t at(const gpt_kv *kv, int l, int s, int t) {
    return (((size_t)l * kv->S + s) * kv->cap + t) * kv->C;
}

ub_status gpt_kv_fill(gpt_kv *kv, const gpt_model *m, ub_err *e) {
    int B = m->cur_B, T = m->cur_T, C = kv->C;
    if (!m->acts_mem || B < 1 || B > kv->S || T > kv->cap || m->cfg.n_embd != C)
        return ub_fail(e, UB_EINTERNAL, "KV cache: no forward of a fitting shape to fill from");
    size_t BT = (size_t)B * T;
    for (int l = 0; l < kv->L; l++)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                const float *r = m->acts.qkv + (size_t)l * BT * 3 * C + ((size_t)b * T + t) * 3 * C;
                memcpy(kv->k + at(kv, l, b, t), r + C, sizeof(float) * C);
                memcpy(kv->v + at(kv, l, b, t), r + 2 * C, sizeof(float) * C);
            }
    kv->len = T;
    return UB_OK;
}

ub_status gpt_kv_select(gpt_kv *kv, const int *parent, int n, ub_err *e) {
    size_t seq = (size_t)kv->len * kv->C, all = (size_t)kv->L * kv->S * kv->cap * kv->C;
    if (n < 1 || n > kv->S) return ub_fail(e, UB_EINTERNAL, "KV cache: bad selection");
    int same = 1;
    for (int q = 0; q < n; q++) same &= parent[q] == q;
    if (same) return UB_OK; /* greedy decoding, or beams that kept their order */
    if (!kv->tmp && !(kv->tmp = ub_malloc(2 * all * sizeof(float) + 1, "KV cache", e)))
        return UB_ENOMEM;
    for (int l = 0; l < kv->L; l++)
        for (int q = 0; q < n; q++) {
            memcpy(kv->tmp + ((size_t)l * kv->S + q) * seq, kv->k + at(kv, l, parent[q], 0),
                   seq * sizeof(float));
            memcpy(kv->tmp + all + ((size_t)l * kv->S + q) * seq, kv->v + at(kv, l, parent[q], 0),
                   seq * sizeof(float));
        }
    for (int l = 0; l < kv->L; l++)
        for (int q = 0; q < n; q++) {
            memcpy(kv->k + at(kv, l, q, 0), kv->tmp + ((size_t)l * kv->S + q) * seq,
                   seq * sizeof(float));
            memcpy(kv->v + at(kv, l, q, 0), kv->tmp + all + ((size_t)l * kv->S + q) * seq,
                   seq * sizeof(float));
        }
    return UB_OK;
}

/* Work space for B x T new rows: x, ln, qkv, atty, proj, res2, fch, fchg, mean, rstd, att,
 * probs, losses. */
static ub_status ensure_work(gpt_kv *kv, const gpt_config *c, int B, int T, ub_err *e) {
    size_t BT = (size_t)B * T, C = c->n_embd, V = c->vocab_size;
    size_t att = (size_t)B * c->n_head * T * (kv->len + T);
    size_t sizes[13] = {BT * C, BT * C, BT * 3 * C, BT * C, BT * C, BT * C, BT * 4 * C,
                        BT * 4 * C, BT, BT, att, BT * V, BT};
    size_t total = 0;
    for (int i = 0; i < 13; i++) total += sizes[i];
    if (total > kv->work_n) {
        free(kv->work);
        kv->work = ub_malloc(total * sizeof(float), "KV forward", e);
        kv->work_n = kv->work ? total : 0;
        if (!kv->work) return UB_ENOMEM;
    }
    float **views[13] = {&kv->w_x,   &kv->w_ln,   &kv->w_qkv,  &kv->w_atty, &kv->w_proj,
                         &kv->w_res, &kv->w_fch,  &kv->w_fchg, &kv->w_mean, &kv->w_rstd,
                         &kv->w_att, &kv->probs, &kv->losses};
    float *p = kv->work;
    for (int i = 0; i < 13; i++) *views[i] = p, p += sizes[i];
    return UB_OK;
}

ub_status gpt_forward_kv(gpt_model *m, gpt_kv *kv, const int *inputs, const int *targets, int B,
                         int T, int append, ub_err *e) {
    const gpt_config *c = &m->cfg;
    int L = c->n_layer, C = c->n_embd, NH = c->n_head, V = c->vocab_size, P = kv->len;
    if (B < 1 || T < 1 || P + T > c->n_ctx || C != kv->C || L != kv->L ||
        (kv->S > 1 && !kv->seq && B > kv->S) || (append && (B > kv->S || kv->seq)))
        return ub_fail(e, UB_EARG, "KV forward: %d x %d tokens after %d cached do not fit", B, T,
                       P);
    size_t BT = (size_t)B * T;
    for (size_t i = 0; i < BT; i++)
        if (inputs[i] < 0 || inputs[i] >= V || (targets && targets[i] >= V))
            return ub_fail(e, UB_EARG, "KV forward: token outside [0, %d) at %zu", V, i);
    ub_status st = ensure_work(kv, c, B, T, e);
    if (st) return st;
    const kn_tune *tu = &m->tune;
    const gpt_params *p = &m->params;
    /* one cached sequence is a prefix shared by every row; otherwise row b has sequence b */
    size_t pstride = kv->S == 1 ? 0 : (size_t)kv->cap * C;
    for (int b = 0; kv->seq && b < B; b++)
        if (kv->seq[b] < 0 || kv->seq[b] >= kv->S)
            return ub_fail(e, UB_EARG, "KV forward: row %d names cache sequence %d of %d", b,
                           kv->seq[b], kv->S);
    kn_encoder_forward(kv->w_x, inputs, p->wte, p->wpe + (size_t)P * C, B, T, C);
    for (int l = 0; l < L; l++) {
        kn_layernorm_forward(kv->w_ln, kv->w_mean, kv->w_rstd, kv->w_x, p->ln1w + (size_t)l * C,
                             p->ln1b + (size_t)l * C, (int)BT, C);
        kn_matmul_forward(kv->w_qkv, kv->w_ln, p->qkvw + (size_t)l * C * 3 * C,
                          p->qkvb + (size_t)l * 3 * C, (int)BT, C, 3 * C, tu);
        kn_attention_kv_forward(kv->w_atty, kv->w_att, kv->w_qkv, kv->k + at(kv, l, 0, 0),
                                kv->v + at(kv, l, 0, 0), pstride, kv->seq, B, T, P, C, NH, tu);
        for (int b = 0; append && b < B; b++)
            for (int t = 0; t < T; t++) {
                const float *r = kv->w_qkv + ((size_t)b * T + t) * 3 * C;
                memcpy(kv->k + at(kv, l, b, P + t), r + C, sizeof(float) * C);
                memcpy(kv->v + at(kv, l, b, P + t), r + 2 * C, sizeof(float) * C);
            }
        kn_matmul_forward(kv->w_proj, kv->w_atty, p->attprojw + (size_t)l * C * C,
                          p->attprojb + (size_t)l * C, (int)BT, C, C, tu);
        kn_residual_forward(kv->w_res, kv->w_x, kv->w_proj, BT * C, tu);
        kn_layernorm_forward(kv->w_ln, kv->w_mean, kv->w_rstd, kv->w_res,
                             p->ln2w + (size_t)l * C, p->ln2b + (size_t)l * C, (int)BT, C);
        kn_matmul_forward(kv->w_fch, kv->w_ln, p->fcw + (size_t)l * C * 4 * C,
                          p->fcb + (size_t)l * 4 * C, (int)BT, C, 4 * C, tu);
        kn_gelu_forward(kv->w_fchg, kv->w_fch, BT * 4 * C, tu);
        kn_matmul_forward(kv->w_proj, kv->w_fchg, p->fcprojw + (size_t)l * 4 * C * C,
                          p->fcprojb + (size_t)l * C, (int)BT, 4 * C, C, tu);
        kn_residual_forward(kv->w_x, kv->w_res, kv->w_proj, BT * C, tu);
    }
    kn_layernorm_forward(kv->w_ln, kv->w_mean, kv->w_rstd, kv->w_x, p->lnfw, p->lnfb, (int)BT, C);
    kn_matmul_nt_forward(kv->probs, kv->w_ln, p->wte, (int)BT, C, V, tu);
    if (targets) kn_crossentropy_forward(kv->losses, kv->probs, kv->probs, targets, (int)BT, V, tu);
    if (append) kv->len += T;
    return UB_OK;
}

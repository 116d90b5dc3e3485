/* models/gpt_backward.c: the model's backward passes (see gpt.h): from the loss (gpt_backward,
 * gpt_backward_ex) and from a block's output (gpt_backward_from, RMU's), sharing the layers'
 * backward. Gradients accumulate into m->grads (gpt_ensure_grads, gpt_zero_grad: gpt.c). */
#include "gpt.h"
#include "gpt_private.h"

#include <string.h>

ub_status gpt_backward(gpt_model *m, float scale, ub_err *e) {
    return gpt_backward_ex(m, scale, NULL, NULL, e);
}

/* Layers top..0 backward from s->dres = d(loss)/d(output of layer top), then the embeddings:
 * parameter gradients accumulate into m->grads. */
static void layers_backward(gpt_model *m, int top) {
    const gpt_config *c = &m->cfg;
    int B = m->cur_B, T = m->cur_T;
    int C = c->n_embd, NH = c->n_head;
    size_t BT = (size_t)B * T;
    const kn_tune *tu = &m->tune;
    gpt_params *p = &m->params, *g = &m->grads;
    gpt_acts *a = &m->acts;
    gpt_scratch *s = &m->s;
    for (int l = top; l >= 0; l--) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * BT * C;
        const float *ln1 = a->ln1 + (size_t)l * BT * C;
        const float *ln1_mean = a->ln1_mean + (size_t)l * BT;
        const float *ln1_rstd = a->ln1_rstd + (size_t)l * BT;
        const float *qkv = a->qkv + (size_t)l * BT * 3 * C;
        const float *atty = a->atty + (size_t)l * BT * C;
        const float *att = a->att + (size_t)l * B * NH * T * T;
        const float *residual2 = a->residual2 + (size_t)l * BT * C;
        const float *ln2 = a->ln2 + (size_t)l * BT * C;
        const float *ln2_mean = a->ln2_mean + (size_t)l * BT;
        const float *ln2_rstd = a->ln2_rstd + (size_t)l * BT;
        const float *fch = a->fch + (size_t)l * BT * 4 * C;
        const float *fch_gelu = a->fch_gelu + (size_t)l * BT * 4 * C;

        /* residual3 = residual2 + fcproj: dres flows to both unchanged. Activation gradients
         * are overwritten (KN_OVERWRITE), so scratch needs no zeroing; only dqkv (attention
         * accumulates) and dres (LayerNorm adds into the residual stream) are zeroed. */
        PROF(1, GPT_P_MM_FCPROJ,
             kn_matmul_backward(s->dfch_gelu, g->fcprojw + (size_t)l * 4 * C * C,
                                g->fcprojb + (size_t)l * C, s->dres, fch_gelu,
                                p->fcprojw + (size_t)l * 4 * C * C, (int)BT, 4 * C, C, KN_OVERWRITE,
                                tu));
        PROF(1, GPT_P_GELU,
             kn_gelu_backward(s->dfch, fch, s->dfch_gelu, BT * 4 * C, KN_OVERWRITE, tu));
        PROF(1, GPT_P_MM_FC,
             kn_matmul_backward(s->dln, g->fcw + (size_t)l * C * 4 * C, g->fcb + (size_t)l * 4 * C,
                                s->dfch, ln2, p->fcw + (size_t)l * C * 4 * C, (int)BT, C, 4 * C,
                                KN_OVERWRITE, tu));
        PROF(1, GPT_P_LAYERNORM,
             kn_layernorm_backward(s->dres, g->ln2w + (size_t)l * C, g->ln2b + (size_t)l * C,
                                   s->dln, residual2, p->ln2w + (size_t)l * C, ln2_mean, ln2_rstd,
                                   (int)BT, C));
        /* residual2 = residual + attproj */
        PROF(1, GPT_P_MM_ATTPROJ,
             kn_matmul_backward(s->datty, g->attprojw + (size_t)l * C * C,
                                g->attprojb + (size_t)l * C, s->dres, atty,
                                p->attprojw + (size_t)l * C * C, (int)BT, C, C, KN_OVERWRITE, tu));
        PROF(1, GPT_P_ZERO, memset(s->dqkv, 0, BT * 3 * C * sizeof(float)));
        PROF(1, GPT_P_ATTENTION,
             kn_attention_backward(s->dqkv, s->datt, s->datty, qkv, att, B, T, C, NH, tu));
        PROF(1, GPT_P_MM_QKV,
             kn_matmul_backward(
                 s->dln, g->qkvw + (size_t)l * C * 3 * C, g->qkvb + (size_t)l * 3 * C, s->dqkv, ln1,
                 p->qkvw + (size_t)l * C * 3 * C, (int)BT, C, 3 * C, KN_OVERWRITE, tu));
        PROF(1, GPT_P_LAYERNORM,
             kn_layernorm_backward(s->dres, g->ln1w + (size_t)l * C, g->ln1b + (size_t)l * C,
                                   s->dln, residual, p->ln1w + (size_t)l * C, ln1_mean, ln1_rstd,
                                   (int)BT, C));
    }
    PROF(1, GPT_P_ENCODER, kn_encoder_backward(g->wte, g->wpe, s->dres, m->inputs, B, T, C));
}

ub_status gpt_backward_ex(gpt_model *m, float scale, const float *weights, const float *soft,
                          ub_err *e) {
    if (!m->acts_mem || m->cur_B == 0 || m->n_valid < 0)
        return ub_fail(e, UB_EINTERNAL, "backward needs a forward with targets first");
    ub_status st = gpt_ensure_grads(m, e);
    if (st) return st;
    const gpt_config *c = &m->cfg;
    int B = m->cur_B, T = m->cur_T;
    int L = c->n_layer, C = c->n_embd, V = c->vocab_size;
    size_t BT = (size_t)B * T;
    const kn_tune *tu = &m->tune;
    gpt_params *p = &m->params, *g = &m->grads;
    gpt_acts *a = &m->acts;
    gpt_scratch *s = &m->s;

    /* d(scale * mean)/d(loss_i) = scale / n_valid for every counted position, or the caller's
     * per-position weights times scale. */
    float dl = m->n_valid ? scale / (float)m->n_valid : 0.0f;
    for (size_t i = 0; i < BT; i++)
        s->dlosses[i] = m->targets[i] < 0 ? 0.0f : weights ? scale * weights[i] : dl;
    /* probs become dlogits in place (the kernels overwrite when the buffers alias). */
    if (soft)
        PROF(1, GPT_P_XENT,
             kn_crossentropy_soft_backward(a->probs, a->probs, soft, m->targets, s->dlosses,
                                           (int)BT, V, tu));
    else
        PROF(1, GPT_P_XENT,
             kn_crossentropy_backward(a->probs, a->probs, m->targets, s->dlosses, (int)BT, V,
                                      tu));
    PROF(1, GPT_P_LOGITS,
         kn_matmul_nt_backward(s->dln, g->wte, a->probs, a->lnf, p->wte, (int)BT, C, V,
                               KN_OVERWRITE, tu));
    PROF(1, GPT_P_ZERO, memset(s->dres, 0, BT * C * sizeof(float)));
    const float *last = a->residual3 + (size_t)(L - 1) * BT * C;
    PROF(1, GPT_P_LAYERNORM,
         kn_layernorm_backward(s->dres, g->lnfw, g->lnfb, s->dln, last, p->lnfw, a->lnf_mean,
                               a->lnf_rstd, (int)BT, C));

    layers_backward(m, L - 1);
    m->cur_B = 0; /* the probabilities were overwritten: a second backward needs a new forward */
    return UB_OK;
}

ub_status gpt_backward_from(gpt_model *m, int layer, const float *dh, ub_err *e) {
    if (!m->acts_mem || m->cur_B == 0)
        return ub_fail(e, UB_EINTERNAL, "backward needs a forward first");
    if (layer < 0 || layer >= m->cfg.n_layer)
        return ub_fail(e, UB_EARG, "backward from layer %d: the model has layers 0..%d", layer,
                       m->cfg.n_layer - 1);
    ub_status st = gpt_ensure_grads(m, e);
    if (st) return st;
    size_t n = (size_t)m->cur_B * m->cur_T * m->cfg.n_embd;
    memcpy(m->s.dres, dh, n * sizeof(float));
    layers_backward(m, layer);
    return UB_OK;
}

const float *gpt_layer_output(const gpt_model *m, int layer) {
    size_t BT = (size_t)m->cur_B * m->cur_T;
    return m->acts.residual3 + (size_t)layer * BT * m->cfg.n_embd;
}

/* models/gpt.c: GPT-2 parameters, forward and backward (see gpt.h). */
#include "gpt.h"
#include "gpt_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- presets ---------------------------------------------------------------------------- */
static const struct {
    const char *name;
    gpt_config cfg;
    int batch;
} presets[] = {
    {"tiny", {2, 128, 4, 64, 256}, 64},
    /* for end-to-end tests of whole pipelines, not for measurements */
    {"micro", {1, 32, 2, 32, 256}, 8},
    {"small", {4, 256, 4, 128, 512}, 32},
    {"medium", {6, 384, 6, 256, 2048}, 16},
};

ub_status gpt_preset(const char *name, gpt_config *cfg, int *default_batch, ub_err *e) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(name, presets[i].name) == 0) {
            *cfg = presets[i].cfg;
            if (default_batch) *default_batch = presets[i].batch;
            return UB_OK;
        }
    return ub_fail(e, UB_EARG, "unknown preset '%s' (known: %s)", name, gpt_preset_names());
}

const char *gpt_preset_names(void) {
    return "tiny, small, medium, micro (tests)";
}

ub_status gpt_config_check(const gpt_config *c, ub_err *e) {
    if (c->n_layer < 1 || c->n_layer > 256)
        return ub_fail(e, UB_EARG, "n_layer %d out of range [1, 256]", c->n_layer);
    if (c->n_embd < 1 || c->n_embd > 16384)
        return ub_fail(e, UB_EARG, "n_embd %d out of range [1, 16384]", c->n_embd);
    if (c->n_head < 1 || c->n_embd % c->n_head != 0)
        return ub_fail(e, UB_EARG, "n_head %d must divide n_embd %d", c->n_head, c->n_embd);
    if (c->n_ctx < 1 || c->n_ctx > 8192)
        return ub_fail(e, UB_EARG, "n_ctx %d out of range [1, 8192]", c->n_ctx);
    if (c->vocab_size < 2 || c->vocab_size > (1 << 24))
        return ub_fail(e, UB_EARG, "vocab_size %d out of range [2, 2^24]", c->vocab_size);
    return UB_OK;
}

/* ---- parameter layout ------------------------------------------------------------------- */
/* The 16 kinds in buffer order. Per-layer kinds are stacked (L, ...). `hf` is the Hugging Face
 * name, with %d for the layer. */
static const struct {
    const char *hf;
    int per_layer, decay, rank;
} kinds[GPT_NUM_KINDS] = {
    {"wte", 0, 1, 2},
    {"wpe", 0, 1, 2},
    {"h.%d.ln_1.weight", 1, 0, 1},
    {"h.%d.ln_1.bias", 1, 0, 1},
    {"h.%d.attn.c_attn.weight", 1, 1, 2},
    {"h.%d.attn.c_attn.bias", 1, 0, 1},
    {"h.%d.attn.c_proj.weight", 1, 1, 2},
    {"h.%d.attn.c_proj.bias", 1, 0, 1},
    {"h.%d.ln_2.weight", 1, 0, 1},
    {"h.%d.ln_2.bias", 1, 0, 1},
    {"h.%d.mlp.c_fc.weight", 1, 1, 2},
    {"h.%d.mlp.c_fc.bias", 1, 0, 1},
    {"h.%d.mlp.c_proj.weight", 1, 1, 2},
    {"h.%d.mlp.c_proj.bias", 1, 0, 1},
    {"ln_f.weight", 0, 0, 1},
    {"ln_f.bias", 0, 0, 1},
};

/* Per-layer shape (rows, cols) of each kind; rows = 1 for vectors. */
static void kind_shape(const gpt_config *c, int k, size_t *rows, size_t *cols) {
    size_t C = (size_t)c->n_embd, V = (size_t)c->vocab_size, T = (size_t)c->n_ctx;
    static const int mult_rows[GPT_NUM_KINDS] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 1, 1};
    static const int mult_cols[GPT_NUM_KINDS] = {1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 4, 4, 1, 1, 1, 1};
    if (k == 0) {
        *rows = V;
        *cols = C;
        return;
    }
    if (k == 1) {
        *rows = T;
        *cols = C;
        return;
    }
    *rows = kinds[k].rank == 2 ? mult_rows[k] * C : 1;
    *cols = mult_cols[k] * C;
}

static void point_views(gpt_params *p, float *mem, const size_t *sizes) {
    float **views[GPT_NUM_KINDS] = {&p->wte,     &p->wpe,     &p->ln1w,     &p->ln1b,
                                    &p->qkvw,    &p->qkvb,    &p->attprojw, &p->attprojb,
                                    &p->ln2w,    &p->ln2b,    &p->fcw,      &p->fcb,
                                    &p->fcprojw, &p->fcprojb, &p->lnfw,     &p->lnfb};
    for (int k = 0; k < GPT_NUM_KINDS; k++) {
        *views[k] = mem;
        mem += sizes[k];
    }
}

ub_status gpt_build(gpt_model *m, const gpt_config *cfg, const kn_tune *tune, ub_err *e) {
    memset(m, 0, sizeof *m);
    ub_status st = gpt_config_check(cfg, e);
    if (st) return st;
    m->cfg = *cfg;
    m->tune = *tune;
    int L = cfg->n_layer;
    m->n_tensors = 4 + 12 * L;
    m->tensors = ub_calloc((size_t)m->n_tensors, sizeof *m->tensors, "tensor table", e);
    if (!m->tensors) return UB_ENOMEM;
    size_t off = 0;
    int ti = 0;
    for (int k = 0; k < GPT_NUM_KINDS; k++) {
        size_t rows, cols;
        kind_shape(cfg, k, &rows, &cols);
        int nl = kinds[k].per_layer ? L : 1;
        m->kind_sizes[k] = rows * cols * (size_t)nl;
        for (int l = 0; l < nl; l++) {
            gpt_tensor *t = &m->tensors[ti];
            snprintf(t->name, sizeof t->name, kinds[k].hf, l);
            t->rank = kinds[k].rank;
            t->dims[0] = t->rank == 2 ? rows : cols;
            t->dims[1] = t->rank == 2 ? cols : 1;
            t->numel = rows * cols;
            t->offset = off;
            t->decay = kinds[k].decay;
            off += t->numel;
            ti++;
        }
    }
    /* Buffer order is kind-major, but tensors were listed kind-major too, so the table order is
     * the buffer order; the checkpoint sorts nothing. */
    m->n_params = off;
    m->params_mem = ub_calloc(m->n_params, sizeof(float), "parameters", e);
    if (!m->params_mem) {
        gpt_free(m);
        return UB_ENOMEM;
    }
    point_views(&m->params, m->params_mem, m->kind_sizes);
    return UB_OK;
}

/* A replica owns activations, scratch and gradients; params and the tensor table are its
 * parent's. */
static void free_replica(gpt_model *r) {
    free(r->grads_mem);
    free(r->acts_mem);
    free(r->scratch_mem);
    free(r->inputs);
    free(r->targets);
}

void gpt_free_replicas(gpt_model *m) {
    for (int i = 0; i < m->n_replicas; i++) free_replica(&m->replicas[i]);
    free(m->replicas);
    m->replicas = NULL;
    m->n_replicas = 0;
}

void gpt_free(gpt_model *m) {
    gpt_free_replicas(m);
    free(m->tensors);
    free(m->params_mem);
    free(m->grads_mem);
    free(m->m_mem);
    free(m->v_mem);
    free(m->acts_mem);
    free(m->scratch_mem);
    free(m->inputs);
    free(m->targets);
    memset(m, 0, sizeof *m);
}

int gpt_find_tensor(const gpt_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return i;
    return -1;
}

void gpt_init_gpt2(gpt_model *m, uint64_t seed) {
    double std_resid = 0.02 / sqrt(2.0 * m->cfg.n_layer);
    for (int i = 0; i < m->n_tensors; i++) {
        const gpt_tensor *t = &m->tensors[i];
        float *p = m->params_mem + t->offset;
        const char *nm = t->name;
        size_t len = strlen(nm);
        int is_bias = len > 5 && strcmp(nm + len - 5, ".bias") == 0;
        int is_ln = strstr(nm, "ln_") != NULL;
        if (is_bias) {
            memset(p, 0, t->numel * sizeof(float));
        } else if (is_ln) {
            for (size_t j = 0; j < t->numel; j++)
                p[j] = 1.0f;
        } else {
            double std = strstr(nm, "c_proj.weight") ? std_resid : 0.02;
            ub_rng r;
            ub_rng_init(&r, seed, (uint64_t)i + 1); /* one stream per tensor */
            for (size_t j = 0; j < t->numel; j++)
                p[j] = (float)(std * ub_rng_normal(&r));
        }
    }
}

double gpt_train_flops(const gpt_config *c, size_t n_params, int T, double tokens) {
    return 6.0 * (double)n_params * tokens + 12.0 * c->n_layer * (double)T * c->n_embd * tokens;
}

/* ---- activations ------------------------------------------------------------------------ */
static ub_status ensure_acts(gpt_model *m, int B, int T, ub_err *e) {
    /* Every buffer's size grows with B and with T, so smaller shapes fit in place. */
    if (m->acts_mem && B <= m->B && T <= m->T) return UB_OK;
    /* grow to cover the old shape too: alternating shapes (a long prefill of one row, then
     * many short rows) would otherwise reallocate on every call */
    if (m->acts_mem) B = B > m->B ? B : m->B, T = T > m->T ? T : m->T;
    free(m->acts_mem);
    free(m->scratch_mem);
    free(m->inputs);
    free(m->targets);
    m->acts_mem = m->scratch_mem = NULL;
    m->inputs = m->targets = NULL;
    size_t L = m->cfg.n_layer, C = m->cfg.n_embd, NH = m->cfg.n_head, V = m->cfg.vocab_size;
    size_t BT = (size_t)B * T, att = (size_t)B * NH * T * T;
    size_t sizes[19] = {BT * C,
                        L * BT * C,
                        L * BT,
                        L * BT,
                        L * BT * 3 * C,
                        L * BT * C,
                        L * att,
                        L * BT * C,
                        L * BT * C,
                        L * BT,
                        L * BT,
                        L * BT * 4 * C,
                        L * BT * 4 * C,
                        L * BT * C,
                        BT * C,
                        BT,
                        BT,
                        BT * V,
                        BT};
    size_t total = 0;
    for (int i = 0; i < 19; i++)
        total += sizes[i];
    m->acts_mem = ub_malloc(total * sizeof(float), "activations", e);
    size_t ssizes[8] = {BT * C, BT * C, BT * C, BT * 3 * C, att, BT * 4 * C, BT * 4 * C, BT};
    size_t stotal = 0;
    for (int i = 0; i < 8; i++)
        stotal += ssizes[i];
    m->scratch_mem = ub_malloc(stotal * sizeof(float), "backward scratch", e);
    m->inputs = ub_malloc(BT * sizeof(int), "inputs", e);
    m->targets = ub_malloc(BT * sizeof(int), "targets", e);
    if (!m->acts_mem || !m->scratch_mem || !m->inputs || !m->targets) return UB_ENOMEM;
    float **a[19] = {&m->acts.encoded,  &m->acts.ln1,       &m->acts.ln1_mean, &m->acts.ln1_rstd,
                     &m->acts.qkv,      &m->acts.atty,      &m->acts.att,      &m->acts.residual2,
                     &m->acts.ln2,      &m->acts.ln2_mean,  &m->acts.ln2_rstd, &m->acts.fch,
                     &m->acts.fch_gelu, &m->acts.residual3, &m->acts.lnf,      &m->acts.lnf_mean,
                     &m->acts.lnf_rstd, &m->acts.probs,     &m->acts.losses};
    float *p = m->acts_mem;
    for (int i = 0; i < 19; i++) {
        *a[i] = p;
        p += sizes[i];
    }
    float **s[8] = {&m->s.dres, &m->s.dln,  &m->s.datty,     &m->s.dqkv,
                    &m->s.datt, &m->s.dfch, &m->s.dfch_gelu, &m->s.dlosses};
    p = m->scratch_mem;
    for (int i = 0; i < 8; i++) {
        *s[i] = p;
        p += ssizes[i];
    }
    m->B = B;
    m->T = T;
    return UB_OK;
}

const char *const gpt_prof_names[GPT_P_COUNT] = {
    "encoder",          "layernorm",         "matmul qkv",    "attention",
    "matmul attn proj", "residual",          "matmul fc",     "gelu",
    "matmul fc proj",   "logits (tied wte)", "cross-entropy", "zeroing grad buffers",
    "clip + AdamW"};

/* ---- forward ---------------------------------------------------------------------------- */
ub_status gpt_forward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                      ub_err *e) {
    const gpt_config *c = &m->cfg;
    if (B < 1 || T < 1 || T > c->n_ctx)
        return ub_fail(e, UB_EARG, "forward: batch %d x %d tokens does not fit n_ctx %d", B, T,
                       c->n_ctx);
    ub_status st = ensure_acts(m, B, T, e);
    if (st) return st;
    int L = c->n_layer, C = c->n_embd, NH = c->n_head, V = c->vocab_size;
    size_t BT = (size_t)B * T;
    for (size_t i = 0; i < BT; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return ub_fail(e, UB_EARG, "forward: input token %d at position %zu outside [0, %d)",
                           inputs[i], i, V);
        if (targets && targets[i] >= V)
            return ub_fail(e, UB_EARG, "forward: target token %d at position %zu outside [0, %d)",
                           targets[i], i, V);
    }
    memcpy(m->inputs, inputs, BT * sizeof(int));
    if (targets) memcpy(m->targets, targets, BT * sizeof(int));
    m->cur_B = B;
    m->cur_T = T;
    const kn_tune *tu = &m->tune;
    gpt_params *p = &m->params;
    gpt_acts *a = &m->acts;

    PROF(0, GPT_P_ENCODER, kn_encoder_forward(a->encoded, inputs, p->wte, p->wpe, B, T, C));
    for (int l = 0; l < L; l++) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * BT * C;
        float *ln1 = a->ln1 + (size_t)l * BT * C;
        float *ln1_mean = a->ln1_mean + (size_t)l * BT, *ln1_rstd = a->ln1_rstd + (size_t)l * BT;
        float *qkv = a->qkv + (size_t)l * BT * 3 * C;
        float *atty = a->atty + (size_t)l * BT * C;
        float *att = a->att + (size_t)l * B * NH * T * T;
        float *residual2 = a->residual2 + (size_t)l * BT * C;
        float *ln2 = a->ln2 + (size_t)l * BT * C;
        float *ln2_mean = a->ln2_mean + (size_t)l * BT, *ln2_rstd = a->ln2_rstd + (size_t)l * BT;
        float *fch = a->fch + (size_t)l * BT * 4 * C;
        float *fch_gelu = a->fch_gelu + (size_t)l * BT * 4 * C;
        float *residual3 = a->residual3 + (size_t)l * BT * C;
        float *attproj = m->s.dln; /* projection outputs are consumed at once: reuse scratch */
        float *fcproj = m->s.datty;

        PROF(0, GPT_P_LAYERNORM,
             kn_layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, p->ln1w + (size_t)l * C,
                                  p->ln1b + (size_t)l * C, (int)BT, C));
        PROF(0, GPT_P_MM_QKV,
             kn_matmul_forward(qkv, ln1, p->qkvw + (size_t)l * C * 3 * C,
                               p->qkvb + (size_t)l * 3 * C, (int)BT, C, 3 * C, tu));
        PROF(0, GPT_P_ATTENTION, kn_attention_forward(atty, att, qkv, B, T, C, NH, tu));
        PROF(0, GPT_P_MM_ATTPROJ,
             kn_matmul_forward(attproj, atty, p->attprojw + (size_t)l * C * C,
                               p->attprojb + (size_t)l * C, (int)BT, C, C, tu));
        PROF(0, GPT_P_RESIDUAL, kn_residual_forward(residual2, residual, attproj, BT * C, tu));
        PROF(0, GPT_P_LAYERNORM,
             kn_layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, p->ln2w + (size_t)l * C,
                                  p->ln2b + (size_t)l * C, (int)BT, C));
        PROF(0, GPT_P_MM_FC,
             kn_matmul_forward(fch, ln2, p->fcw + (size_t)l * C * 4 * C, p->fcb + (size_t)l * 4 * C,
                               (int)BT, C, 4 * C, tu));
        PROF(0, GPT_P_GELU, kn_gelu_forward(fch_gelu, fch, BT * 4 * C, tu));
        PROF(0, GPT_P_MM_FCPROJ,
             kn_matmul_forward(fcproj, fch_gelu, p->fcprojw + (size_t)l * 4 * C * C,
                               p->fcprojb + (size_t)l * C, (int)BT, 4 * C, C, tu));
        PROF(0, GPT_P_RESIDUAL, kn_residual_forward(residual3, residual2, fcproj, BT * C, tu));
    }
    const float *last = a->residual3 + (size_t)(L - 1) * BT * C;
    PROF(
        0, GPT_P_LAYERNORM,
        kn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, last, p->lnfw, p->lnfb, (int)BT, C));
    PROF(0, GPT_P_LOGITS, kn_matmul_nt_forward(a->probs, a->lnf, p->wte, (int)BT, C, V, tu));
    if (!targets) {
        m->n_valid = -1; /* no loss: backward is not possible */
        m->mean_loss = NAN;
        return UB_OK;
    }
    PROF(0, GPT_P_XENT,
         kn_crossentropy_forward(a->losses, a->probs, a->probs, targets, (int)BT, V, tu));
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < BT; i++)
        if (targets[i] >= 0) {
            sum += a->losses[i];
            n++;
        }
    m->n_valid = n;
    m->mean_loss = n ? (float)(sum / n) : 0.0f;
    return UB_OK;
}

/* ---- backward --------------------------------------------------------------------------- */
ub_status gpt_ensure_grads(gpt_model *m, ub_err *e) {
    if (m->grads_mem) return UB_OK;
    m->grads_mem = ub_calloc(m->n_params, sizeof(float), "gradients", e);
    if (!m->grads_mem) return UB_ENOMEM;
    point_views(&m->grads, m->grads_mem, m->kind_sizes);
    return UB_OK;
}

void gpt_zero_grad(gpt_model *m) {
    if (m->grads_mem) memset(m->grads_mem, 0, m->n_params * sizeof(float));
}

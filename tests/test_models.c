/* tests/test_models.c: the model module without PyTorch: parameter table, initialisation,
 * learning-rate schedule, checkpoint round trip and byte-identical saves, bad checkpoints,
 * divergence detection, gradient accumulation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpt.h"
#include "ubtest.h"

static char dir[256];

static const gpt_config small_cfg = {2, 16, 2, 8, 32};

static void test_table(const kn_tune *tu) {
    ub_err e = {0};
    gpt_model m;
    gpt_config c;
    UB_CHECK(gpt_preset("tiny", &c, NULL, &e) == UB_OK);
    UB_CHECK(c.n_layer == 2 && c.n_embd == 128 && c.n_head == 4 && c.n_ctx == 64 && c.vocab_size == 256);
    UB_CHECK(gpt_preset("small", &c, NULL, &e) == UB_OK);
    UB_CHECK(c.n_layer == 4 && c.n_embd == 256 && c.n_head == 4 && c.n_ctx == 128 && c.vocab_size == 512);
    UB_CHECK(gpt_preset("medium", &c, NULL, &e) == UB_OK);
    UB_CHECK(c.n_layer == 6 && c.n_embd == 384 && c.n_head == 6 && c.n_ctx == 256 && c.vocab_size == 2048);
    ub_err_clear(&e);
    UB_CHECK(gpt_preset("huge", &c, NULL, &e) == UB_EARG);
    UB_CHECK(strstr(e.msg, "huge") != NULL);

    UB_CHECK(gpt_build(&m, &small_cfg, tu, &e) == UB_OK);
    size_t C = 16, L = 2, V = 32, T = 8;
    size_t expect = V * C + T * C + L * (2 * C + C * 3 * C + 3 * C + C * C + C + 2 * C + C * 4 * C +
                                         4 * C + 4 * C * C + C) + 2 * C;
    UB_CHECK(m.n_params == expect);
    UB_CHECK(m.n_tensors == 4 + 12 * 2);
    int qkv = gpt_find_tensor(&m, "h.1.attn.c_attn.weight");
    UB_CHECK(qkv >= 0 && m.tensors[qkv].dims[0] == C && m.tensors[qkv].dims[1] == 3 * C);
    UB_CHECK(m.tensors[qkv].decay == 1);
    int fc = gpt_find_tensor(&m, "h.0.mlp.c_proj.weight");
    UB_CHECK(fc >= 0 && m.tensors[fc].dims[0] == 4 * C && m.tensors[fc].dims[1] == C);
    int lnb = gpt_find_tensor(&m, "ln_f.bias");
    UB_CHECK(lnb >= 0 && m.tensors[lnb].rank == 1 && m.tensors[lnb].decay == 0);
    UB_CHECK(gpt_find_tensor(&m, "wte") == 0 && gpt_find_tensor(&m, "wpe") == 1);
    /* Views agree with the table: h.1 qkv weight is the second slice of the stacked kind. */
    UB_CHECK(m.params_mem + m.tensors[qkv].offset == m.params.qkvw + C * 3 * C);
    /* Offsets tile the buffer without gaps. */
    size_t off = 0;
    for (int i = 0; i < m.n_tensors; i++) {
        UB_CHECK(m.tensors[i].offset == off);
        off += m.tensors[i].numel;
    }
    UB_CHECK(off == m.n_params);
    gpt_free(&m);
}

static void test_init(const kn_tune *tu) {
    ub_err e = {0};
    gpt_model m, m2;
    gpt_config c;
    gpt_preset("tiny", &c, NULL, &e);
    gpt_build(&m, &c, tu, &e);
    gpt_build(&m2, &c, tu, &e);
    gpt_init_gpt2(&m, 5);
    gpt_init_gpt2(&m2, 5);
    UB_CHECK(memcmp(m.params_mem, m2.params_mem, m.n_params * sizeof(float)) == 0);
    gpt_init_gpt2(&m2, 6);
    UB_CHECK(memcmp(m.params_mem, m2.params_mem, m.n_params * sizeof(float)) != 0);
    double s = 0, s2 = 0;
    size_t n = m.kind_sizes[0];
    for (size_t i = 0; i < n; i++) {
        s += m.params.wte[i];
        s2 += (double)m.params.wte[i] * m.params.wte[i];
    }
    double sd = sqrt(s2 / n - (s / n) * (s / n));
    UB_CHECK_CLOSE(sd, 0.02, 0.001, 0);
    UB_CHECK_CLOSE(s / n, 0.0, 0.001, 0);
    int pj = gpt_find_tensor(&m, "h.0.mlp.c_proj.weight");
    s2 = 0;
    for (size_t i = 0; i < m.tensors[pj].numel; i++) {
        float v = m.params_mem[m.tensors[pj].offset + i];
        s2 += (double)v * v;
    }
    UB_CHECK_CLOSE(sqrt(s2 / m.tensors[pj].numel), 0.02 / sqrt(4.0), 0.0005, 0);
    UB_CHECK(m.params.ln1w[0] == 1.0f && m.params.qkvb[0] == 0.0f && m.params.lnfb[3] == 0.0f);
    gpt_free(&m);
    gpt_free(&m2);
}

static void test_schedule(void) {
    gpt_train_cfg c;
    gpt_train_defaults(&c);
    c.steps = 100;
    c.warmup = 10;
    c.lr = 1e-3;
    c.min_lr = 1e-4;
    UB_CHECK_CLOSE(gpt_lr_at(&c, 0), 1e-4, 1e-12, 0);
    UB_CHECK_CLOSE(gpt_lr_at(&c, 9), 1e-3, 1e-12, 0);
    UB_CHECK_CLOSE(gpt_lr_at(&c, 10), 1e-3, 1e-12, 0);
    UB_CHECK_CLOSE(gpt_lr_at(&c, 55), 0.5 * (1e-3 + 1e-4), 1e-12, 0);
    UB_CHECK_CLOSE(gpt_lr_at(&c, 100), 1e-4, 1e-12, 0);
}

static void make_tokens(corpus_tokens *t, size_t n, int vocab) {
    t->ids = malloc(n * sizeof(int32_t));
    t->n = n;
    t->vocab_size = vocab;
    /* A learnable stream: a noisy repeating pattern. */
    ub_rng r;
    ub_rng_init(&r, 11, 0);
    for (size_t i = 0; i < n; i++)
        t->ids[i] = (int32_t)((i * 7 + (ub_rng_below(&r, 10) == 0 ? 3 : 0)) % (size_t)vocab);
    ub_sha256_hex(t->ids, n * sizeof(int32_t), t->sha256);
}

static void train_cfg(gpt_train_cfg *c, long steps) {
    gpt_train_defaults(c);
    c->steps = steps;
    c->batch = 4;
    c->ctx = 8;
    c->warmup = 2;
    c->lr = 3e-3;
    c->seed = 3;
}

static int stop_at_6(void *ctx, long step, long steps, float loss, double norm, double lr,
                     double tps) {
    return step == 6;
}

static void test_ckpt(const kn_tune *tu) {
    ub_err e = {0};
    corpus_tokens tok;
    make_tokens(&tok, 2000, 32);
    gpt_train_cfg c;
    train_cfg(&c, 12);
    gpt_model m;
    gpt_train_state s;
    UB_CHECK(gpt_build(&m, &small_cfg, tu, &e) == UB_OK);
    gpt_init_gpt2(&m, c.seed);
    UB_CHECK(gpt_train_state_init(&s, &c, &tok, &e) == UB_OK);
    char a[300], b[300], t[300];
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.h5", dir);
    ub_tmp_name(a, t, sizeof t);
    UB_CHECK(gpt_train(&m, &tok, &c, &s, a, NULL, NULL, &e) == UB_OK);
    UB_CHECK(s.step == 12 && s.loss[11] < s.loss[0]);
    UB_CHECK(access(t, F_OK) != 0); /* the temporary name is gone after the rename */
    UB_CHECK(gpt_save(b, &m, &c, &s, &e) == UB_OK);
    UB_CHECK_MSG(ubt_files_equal(a, b), "two saves of the same state differ");

    gpt_model m2;
    gpt_train_cfg c2;
    gpt_train_state s2;
    int has = 0;
    UB_CHECK(gpt_load(a, &m2, tu, &c2, &s2, &has, &e) == UB_OK);
    UB_CHECK(has == 1 && s2.step == 12 && c2.steps == 12 && c2.batch == 4 && c2.seed == 3);
    UB_CHECK(memcmp(m.params_mem, m2.params_mem, m.n_params * sizeof(float)) == 0);
    UB_CHECK(memcmp(m.m_mem, m2.m_mem, m.n_params * sizeof(float)) == 0);
    UB_CHECK(memcmp(m.v_mem, m2.v_mem, m.n_params * sizeof(float)) == 0);
    UB_CHECK(m2.adam_step == 12 && s2.epoch == s.epoch && s2.pos == s.pos);
    UB_CHECK(memcmp(s.loss, s2.loss, 12 * sizeof(float)) == 0);
    UB_CHECK(strcmp(s2.tokens_sha256, tok.sha256) == 0);
    gpt_train_state_free(&s2);
    gpt_free(&m2);

    /* Resume: 6 steps, reload, 6 more == 12 straight (same thread count). */
    gpt_train_cfg c3 = c;
    gpt_model m3;
    gpt_train_state s3;
    gpt_build(&m3, &small_cfg, tu, &e);
    gpt_init_gpt2(&m3, c.seed);
    gpt_train_state_init(&s3, &c3, &tok, &e);
    c3.ckpt_every = 6;
    char r[300];
    snprintf(r, sizeof r, "%s/r.h5", dir);
    /* Stop after step 6 through the progress callback, then continue from the file. */
    UB_CHECK(gpt_train(&m3, &tok, &c3, &s3, r, stop_at_6, NULL, &e) == UB_OK);
    UB_CHECK(s3.step == 6);
    gpt_train_state_free(&s3);
    gpt_free(&m3);
    UB_CHECK(gpt_load(r, &m3, tu, &c3, &s3, &has, &e) == UB_OK);
    UB_CHECK(s3.step == 6 && has);
    UB_CHECK(gpt_train(&m3, &tok, &c3, &s3, r, NULL, NULL, &e) == UB_OK);
    UB_CHECK(s3.step == 12);
    UB_CHECK(memcmp(s3.loss, s.loss, 12 * sizeof(float)) == 0);
    UB_CHECK(memcmp(m3.params_mem, m.params_mem, m.n_params * sizeof(float)) == 0);
    gpt_train_state_free(&s3);
    gpt_free(&m3);

    /* Bad files: one clear message each, naming the file. */
    ub_err_clear(&e);
    UB_CHECK(gpt_load("/nonexistent/x.h5", &m3, tu, NULL, NULL, NULL, &e) == UB_EIO);
    UB_CHECK(strstr(e.msg, "/nonexistent/x.h5") != NULL);
    /* Truncate a copy. */
    char tr[300];
    snprintf(tr, sizeof tr, "%s/trunc.h5", dir);
    UB_CHECK(ubt_truncated_copy(a, tr) == 0);
    ub_err_clear(&e);
    UB_CHECK(gpt_load(tr, &m3, tu, NULL, NULL, NULL, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "trunc.h5") != NULL, "message: %s", e.msg);
    /* A token file is not a checkpoint. */
    char tk[300];
    snprintf(tk, sizeof tk, "%s/tok.h5", dir);
    UB_CHECK(corpus_tokens_save(tk, tok.ids, tok.n, 32, "test", &e) == UB_OK);
    ub_err_clear(&e);
    UB_CHECK(gpt_load(tk, &m3, tu, NULL, NULL, NULL, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "not an unlearnbench checkpoint") != NULL, "message: %s", e.msg);
    /* A token file whose /tokens is float: wrong dtype, named. */
    {
        ub_h5out o;
        float fl[4] = {1, 2, 3, 4};
        hsize_t d = 4;
        char fp[300];
        snprintf(fp, sizeof fp, "%s/float.h5", dir);
        ub_h5_create(&o, fp, &e);
        ub_h5_write(o.file, "tokens", H5T_NATIVE_FLOAT, fl, 1, &d, 0, &e);
        ub_h5_attr_i64(o.file, "vocab_size", 256, &e);
        ub_h5_commit(&o, &e);
        corpus_tokens bad;
        ub_err_clear(&e);
        UB_CHECK(corpus_tokens_load(&bad, fp, &e) == UB_EFORMAT);
        UB_CHECK_MSG(strstr(e.msg, "tokens") && strstr(e.msg, "float.h5"), "message: %s", e.msg);
    }

    /* Divergence: a NaN parameter stops training with the tensor or loss named; the previous
     * checkpoint stays. */
    gpt_load(a, &m3, tu, &c3, &s3, &has, &e);
    c3.steps = 14;
    float *nanp = realloc(s3.loss, 14 * sizeof(float));
    s3.loss = nanp;
    m3.params.fcw[5] = NAN;
    ub_err_clear(&e);
    UB_CHECK(gpt_train(&m3, &tok, &c3, &s3, a, NULL, NULL, &e) == UB_ENUMERIC);
    UB_CHECK_MSG(strstr(e.msg, "step 13") != NULL, "message: %s", e.msg);
    UB_CHECK(ubt_files_equal(a, b)); /* untouched */
    gpt_train_state_free(&s3);
    gpt_free(&m3);

    gpt_train_state_free(&s);
    gpt_free(&m);
    free(tok.ids);
}

/* Two micro-batches of B with scale 1/2 give the gradient of one batch of 2B (same tokens). */
static void test_accum(const kn_tune *tu) {
    ub_err e = {0};
    gpt_model m;
    gpt_build(&m, &small_cfg, tu, &e);
    gpt_init_gpt2(&m, 9);
    int B = 4, T = 8, in[32], tg[32];
    ub_rng r;
    ub_rng_init(&r, 1, 2);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int)ub_rng_below(&r, 32);
        tg[i] = (int)ub_rng_below(&r, 32);
    }
    gpt_zero_grad(&m);
    gpt_forward(&m, in, tg, B, T, &e);
    gpt_backward(&m, 1.0f, &e);
    float *full = malloc(m.n_params * sizeof(float));
    memcpy(full, m.grads_mem, m.n_params * sizeof(float));
    gpt_zero_grad(&m);
    for (int h = 0; h < 2; h++) {
        gpt_forward(&m, in + h * 2 * T, tg + h * 2 * T, 2, T, &e);
        gpt_backward(&m, 0.5f, &e);
    }
    double maxd = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        double d = fabs(full[i] - m.grads_mem[i]);
        if (d > maxd) maxd = d;
    }
    UB_CHECK_MSG(maxd < 1e-6, "accumulated gradient differs by %g", maxd);
    /* Backward without a forward with targets is refused. */
    gpt_forward(&m, in, NULL, B, T, &e);
    ub_err_clear(&e);
    UB_CHECK(gpt_backward(&m, 1.0f, &e) == UB_EINTERNAL);
    /* Out-of-range ids are refused with the position. */
    in[3] = 99;
    ub_err_clear(&e);
    UB_CHECK(gpt_forward(&m, in, tg, B, T, &e) == UB_EARG);
    UB_CHECK(strstr(e.msg, "position 3") != NULL);
    free(full);
    gpt_free(&m);
}

/* Data-parallel replicas (tune.replicas = 1, 2 threads) give the gradient and loss of the
 * kernel-parallel path (replicas = 0) up to float rounding, and the same bits on every call. */
static void test_replicas(void) {
    ub_err e = {0};
    kn_tune t0, t1;
    kn_tune_default(&t0);
    t0.threads = 2;
    t0.pass_rows = 16; /* several passes per replica */
    t1 = t0;
    t0.replicas = 0;
    t1.replicas = 1;
    gpt_model a, b;
    gpt_build(&a, &small_cfg, &t0, &e);
    gpt_build(&b, &small_cfg, &t1, &e);
    gpt_init_gpt2(&a, 4);
    gpt_init_gpt2(&b, 4);
    int B = 7, T = 8, in[56], tg[56];
    ub_rng r;
    ub_rng_init(&r, 5, 6);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int)ub_rng_below(&r, 32);
        tg[i] = i % 11 == 3 ? -1 : (int)ub_rng_below(&r, 32);
    }
    double la, lb, lb2;
    kn_tune_apply(&t0);
    gpt_zero_grad(&a);
    UB_CHECK(gpt_forward_backward(&a, in, tg, B, T, 1.0f, &la, &e) == UB_OK);
    kn_tune_apply(&t1);
    gpt_zero_grad(&b);
    UB_CHECK(gpt_forward_backward(&b, in, tg, B, T, 1.0f, &lb, &e) == UB_OK);
    UB_CHECK(b.n_replicas == 2);
    UB_CHECK_CLOSE(lb, la, 1e-6, 1e-6);
    double maxd = 0;
    for (size_t i = 0; i < a.n_params; i++) {
        double d = fabs(a.grads_mem[i] - b.grads_mem[i]);
        if (d > maxd) maxd = d;
    }
    UB_CHECK_MSG(maxd < 1e-6, "replica gradients differ by %g", maxd);
    float *g1 = malloc(b.n_params * sizeof(float));
    memcpy(g1, b.grads_mem, b.n_params * sizeof(float));
    gpt_zero_grad(&b);
    UB_CHECK(gpt_forward_backward(&b, in, tg, B, T, 1.0f, &lb2, &e) == UB_OK);
    UB_CHECK(lb2 == lb && memcmp(g1, b.grads_mem, b.n_params * sizeof(float)) == 0);
    /* A bad token inside one replica's share is reported, not lost. */
    in[50] = 1000;
    ub_err_clear(&e);
    UB_CHECK(gpt_forward_backward(&b, in, tg, B, T, 1.0f, &lb2, &e) == UB_EARG);
    UB_CHECK_MSG(strstr(e.msg, "1000") != NULL, "message: %s", e.msg);
    free(g1);
    gpt_free(&a);
    gpt_free(&b);
}

/* gpt_backward_ex: weights of 1/n_valid everywhere and soft one-hot targets both give
 * gpt_backward's gradient; a weight of 0 on a position removes it (the gradient then equals that
 * of a batch where its target is ignored); weights scale linearly. */
static void test_backward_ex(const kn_tune *tu) {
    ub_err e = {0};
    gpt_model m;
    UB_CHECK(gpt_build(&m, &small_cfg, tu, &e) == UB_OK);
    gpt_init_gpt2(&m, 9);
    enum { B = 3, T = 8, V = 32 };
    int in[B * T], tg[B * T], tg2[B * T];
    ub_rng r;
    ub_rng_init(&r, 7, 1);
    int nv = 0;
    for (int i = 0; i < B * T; i++) {
        in[i] = (int)ub_rng_below(&r, V);
        tg[i] = i % 7 == 2 ? -1 : (int)ub_rng_below(&r, V);
        nv += tg[i] >= 0;
        tg2[i] = i == 5 ? -1 : tg[i];
    }
    size_t n = m.n_params;
    float *ref = malloc(n * sizeof(float)), *w = malloc(B * T * sizeof(float));
    float *soft = calloc((size_t)B * T * V, sizeof(float));
    gpt_zero_grad(&m);
    UB_CHECK(gpt_forward(&m, in, tg, B, T, &e) == UB_OK && gpt_backward(&m, 1.0f, &e) == UB_OK);
    memcpy(ref, m.grads_mem, n * sizeof(float));
    for (int i = 0; i < B * T; i++) {
        w[i] = 1.0f / (float)nv;
        if (tg[i] >= 0) soft[(size_t)i * V + tg[i]] = 1.0f;
    }
    double dw = 0, ds = 0;
    gpt_zero_grad(&m);
    gpt_forward(&m, in, tg, B, T, &e);
    UB_CHECK(gpt_backward_ex(&m, 1.0f, w, NULL, &e) == UB_OK);
    for (size_t i = 0; i < n; i++) dw = fmax(dw, fabs(m.grads_mem[i] - ref[i]));
    gpt_zero_grad(&m);
    gpt_forward(&m, in, tg, B, T, &e);
    UB_CHECK(gpt_backward_ex(&m, 1.0f, NULL, soft, &e) == UB_OK);
    for (size_t i = 0; i < n; i++) ds = fmax(ds, fabs(m.grads_mem[i] - ref[i]));
    UB_CHECK_MSG(dw < 1e-6 && ds < 1e-6, "weights %g soft %g", dw, ds);
    /* weight 0 at position 5, doubled elsewhere, scale -0.5 == -1 x (mean over the others) */
    int nv2 = nv - (tg[5] >= 0);
    for (int i = 0; i < B * T; i++) w[i] = i == 5 ? 0.0f : 2.0f / (float)nv2;
    gpt_zero_grad(&m);
    gpt_forward(&m, in, tg2, B, T, &e);
    gpt_backward(&m, -1.0f, &e);
    memcpy(ref, m.grads_mem, n * sizeof(float));
    gpt_zero_grad(&m);
    gpt_forward(&m, in, tg, B, T, &e);
    gpt_backward_ex(&m, -0.5f, w, NULL, &e);
    dw = 0;
    for (size_t i = 0; i < n; i++) dw = fmax(dw, fabs(m.grads_mem[i] - ref[i]));
    UB_CHECK_MSG(dw < 1e-6, "zero weight %g", dw);
    free(ref), free(w), free(soft);
    gpt_free(&m);
}

/* gpt_backward_from (RMU's): for loss = sum w . h_l (h_l the output of block l), the gradient
 * of parameters at or below l matches central finite differences, and every parameter above l
 * (the next block, the final LayerNorm) gets none. */
static void test_backward_from(const kn_tune *tu) {
    ub_err e = {0};
    gpt_model m;
    UB_CHECK(gpt_build(&m, &small_cfg, tu, &e) == UB_OK);
    gpt_init_gpt2(&m, 11);
    enum { B = 2, T = 6, V = 32 };
    int C = small_cfg.n_embd, in[B * T];
    ub_rng r;
    ub_rng_init(&r, 5, 3);
    for (int i = 0; i < B * T; i++) in[i] = (int)ub_rng_below(&r, V);
    float *w = malloc((size_t)B * T * C * sizeof(float));
    for (int i = 0; i < B * T * C; i++) w[i] = (float)ub_rng_normal(&r);
    for (int l = 0; l < small_cfg.n_layer; l++) {
        gpt_zero_grad(&m);
        UB_CHECK(gpt_forward(&m, in, NULL, B, T, &e) == UB_OK);
        UB_CHECK_MSG(gpt_backward_from(&m, l, w, &e) == UB_OK, "%s", e.msg);
        float *g = malloc(m.n_params * sizeof(float));
        memcpy(g, m.grads_mem, m.n_params * sizeof(float));
        /* parameters above block l: exactly no gradient */
        const char *above[] = {"ln_f.weight", "ln_f.bias"};
        for (int k = 0; k < 2; k++) {
            int t = gpt_find_tensor(&m, above[k]);
            UB_CHECK(t >= 0);
            for (size_t i = 0; t >= 0 && i < m.tensors[t].numel; i++) UB_CHECK(g[m.tensors[t].offset + i] == 0.0f);
        }
        if (l + 1 < small_cfg.n_layer) {
            size_t nw = (size_t)4 * C * C;
            for (size_t i = 0; i < nw; i++) UB_CHECK(m.grads.fcprojw[(size_t)(l + 1) * nw + i] == 0.0f);
        }
        /* finite differences on parameters of block l, block 0 and the embeddings */
        float *probe[] = {m.params.fcprojw + (size_t)l * 4 * C * C + 7, m.params.qkvw + 3,
                          m.params.ln1w + (size_t)l * C + 1, m.params.wte + 2 * C + 5,
                          m.params.wpe + C + 2};
        for (int k = 0; k < 5; k++) {
            float *p = probe[k], keep = *p;
            size_t at = (size_t)(p - m.params_mem);
            double lv[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                *p = keep + (sgn ? -1e-2f : 1e-2f);
                UB_CHECK(gpt_forward(&m, in, NULL, B, T, &e) == UB_OK);
                const float *h = gpt_layer_output(&m, l);
                double sum = 0;
                for (int i = 0; i < B * T * C; i++) sum += (double)w[i] * h[i];
                lv[sgn] = sum;
            }
            *p = keep;
            double fd = (lv[0] - lv[1]) / 2e-2;
            UB_CHECK_CLOSE(g[at], fd, 2e-2, 2e-3);
        }
        free(g);
    }
    free(w);
    gpt_free(&m);
}

int main(void) {
    ub_h5_quiet();
    snprintf(dir, sizeof dir, "/tmp/ub_test_models_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0) return 1;
    kn_tune tu;
    kn_tune_default(&tu);
    kn_tune_apply(&tu);
    test_table(&tu);
    test_init(&tu);
    test_schedule();
    test_ckpt(&tu);
    test_accum(&tu);
    test_replicas();
    test_backward_ex(&tu);
    test_backward_from(&tu);
    kn_tune_apply(&tu);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    UB_TEST_END();
}

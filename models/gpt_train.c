/* models/gpt_train.c: the training loop, learning-rate schedule, data order and scoring (the
 * configuration and state it works on: models/gpt_train_cfg.c). */
#include "gpt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double gpt_lr_at(const gpt_train_cfg *c, long step) {
    if (step < c->warmup) return c->lr * (double)(step + 1) / (double)c->warmup;
    long span = c->steps - c->warmup;
    double ratio = span > 0 ? (double)(step - c->warmup) / (double)span : 1.0;
    double coef = 0.5 * (1.0 + cos(3.14159265358979323846 * ratio));
    return c->min_lr + coef * (c->lr - c->min_lr);
}

/* The data order: the stream is cut into n_win windows of T+1 tokens (stride T); each epoch
 * visits them in a permutation drawn from the RNG stream (seed, 0x5eed0000 + epoch). Only
 * (epoch, pos) is state, so a resumed run draws the same batches. */
typedef struct data_order {
    int64_t *perm;
    long n_win;
    long perm_epoch;
} data_order;

static void order_perm(data_order *d, uint64_t seed, long epoch) {
    for (long i = 0; i < d->n_win; i++)
        d->perm[i] = i;
    ub_rng r;
    ub_rng_init(&r, seed, 0x5eed0000ull + (uint64_t)epoch);
    ub_rng_shuffle(&r, d->perm, d->n_win);
    d->perm_epoch = epoch;
}

static void next_batch(data_order *d, const corpus_tokens *tok, const gpt_train_cfg *c,
                       gpt_train_state *s, int *inputs, int *targets) {
    int T = c->ctx;
    for (int b = 0; b < c->batch; b++) {
        if (s->pos >= d->n_win) {
            s->epoch++;
            s->pos = 0;
        }
        if (d->perm_epoch != s->epoch) order_perm(d, c->seed, s->epoch);
        const int32_t *w = tok->ids + (size_t)d->perm[s->pos] * T;
        for (int t = 0; t < T; t++) {
            inputs[b * T + t] = w[t];
            targets[b * T + t] = w[t + 1];
        }
        s->pos++;
    }
}

ub_status gpt_train(gpt_model *m, const corpus_tokens *tok, const gpt_train_cfg *c,
                    gpt_train_state *s, const char *ckpt_path, gpt_progress_fn progress,
                    void *progress_ctx, ub_err *e) {
    ub_status st = gpt_train_check(c, &m->cfg, e);
    if (st) return st;
    if (tok->vocab_size > m->cfg.vocab_size)
        return ub_fail(e, UB_EARG, "token file vocabulary %d is larger than the model's %d",
                       tok->vocab_size, m->cfg.vocab_size);
    data_order d = {0};
    d.n_win = (long)((tok->n - 1) / (size_t)c->ctx);
    if (d.n_win < 1)
        return ub_fail(e, UB_EARG, "%zu tokens are fewer than one window of %d+1", tok->n, c->ctx);
    d.perm = ub_malloc((size_t)d.n_win * sizeof(int64_t), "data order", e);
    d.perm_epoch = -1;
    int *inputs = ub_malloc((size_t)c->batch * c->ctx * sizeof(int), "batch inputs", e);
    int *targets = ub_malloc((size_t)c->batch * c->ctx * sizeof(int), "batch targets", e);
    if (!d.perm || !inputs || !targets) {
        st = UB_ENOMEM;
        goto done;
    }
    gpt_adamw h = {0, c->beta1, c->beta2, c->eps, c->weight_decay};
    double tokens_per_step = (double)c->batch * c->ctx * c->accum;
    long stop = c->stop_at > 0 && c->stop_at < c->steps ? c->stop_at : c->steps;
    while (s->step < stop) {
        long step = s->step;
        double t0 = ub_now();
        gpt_zero_grad(m);
        double loss = 0;
        for (int a = 0; a < c->accum; a++) {
            next_batch(&d, tok, c, s, inputs, targets);
            double l = 0;
            st = gpt_forward_backward(m, inputs, targets, c->batch, c->ctx, 1.0f / (float)c->accum,
                                      &l, e);
            if (st) goto done;
            if (!isfinite(l)) {
                st = ub_fail(e, UB_ENUMERIC,
                             "step %ld: training loss is %s (diverged; the last "
                             "checkpoint is kept)",
                             step + 1, isnan(l) ? "NaN" : "Inf");
                goto done;
            }
            loss += l / c->accum;
        }
        double norm = gpt_clip_grad(m, c->grad_clip);
        if (!isfinite(norm)) {
            const char *bad = gpt_nonfinite_grad(m);
            st = ub_fail(e, UB_ENUMERIC,
                         "step %ld: gradient of tensor %s is not finite "
                         "(diverged; the last checkpoint is kept)",
                         step + 1, bad ? bad : "?");
            goto done;
        }
        h.lr = gpt_lr_at(c, step);
        st = gpt_adamw_step(m, &h, e);
        if (st) goto done;
        s->loss[step] = (float)loss;
        s->step = step + 1;
        double dt = ub_now() - t0;
        if (ckpt_path && c->ckpt_every > 0 && s->step % c->ckpt_every == 0 && s->step < stop) {
            st = gpt_save(ckpt_path, m, c, s, e);
            if (st) goto done;
        }
        if (progress && progress(progress_ctx, s->step, c->steps, (float)loss, norm, h.lr,
                                 dt > 0 ? tokens_per_step / dt : 0.0))
            break;
    }
    if (ckpt_path) st = gpt_save(ckpt_path, m, c, s, e);
done:
    free(d.perm);
    free(inputs);
    free(targets);
    return st;
}

ub_status gpt_score(gpt_model *m, const int32_t *windows, long N, int T, int batch, float *loss,
                    ub_err *e) {
    if (T < 1 || T > m->cfg.n_ctx)
        return ub_fail(e, UB_EARG, "score: window of %d tokens does not fit n_ctx %d", T,
                       m->cfg.n_ctx);
    if (batch < 1) batch = 1;
    int *inputs = ub_malloc((size_t)batch * T * sizeof(int), "score inputs", e);
    int *targets = ub_malloc((size_t)batch * T * sizeof(int), "score targets", e);
    ub_status st = (!inputs || !targets) ? UB_ENOMEM : UB_OK;
    for (long n0 = 0; !st && n0 < N; n0 += batch) {
        int B = (int)(N - n0 < batch ? N - n0 : batch);
        for (int b = 0; b < B; b++) {
            const int32_t *w = windows + (size_t)(n0 + b) * (T + 1);
            for (int t = 0; t < T; t++) {
                inputs[b * T + t] = w[t];
                targets[b * T + t] = w[t + 1];
            }
        }
        st = gpt_forward(m, inputs, targets, B, T, e);
        if (!st) memcpy(loss + (size_t)n0 * T, m->acts.losses, (size_t)B * T * sizeof(float));
    }
    free(inputs);
    free(targets);
    return st;
}

/* bench/run_sisa.c: SISA (Bourtoule et al. 2021) as one of the run's models. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_private.h"

/* ---- SISA (Bourtoule et al. 2021) ------------------------------------------------------
 * Members are dealt into S shards and, within a shard, into R slices, by user (the unit of
 * deletion here is a user, so a user's posts share one slice). Shard k's model trains in R
 * stages on the cumulative slices 0..r, one cosine schedule of steps/S over the stages, and is
 * checkpointed (parameters and AdamW state) after each stage. Deleting F restarts each
 * affected shard from the checkpoint before F's earliest slice and trains the remaining stages
 * without F; the result is by construction the model SISA would have trained without F. The
 * ensemble predicts with the average of the shard models' next-token probabilities. */
typedef struct sisa_ckpt {
    float *p, *m, *v; /* (n_params) each; m, v NULL before the first step */
    long adam_step;
} sisa_ckpt;

static ub_status sisa_stage_set(run_set *out, const run_corpus *rc, const run_scenario *sc,
                                const int *shard, const int *slice, int k, int r,
                                int drop_forget, ub_err *e) {
    const corpus *c = &rc->c;
    uint8_t *take = ub_calloc(c->n_posts + 1, 1, "sisa selection", e);
    if (!take) return UB_ENOMEM;
    for (size_t i = 0; i < c->n_posts; i++) {
        const corpus_post *p = &c->posts[i];
        int64_t u = p->user;
        take[i] = !p->fresh && sc->split.eligible[i] && sc->split.role[u] == CORPUS_ROLE_MEMBER &&
                  shard[u] == k && slice[u] <= r && !(drop_forget && sc->in_forget[u]);
    }
    ub_status st = run_set_gather(out, rc, take, 0, 0, 0, e);
    free(take);
    return st;
}

/* Train shard model m through stages [r0, R) (m holds the state after stage r0-1). */
static ub_status sisa_stages(gpt_model *m, const run_corpus *rc, const run_scenario *sc,
                             const int *shard, const int *slice, int k, int r0, int R,
                             int drop_forget, const gpt_train_cfg *base, sisa_ckpt *ck,
                             long *steps_done, ub_err *e) {
    ub_status st = UB_OK;
    for (int r = r0; !st && r < R; r++) {
        run_set set;
        st = sisa_stage_set(&set, rc, sc, shard, slice, k, r, drop_forget, e);
        if (st) break;
        corpus_tokens tok;
        run_tokens_of(&set, m->cfg.vocab_size, &tok);
        gpt_train_cfg c = *base;
        c.seed = base->seed * 1000003u + (uint64_t)k * 101u + (uint64_t)r; /* data order */
        c.stop_at = base->steps * (r + 1) / R;
        gpt_train_state s;
        st = gpt_train_state_init(&s, base, &tok, e);
        s.step = base->steps * r / R;
        if (!st && tok.n < (size_t)base->ctx + 1)
            st = ub_fail(e, UB_EARG, "SISA shard %d slice %d has %zu tokens, fewer than one "
                         "window: use fewer shards or slices", k, r, tok.n);
        long before = s.step;
        /* a stage with no steps of its own (steps/S < R) trains nothing; stop_at 0 would mean
         * "no stop" to gpt_train */
        if (!st && c.stop_at > s.step) st = gpt_train(m, &tok, &c, &s, NULL, NULL, NULL, e);
        *steps_done += s.step - before;
        gpt_train_state_free(&s);
        run_set_free(&set);
        if (!st && ck) { /* checkpoint after stage r */
            sisa_ckpt *q = &ck[r];
            size_t nb = m->n_params * sizeof(float);
            q->p = q->p ? q->p : malloc(nb);
            q->m = q->m ? q->m : malloc(nb);
            q->v = q->v ? q->v : malloc(nb);
            if (!q->p || !q->m || !q->v) return ub_fail(e, UB_ENOMEM, "out of memory for SISA");
            memcpy(q->p, m->params_mem, nb);
            if (m->m_mem) { /* no step yet: the moments are still unallocated zeros */
                memcpy(q->m, m->m_mem, nb);
                memcpy(q->v, m->v_mem, nb);
            } else {
                memset(q->m, 0, nb);
                memset(q->v, 0, nb);
            }
            q->adam_step = m->adam_step;
        }
    }
    return st;
}

ub_status run_sisa(model_result *full, model_result *del, const ub_run_cfg *cfg,
                   const run_corpus *rc, const run_scenario *sc, const gpt_config *mc,
                   const gpt_train_cfg *tc, const kn_tune *tu, const secret_set *ss,
                   const probe_set *ps, gpt_model *ret, ub_err *e) {
    int S = cfg->sisa_shards, R = cfg->sisa_slices;
    size_t nu = rc->c.n_users;
    int *shard = ub_calloc(nu + 1, sizeof(int), "sisa", e);
    int *slice = ub_calloc(nu + 1, sizeof(int), "sisa", e);
    int64_t *mem = ub_calloc(nu + 1, sizeof(int64_t), "sisa", e);
    gpt_model *ms = ub_calloc((size_t)S, sizeof(gpt_model), "sisa", e);
    gpt_model **mp = ub_calloc((size_t)S, sizeof(gpt_model *), "sisa", e);
    sisa_ckpt *ck = ub_calloc((size_t)S * R, sizeof(sisa_ckpt), "sisa", e);
    ub_status st = shard && slice && mem && ms && mp && ck ? UB_OK : UB_ENOMEM;
    int64_t nm = 0;
    for (size_t u = 0; !st && u < nu; u++)
        if (sc->split.role[u] == CORPUS_ROLE_MEMBER) mem[nm++] = (int64_t)u;
    if (!st && nm < (int64_t)S * R)
        st = ub_fail(e, UB_EARG, "SISA: %lld members are fewer than shards x slices (%d x %d)",
                     (long long)nm, S, R);
    if (!st) {
        ub_rng r;
        ub_rng_init(&r, tc->seed, 77);
        ub_rng_shuffle(&r, mem, nm);
        /* deal users round-robin into shards; within a shard, consecutive runs into slices */
        int64_t per = (nm + S - 1) / S;
        for (int64_t i = 0; i < nm; i++) {
            int64_t k = i % S, j = i / S;
            shard[mem[i]] = (int)k;
            slice[mem[i]] = (int)(j * R / per);
        }
    }
    gpt_train_cfg base = *tc;
    base.steps = (tc->steps + S - 1) / S;
    base.warmup = base.steps / 50 > 0 ? base.steps / 50 : 1;
    long steps_full = 0, steps_del = 0;
    double t0 = ub_now();
    if (!cfg->quiet && !st) fprintf(stderr, "  sisa: %d shards x %d slices ...\n", S, R);
    for (int k = 0; !st && k < S; k++) {
        st = gpt_build(&ms[k], mc, tu, e);
        if (st) break;
        mp[k] = &ms[k];
        gpt_init_gpt2(&ms[k], base.seed * 1000003u + (uint64_t)k);
        st = sisa_stages(&ms[k], rc, sc, shard, slice, k, 0, R, 0, &base, ck + (size_t)k * R,
                         &steps_full, e);
    }
    double step_tokens = (double)tc->batch * tc->ctx;
    full->seconds = ub_now() - t0;
    full->flops = st ? 0 : gpt_train_flops(mc, ms[0].n_params, tc->ctx, step_tokens * steps_full);
    full->extra_bytes = st ? 0 : (size_t)S * R * 3 * ms[0].n_params * sizeof(float) +
                                     (size_t)(S - 1) * ms[0].n_params * 4 * sizeof(float);
    if (!st) st = run_score_models(full, mp, S, ret, rc, sc, ss, ps, cfg, e);
    /* the deletion */
    t0 = ub_now();
    int affected = 0;
    for (int k = 0; !st && k < S; k++) {
        int r0 = R;
        for (size_t i = 0; i < sc->n_forget; i++)
            if (shard[sc->forget_users[i]] == k && slice[sc->forget_users[i]] < r0)
                r0 = slice[sc->forget_users[i]];
        if (r0 == R) continue; /* no F user in this shard: the model stays */
        affected++;
        gpt_model *m = &ms[k];
        if (r0 == 0) { /* from scratch: the same initialisation */
            gpt_init_gpt2(m, base.seed * 1000003u + (uint64_t)k);
            if (m->m_mem) memset(m->m_mem, 0, m->n_params * sizeof(float));
            if (m->v_mem) memset(m->v_mem, 0, m->n_params * sizeof(float));
            m->adam_step = 0;
        } else {
            const sisa_ckpt *q = &ck[(size_t)k * R + r0 - 1];
            size_t nb = m->n_params * sizeof(float);
            memcpy(m->params_mem, q->p, nb);
            if (m->m_mem) memcpy(m->m_mem, q->m, nb); /* else q's moments are zeros */
            if (m->v_mem) memcpy(m->v_mem, q->v, nb);
            m->adam_step = q->adam_step;
        }
        st = sisa_stages(m, rc, sc, shard, slice, k, r0, R, 1, &base, NULL, &steps_del, e);
    }
    del->seconds = ub_now() - t0;
    del->flops = st ? 0 : gpt_train_flops(mc, ms[0].n_params, tc->ctx, step_tokens * steps_del);
    del->extra_bytes = full->extra_bytes;
    /* one user alone: the stages from its slice on, in its shard only */
    double one = 0;
    for (size_t i = 0; i < sc->n_forget; i++) {
        int r0 = slice[sc->forget_users[i]];
        one += (double)(base.steps * R / R - base.steps * r0 / R);
    }
    del->flops_one_user = sc->n_forget ? gpt_train_flops(mc, ms[0].n_params, tc->ctx,
                                                         step_tokens * one / sc->n_forget)
                                       : NAN;
    if (!cfg->quiet && !st)
        fprintf(stderr, "  sisa: deletion retrained %d of %d shards, %ld of %ld steps\n", affected,
                S, steps_del, steps_full);
    /* --sisa-check: train SISA without F from scratch and require the very same bits */
    for (int k = 0; !st && cfg->sisa_check && k < S; k++) {
        gpt_model x;
        long dummy = 0;
        st = gpt_build(&x, mc, tu, e);
        if (st) break;
        gpt_init_gpt2(&x, base.seed * 1000003u + (uint64_t)k);
        st = sisa_stages(&x, rc, sc, shard, slice, k, 0, R, 1, &base, NULL, &dummy, e);
        if (!st && memcmp(x.params_mem, ms[k].params_mem, x.n_params * sizeof(float)))
            st = ub_fail(e, UB_EINTERNAL, "SISA shard %d after the deletion differs from SISA "
                         "trained without F", k);
        gpt_free(&x);
        if (!st && !cfg->quiet && k == S - 1)
            fprintf(stderr, "  sisa: check passed, every shard equals its retraining without F\n");
    }
    if (!st) st = run_score_models(del, mp, S, ret, rc, sc, ss, ps, cfg, e);
    for (int k = 0; ms && k < S; k++) gpt_free(&ms[k]);
    for (size_t i = 0; ck && i < (size_t)S * R; i++) free(ck[i].p), free(ck[i].m), free(ck[i].v);
    free(shard), free(slice), free(mem), free(ms), free(mp), free(ck);
    return st;
}

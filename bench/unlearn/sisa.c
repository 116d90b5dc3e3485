/* bench/unlearn/sisa.c: SISA (Bourtoule et al. 2021), exact unlearning by sharded training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unlearn.h"

/* ---- SISA (Bourtoule et al. 2021) ------------------------------------------------------
 * Members are dealt into S shards and, within a shard, into R slices, by user (the unit of
 * deletion here is a user, so a user's posts share one slice). Shard k's model trains in R
 * stages on the cumulative slices 0..r, one cosine schedule of steps/S over the stages, and is
 * checkpointed (parameters and AdamW state) after each stage. A deletion request restarts each
 * affected shard from the checkpoint before its users' earliest slice and trains the remaining
 * stages without every user deleted so far, refreshing those stages' checkpoints: the result is
 * by construction the model SISA would have trained without them all, and a later request
 * restarts from checkpoints that no longer hold the earlier requests' users (stale checkpoints
 * would bring them back). The ensemble predicts with the average of the shard models'
 * next-token probabilities. */
struct ul_sisa_ckpt {
    float *p, *m, *v; /* (n_params) each */
    long adam_step;
};

/* The training posts of shard k's stage r: its members in slices 0..r, less deleted users. */
static ub_status sisa_stage_set(run_set *out, const run_corpus *rc, const run_scenario *sc,
                                const int *shard, const int *slice, int k, int r,
                                const uint8_t *deleted, ub_err *e) {
    const corpus *c = &rc->c;
    uint8_t *take = ub_calloc(c->n_posts + 1, 1, "sisa selection", e);
    if (!take) return UB_ENOMEM;
    for (size_t i = 0; i < c->n_posts; i++) {
        const corpus_post *p = &c->posts[i];
        int64_t u = p->user;
        take[i] = !p->fresh && sc->split.eligible[i] && sc->split.role[u] == CORPUS_ROLE_MEMBER &&
                  shard[u] == k && slice[u] <= r && !(deleted && deleted[u]);
    }
    ub_status st = run_set_gather(out, rc, take, 0, 0, 0, e);
    free(take);
    return st;
}

/* Train shard model m through stages [r0, R) (m holds the state after stage r0-1) without the
 * deleted users (NULL: none), checkpointing each stage into ck[r] when ck is given. */
static ub_status sisa_stages(gpt_model *m, const run_corpus *rc, const run_scenario *sc,
                             const int *shard, const int *slice, int k, int r0, int R,
                             const uint8_t *deleted, const gpt_train_cfg *base, ul_sisa_ckpt *ck,
                             long *steps_done, ub_err *e) {
    ub_status st = UB_OK;
    for (int r = r0; !st && r < R; r++) {
        run_set set;
        st = sisa_stage_set(&set, rc, sc, shard, slice, k, r, deleted, e);
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
            ul_sisa_ckpt *q = &ck[r];
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

ub_status ul_sisa_train(ul_sisa *s, const ub_sisa_cfg *cfg, const run_corpus *rc,
                        const run_scenario *sc, const gpt_config *mc, const gpt_train_cfg *tc,
                        const kn_tune *tu, const ub_log *log, ub_err *e) {
    memset(s, 0, sizeof *s);
    int S = s->S = cfg->shards, R = s->R = cfg->slices;
    s->rc = rc, s->sc = sc;
    size_t nu = rc->c.n_users;
    s->shard = ub_calloc(nu + 1, sizeof(int), "sisa", e);
    s->slice = ub_calloc(nu + 1, sizeof(int), "sisa", e);
    int64_t *mem = ub_calloc(nu + 1, sizeof(int64_t), "sisa", e);
    s->ms = ub_calloc((size_t)S, sizeof(gpt_model), "sisa", e);
    s->ens = ub_calloc((size_t)S, sizeof(gpt_model *), "sisa", e);
    s->ck = ub_calloc((size_t)S * R, sizeof(ul_sisa_ckpt), "sisa", e);
    s->deleted = ub_calloc(nu + 1, 1, "sisa", e);
    ub_status st = s->shard && s->slice && mem && s->ms && s->ens && s->ck && s->deleted
                       ? UB_OK
                       : UB_ENOMEM;
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
            s->shard[mem[i]] = (int)k;
            s->slice[mem[i]] = (int)(j * R / per);
        }
    }
    free(mem);
    gpt_train_cfg *base = &s->base;
    *base = *tc;
    base->steps = (tc->steps + S - 1) / S;
    base->warmup = base->steps / 50 > 0 ? base->steps / 50 : 1;
    long steps_full = 0;
    double t0 = ub_now();
    s->steps_full = 0;
    if (!st) ub_logf(log, "  sisa: %d shards x %d slices ...", S, R);
    for (int k = 0; !st && k < S; k++) {
        st = gpt_build(&s->ms[k], mc, tu, e);
        if (st) break;
        s->ens[k] = &s->ms[k];
        gpt_init_gpt2(&s->ms[k], base->seed * 1000003u + (uint64_t)k);
        st = sisa_stages(&s->ms[k], rc, sc, s->shard, s->slice, k, 0, R, NULL, base,
                         s->ck + (size_t)k * R, &steps_full, e);
    }
    double step_tokens = (double)tc->batch * tc->ctx;
    s->seconds_full = ub_now() - t0;
    if (!st) {
        size_t np = s->ms[0].n_params;
        s->flops_full = gpt_train_flops(mc, np, tc->ctx, step_tokens * steps_full);
        s->steps_full = steps_full;
        s->extra_bytes = (size_t)S * R * 3 * np * sizeof(float) +
                         (size_t)(S - 1) * np * 4 * sizeof(float);
    }
    return st;
}

ub_status ul_sisa_delete_users(ul_sisa *s, const int64_t *users, size_t n,
                               const ub_sisa_cfg *cfg, const gpt_config *mc, const kn_tune *tu,
                               const ub_log *log, ub_err *e) {
    int S = s->S, R = s->R;
    const run_scenario *sc = s->sc;
    const gpt_train_cfg *base = &s->base;
    double t0 = ub_now();
    int affected = 0;
    long steps_del = 0;
    ub_status st = UB_OK;
    for (size_t i = 0; i < n; i++)
        if (sc->split.role[users[i]] != CORPUS_ROLE_MEMBER)
            return ub_fail(e, UB_EARG, "SISA: user %lld to delete is not a member",
                           (long long)users[i]);
    for (size_t i = 0; i < n; i++) s->deleted[users[i]] = 1;
    s->requests++;
    for (int k = 0; !st && k < S; k++) {
        int r0 = R;
        for (size_t i = 0; i < n; i++)
            if (s->shard[users[i]] == k && s->slice[users[i]] < r0) r0 = s->slice[users[i]];
        if (r0 == R) continue; /* none of the request's users in this shard: the model stays */
        affected++;
        gpt_model *m = &s->ms[k];
        if (r0 == 0) { /* from scratch: the same initialisation */
            gpt_init_gpt2(m, base->seed * 1000003u + (uint64_t)k);
            if (m->m_mem) memset(m->m_mem, 0, m->n_params * sizeof(float));
            if (m->v_mem) memset(m->v_mem, 0, m->n_params * sizeof(float));
            m->adam_step = 0;
        } else {
            const ul_sisa_ckpt *q = &s->ck[(size_t)k * R + r0 - 1];
            size_t nb = m->n_params * sizeof(float);
            memcpy(m->params_mem, q->p, nb);
            if (m->m_mem) memcpy(m->m_mem, q->m, nb); /* else q's moments are zeros */
            if (m->v_mem) memcpy(m->v_mem, q->v, nb);
            m->adam_step = q->adam_step;
        }
        /* the stages from r0 on, checkpointed again: the next request restarts from them */
        st = sisa_stages(m, s->rc, sc, s->shard, s->slice, k, r0, R, s->deleted, base,
                         s->ck + (size_t)k * R, &steps_del, e);
    }
    const gpt_train_cfg *tc = base; /* batch and ctx are the original's */
    double step_tokens = (double)tc->batch * tc->ctx;
    size_t np = s->ms[0].n_params;
    s->seconds_del = ub_now() - t0;
    s->flops_del = st ? 0 : gpt_train_flops(mc, np, tc->ctx, step_tokens * steps_del);
    /* one user alone: the stages from its slice on, in its shard only */
    double one = 0;
    for (size_t i = 0; i < n; i++) {
        int r0 = s->slice[users[i]];
        one += (double)(base->steps * R / R - base->steps * r0 / R);
    }
    s->flops_one_user = n ? gpt_train_flops(mc, np, tc->ctx, step_tokens * one / (double)n) : NAN;
    if (!st)
        ub_logf(log, "  sisa: deletion %d retrained %d of %d shards, %ld of %ld steps",
                s->requests, affected, S, steps_del, s->steps_full);
    /* --sisa-check: train SISA without every deleted user from scratch; require the same bits */
    for (int k = 0; !st && cfg->check && k < S; k++) {
        gpt_model x;
        long dummy = 0;
        st = gpt_build(&x, mc, tu, e);
        if (st) break;
        gpt_init_gpt2(&x, base->seed * 1000003u + (uint64_t)k);
        st = sisa_stages(&x, s->rc, sc, s->shard, s->slice, k, 0, R, s->deleted, base, NULL,
                         &dummy, e);
        if (!st && memcmp(x.params_mem, s->ms[k].params_mem, x.n_params * sizeof(float)))
            st = ub_fail(e, UB_EINTERNAL, "SISA shard %d after deletion %d differs from SISA "
                         "trained without the %d requests' users", k, s->requests, s->requests);
        gpt_free(&x);
        if (!st && k == S - 1)
            ub_logf(log, "  sisa: check passed after deletion %d, every shard equals its "
                    "retraining without the users of all %d requests", s->requests, s->requests);
    }
    return st;
}

ub_status ul_sisa_delete(ul_sisa *s, const ub_sisa_cfg *cfg, const gpt_config *mc,
                         const kn_tune *tu, const ub_log *log, ub_err *e) {
    return ul_sisa_delete_users(s, s->sc->forget_users, s->sc->n_forget, cfg, mc, tu, log, e);
}

void ul_sisa_free(ul_sisa *s) {
    for (int k = 0; s->ms && k < s->S; k++) gpt_free(&s->ms[k]);
    for (size_t i = 0; s->ck && i < (size_t)s->S * s->R; i++)
        free(s->ck[i].p), free(s->ck[i].m), free(s->ck[i].v);
    free(s->shard), free(s->slice), free(s->ms), free(s->ens), free(s->ck), free(s->deleted);
    memset(s, 0, sizeof *s);
}

/* bench/engine/seed.c: one seed of the run, start to finish: the scenario, the exact models,
 * every way of answering the deletion, their scores and metrics, and the seed's group in
 * results.h5. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_private.h"
#include "results.h"

/* Everything of one seed that the steps below share. */
typedef struct seed_ctx {
    run_state *rs;
    run_scenario sc;
    secret_set ss;
    probe_set ps;
    model_result *res;   /* (rs->n_models) */
    gpt_model ret;       /* retrain: the reference of KL */
    ev_ref kl;           /* retrain's distributions for KL, built by the first score() */
    gpt_config mc;
    gpt_train_cfg tc;
    double step_tokens;  /* tokens per optimizer step */
} seed_ctx;

/* Scores of models ms[0..nm) into slot k (ref: retrain, except for retrain itself). */
static ub_status score(seed_ctx *x, int k, gpt_model **ms, int nm, ub_err *e) {
    double t0 = ub_now();
    ub_status st = ev_score_model(&x->res[k], ms, nm, k == RUN_RET ? NULL : &x->kl, &x->rs->rc,
                                  &x->sc, &x->ss, &x->ps, &x->rs->cfg->score, e);
    x->rs->score_seconds += ub_now() - t0;
    for (int i = 0; i < EV_N_PHASES; i++) x->rs->score_phase[i] += x->res[k].t_phase[i];
    return st;
}

/* The quantization attack on base b (0 original, 1 retrain, 2 + k method k) in slot `from`:
 * its weights rounded to each width (gpt_quantize_rtn), scored into the base's slots; the cost
 * is the base's (the rounding is free next to it). */
static ub_status quantized(seed_ctx *x, int b, const gpt_model *m, int from, ub_err *e) {
    run_state *rs = x->rs;
    ub_status st = UB_OK;
    for (int q = 0; !st && q < rs->n_q; q++) {
        int slot = run_slot_quant(rs, q, b);
        model_result *r = &x->res[slot], *src = &x->res[from];
        r->seconds = src->seconds, r->flops = src->flops, r->extra_bytes = src->extra_bytes;
        r->flops_one_user = src->flops_one_user;
        gpt_model w = {0};
        st = ul_copy_model(&w, m, e);
        if (!st) st = gpt_quantize_rtn(&w, rs->qbits[q], e);
        gpt_model *p = &w;
        if (!st) st = score(x, slot, &p, 1, e);
        gpt_free(&w);
    }
    return st;
}

/* The relearning attack on base b (as in quantized) in slot `from`: for each step count N, a
 * copy of m fine-tuned N steps on F's users' fresh posts (ul_relearn), scored into the base's
 * "@rlN" slot; its cost is the base's plus the relearning's. Every base of a seed relearns with
 * the same seed, so with the same batches: differences between bases are the bases'. */
static ub_status relearned(seed_ctx *x, int b, const gpt_model *m, int from, uint64_t seed,
                           ub_err *e) {
    run_state *rs = x->rs;
    ub_status st = UB_OK;
    for (int p = 0; !st && p < rs->n_rl; p++) {
        int slot = run_slot_relearn(rs, p, b);
        model_result *r = &x->res[slot], *src = &x->res[from];
        gpt_model w = {0};
        ul_cost cost = {0};
        double t0 = ub_now();
        st = ul_copy_model(&w, m, e);
        if (!st)
            st = ul_relearn(&w, &x->sc.set[RUN_FORGET_FRESH].view, &x->tc, rs->rl_steps[p],
                            seed * 1000 + 777, &cost, e);
        r->seconds = src->seconds + (ub_now() - t0);
        r->flops = src->flops + cost.flops;
        r->extra_bytes = src->extra_bytes;
        r->flops_one_user = src->flops_one_user;
        gpt_model *q = &w;
        if (!st) st = score(x, slot, &q, 1, e);
        gpt_free(&w);
    }
    return st;
}

/* The deployed model trained on without F, scored after 1/4, 1/2 and all of its budget. */
static ub_status continued(seed_ctx *x, const gpt_model *orig, ub_err *e) {
    long budget = x->rs->cfg->train.continued_steps;
    ul_continued c;
    ub_status st = ul_continued_begin(&c, orig, &x->sc.set[RUN_RETAIN], &x->tc, budget, e);
    int np = x->rs->n_cont;
    for (int k = 0; !st && k < np; k++) {
        st = ul_continued_to(&c, run_continued_steps(budget, np, k), e);
        model_result *r = &x->res[RUN_CONTINUED + k];
        r->seconds = c.seconds;
        r->flops = gpt_train_flops(&x->mc, orig->n_params, x->tc.ctx,
                                   x->step_tokens * (double)c.state.step);
        if (!st) {
            gpt_model *m = &c.model;
            st = score(x, RUN_CONTINUED + k, &m, 1, e);
        }
    }
    ul_continued_free(&c);
    return st;
}

/* SISA's ensemble trained on all members, then after the deletion of F, scored both times. */
static ub_status sisa(seed_ctx *x, ub_err *e) {
    const ub_run_cfg *cfg = x->rs->cfg;
    ul_sisa s;
    ub_status st = ul_sisa_train(&s, &cfg->sisa, &x->rs->rc, &x->sc, &x->mc, &x->tc,
                                 &x->rs->tune, x->rs->log, e);
    int kf = run_slot_sisa_full(x->rs), kd = run_slot_sisa(x->rs);
    model_result *full = &x->res[kf], *del = &x->res[kd];
    full->seconds = s.seconds_full;
    full->flops = s.flops_full;
    full->extra_bytes = s.extra_bytes;
    if (!st) st = score(x, kf, s.ens, s.S, e);
    if (!st) st = ul_sisa_delete(&s, &cfg->sisa, &x->mc, &x->rs->tune, x->rs->log, e);
    del->seconds = s.seconds_del;
    del->flops = s.flops_del;
    del->extra_bytes = s.extra_bytes;
    del->flops_one_user = s.flops_one_user;
    if (!st) st = score(x, kd, s.ens, s.S, e);
    ul_sisa_free(&s);
    return st;
}

/* Each approximate method on a fresh copy of original. */
static ub_status methods(seed_ctx *x, const gpt_model *orig, uint64_t seed, ub_err *e) {
    run_state *rs = x->rs;
    run_set idk; /* the neutral answers in place of F's posts (relabel, idkdpo) */
    ub_status st = run_idk_set(&idk, &rs->rc, &x->sc.set[RUN_FORGET], e);
    for (int k = 0; !st && k < rs->n_methods; k++) {
        const ul_method *um = rs->methods[k];
        int slot = run_slot_method(rs, k);
        model_result *r = &x->res[slot];
        ub_logf(rs->log, "  %s ...", um->name);
        gpt_model work = {0};
        char mp[1024];
        ul_method_params(rs->cfg->method_params, um->name, mp, sizeof mp);
        ul_ctx uc = {orig, &x->sc.set[RUN_FORGET].view, &x->sc.set[RUN_RETAIN].view, &x->tc,
                     seed * 1000 + (uint64_t)k, mp[0] ? mp : NULL, &idk.view};
        ul_cost cost = {0};
        st = run_method_cached(rs, um, &uc, &work, &cost, &r->seconds, e);
        r->flops = cost.flops;
        r->extra_bytes = cost.extra_bytes;
        gpt_model *m = &work;
        if (!st) st = score(x, slot, &m, 1, e);
        if (!st) st = quantized(x, 2 + k, &work, slot, e);
        if (!st) st = relearned(x, 2 + k, &work, slot, seed, e);
        gpt_free(&work);
    }
    run_set_free(&idk);
    return st;
}

/* original, retrain and retrain_ref (retrain's data and schedule with another training seed:
 * the reference model of the reference attacks), trained or cached, and scored. */
static ub_status exact_models(seed_ctx *x, gpt_model *orig, uint64_t seed, ub_err *e) {
    static const char *const base[3] = {"original", "retrain", "retrain_ref"};
    gpt_model refm = {0};
    gpt_model *trained[3] = {orig, &x->ret, &refm};
    double secs[3] = {0, 0, 0};
    ub_status st = UB_OK;
    for (int k = 0; !st && k < 3; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s-s%llu", base[k], (unsigned long long)seed);
        gpt_train_cfg t2 = x->tc;
        if (k == RUN_REF) t2.seed = seed + 0x5eedf00du;
        st = run_train_cached(x->rs, trained[k], nm, &x->sc.set[k ? RUN_RETAIN : RUN_TRAIN],
                              &x->mc, &t2, &secs[k], e);
    }
    for (int k = 0; !st && k < 3; k++) {
        model_result *r = &x->res[k];
        r->seconds = secs[k];
        r->flops = gpt_train_flops(&x->mc, orig->n_params, x->tc.ctx,
                                   x->step_tokens * (double)x->tc.steps);
        if (k == RUN_RET) r->flops_one_user = r->flops; /* retraining is as dear for one user */
        st = score(x, k, &trained[k], 1, e);
        if (!st && k < 2) st = quantized(x, k, trained[k], k, e);
        if (!st && k < 2) st = relearned(x, k, trained[k], k, seed, e);
    }
    gpt_free(&refm);
    return st;
}

ub_status run_seed(run_state *rs, int si, hid_t file, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    uint64_t seed = cfg->seed0 + (uint64_t)si;
    seed_ctx x = {.rs = rs};
    x.kl.model = &x.ret;
    gpt_model orig = {0};
    x.res = ub_calloc((size_t)rs->n_models, sizeof *x.res, "results", e);
    if (!x.res) return UB_ENOMEM;
    for (int k = 0; k < rs->n_models; k++) {
        x.res[k].flops_one_user = NAN;
        snprintf(x.res[k].name, sizeof x.res[k].name, "%s", rs->names[k]);
    }
    /* --split-seed fixes who is in F and who is a non-member; seeds then vary training only */
    uint64_t split_seed = cfg->scenario.split_seed ? cfg->scenario.split_seed : seed;
    ub_status st = run_scenario_make(&x.sc, &rs->rc, &cfg->scenario, split_seed, e);
    if (!st) st = secrets_make(&x.ss, &rs->rc, &x.sc, cfg->scenario.candidates, split_seed, e);
    if (!st) st = run_probes_make(&x.ps, &rs->rc, &x.sc, split_seed, e);
    size_t np[3] = {0, 0, 0}; /* knowledge probe items per group */
    for (size_t i = 0; !st && i < x.ps.n; i++) np[x.ps.group[i]]++;
    if (!st)
        ub_logf(rs->log, "seed %llu (%d/%d): %zu members, F = %zu users (%zu posts, %zu "
                "secrets), %zu non-members, knowledge probes: %zu of F, %zu of retained users, "
                "%zu calibration", (unsigned long long)seed, si + 1, cfg->seeds,
                x.sc.split.n_members, x.sc.n_forget, x.sc.set[RUN_FORGET].n, x.ss.n,
                x.sc.split.n_nonmembers, np[0], np[1], np[2]);
    int defb;
    if (!st) st = gpt_preset(cfg->train.model, &x.mc, &defb, e);
    x.mc.vocab_size = rs->rc.bpe.vocab_size;
    run_train_cfg(&cfg->train, &x.mc, seed, &x.tc);
    x.step_tokens = (double)x.tc.batch * x.tc.ctx;
    if (!st) st = exact_models(&x, &orig, seed, e);
    if (!st) st = run_shadows(rs, &x.sc, x.res, &x.mc, &x.tc, seed, split_seed, e);
    if (!st) st = continued(&x, &orig, e);
    if (!st) st = sisa(&x, e);
    if (!st) st = methods(&x, &orig, seed, e);
    double t0 = ub_now();
    if (!st)
        st = ev_measure(x.res, rs->n_models, RUN_ORIG, RUN_RET, RUN_REF, &rs->rc, &x.sc, &x.ss,
                        &x.ps, e);
    /* the user bootstrap behind the report's intervals: what a resample of the users makes of
     * every metric (its own line: it is part of the scoring time) */
    int B = cfg->score.boot;
    double *boot = !st && B > 0 ? ub_calloc((size_t)B * rs->n_models * ev_n_metrics + 1,
                                             sizeof(double), "bootstrap", e) : NULL;
    if (!st && B > 0 && !boot) st = UB_ENOMEM;
    double t1 = ub_now();
    if (!st && B > 0)
        st = ev_bootstrap(x.res, rs->n_models, RUN_ORIG, RUN_RET, RUN_REF, &rs->rc, &x.sc, &x.ss,
                          &x.ps, B, split_seed, kn_tune_threads(&rs->tune), boot, e);
    if (!st && B > 0)
        ub_logf(rs->log, "  seed %llu: user bootstrap, %d replicates: %.2f s",
                (unsigned long long)seed, B, ub_now() - t1);
    rs->score_seconds += ub_now() - t0;
    rs->measure_seconds += ub_now() - t0;
    for (int k = 0; !st && k < rs->n_models; k++) {
        size_t at = (size_t)si * rs->n_models + k;
        memcpy(rs->metrics + at * ev_n_metrics, x.res[k].metric, ev_n_metrics * sizeof(double));
        rs->seconds[at] = x.res[k].seconds;
    }
    if (!st) st = res_write_seed(file, seed, &rs->rc, &x.sc, &x.ss, &x.ps, x.res, rs->n_models, e);
    if (!st && B > 0) st = res_write_boot(file, seed, boot, B, rs->n_models, e);
    free(boot);
    if (!st && cfg->chain > 0) {
        run_chain ch;
        double tc0 = ub_now();
        ub_logf(rs->log, "  chain: F's %zu users as %d deletion requests ...", x.sc.n_forget,
                cfg->chain);
        st = run_chain_seed(rs, &x.sc, &orig, &x.ret, &x.mc, &x.tc, seed, split_seed, &ch, e);
        if (!st) { /* else run_chain_seed has freed ch */
            const char *mn[RES_MAX_CHAIN_ROWS];
            for (int k = 0; k < rs->n_methods && k < RES_MAX_CHAIN_ROWS; k++)
                mn[k] = rs->methods[k]->name;
            st = res_write_chain(file, seed, &ch, mn, e);
            if (!st)
                ub_logf(rs->log, "  chain: %d requests (%d of %zu users dated by their "
                        "objection), %.0f s", ch.k, ch.dated, ch.n_forget, ub_now() - tc0);
            run_chain_free(&ch);
        }
    }
    int auc = ev_metric_index("auc_loss");
    if (!st)
        ub_logf(rs->log, "  seed %llu: LOSS-attack AUC on F: original %.3f, retrain %.3f",
                (unsigned long long)seed, x.res[RUN_ORIG].metric[auc],
                x.res[RUN_RET].metric[auc]);
    for (int k = 0; k < rs->n_models; k++) model_result_free(&x.res[k]);
    free(x.res);
    gpt_free(&orig);
    ev_ref_free(&x.kl);
    gpt_free(&x.ret);
    secret_set_free(&x.ss);
    run_probes_free(&x.ps);
    run_scenario_free(&x.sc);
    return st;
}

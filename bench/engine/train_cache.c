/* bench/engine/train_cache.c: the run's exact models (original, retrain, retrain_ref), trained
 * from scratch or loaded from the cache: a checkpoint is named by a hash of everything its
 * parameters depend on (tokens, architecture, schedule, kernel tunables, version). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine_private.h"

void run_train_cfg(const ub_train_recipe *t, const gpt_config *mc, uint64_t seed,
                   gpt_train_cfg *c) {
    gpt_train_defaults(c);
    c->seed = seed;
    c->steps = t->steps;
    c->batch = t->batch;
    c->ctx = mc->n_ctx;
    c->lr = t->lr;
    c->min_lr = t->min_lr;
    c->warmup = t->steps / 50 > 0 ? t->steps / 50 : 1;
}

/* The schedule's part of a cache key (the same text in every key, so names stay stable). */
static void sched_key(const gpt_train_cfg *tc, char *buf, size_t cap) {
    snprintf(buf, cap,
             "steps %ld batch %d ctx %d lr %.17g %.17g warmup %ld clip %.17g wd %.17g b %.17g "
             "%.17g eps %.17g",
             tc->steps, tc->batch, tc->ctx, tc->lr, tc->min_lr, tc->warmup, tc->grad_clip,
             tc->weight_decay, tc->beta1, tc->beta2, tc->eps);
}

/* path = the cache's file for NAME and key hash hex: --cache DIR, else DIR/models. */
static void cache_path(const ub_run_cfg *cfg, const char *name, const char *hex, char *path,
                       size_t cap) {
    if (cfg->cache_dir) snprintf(path, cap, "%s/%s-%.16s.h5", cfg->cache_dir, name, hex);
    else snprintf(path, cap, "%s/models/%s-%.16s.h5", cfg->out_dir, name, hex);
}

ub_status run_train_cached(const run_state *rs, gpt_model *m, const char *name,
                           const run_set *set, const gpt_config *mc, const gpt_train_cfg *tc,
                           double *seconds, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    corpus_tokens tok;
    run_tokens_of(set, mc->vocab_size, &tok);
    char key[1536], hex[65], tune[512], sched[512], path[4200];
    kn_tune_str(&rs->tune, tune, sizeof tune);
    sched_key(tc, sched, sizeof sched);
    snprintf(key, sizeof key, "v2|%s|%d/%d/%d/%d/%d|seed %llu %s|tune %s|%s", tok.sha256,
             mc->n_layer, mc->n_embd, mc->n_head, mc->n_ctx, mc->vocab_size,
             (unsigned long long)tc->seed, sched, tune, UB_VERSION);
    ub_sha256_hex(key, strlen(key), hex);
    cache_path(cfg, name, hex, path, sizeof path);
    ub_err le = {0};
    gpt_train_cfg lc;
    gpt_train_state ls;
    int has = 0;
    if (gpt_load(path, m, &rs->tune, &lc, &ls, &has, &le) == UB_OK) {
        int done = has && ls.step == tc->steps;
        gpt_train_state_free(&ls);
        if (done) {
            *seconds = NAN; /* cached: the cost is the recorded training's, not measured here */
            ub_logf(rs->log, "  %s: cached %s", name, path);
            return UB_OK;
        }
        gpt_free(m);
    }
    ub_status st = gpt_build(m, mc, &rs->tune, e);
    if (st) return st;
    gpt_init_gpt2(m, tc->seed);
    gpt_train_state s;
    st = gpt_train_state_init(&s, tc, &tok, e);
    const ub_run_observer *o = rs->obs;
    char label[80];
    snprintf(label, sizeof label, "  %s", name);
    if (o && o->train_begin) o->train_begin(o->ctx, label, tc->steps);
    double t0 = ub_now();
    if (!st) st = gpt_train(m, &tok, tc, &s, path, o ? o->train_step : NULL, o ? o->ctx : NULL, e);
    *seconds = ub_now() - t0;
    if (o && o->train_end) o->train_end(o->ctx);
    gpt_train_state_free(&s);
    if (st) gpt_free(m);
    return st;
}

/* SHA-256 of a post list: its ids, offsets and authors ("none" for NULL). */
static void posts_sha(const ul_posts *p, char out[65]) {
    if (!p) {
        snprintf(out, 65, "none");
        return;
    }
    char h[3][65], cat[3 * 64 + 1];
    ub_sha256_hex(p->ids, p->off[p->n] * sizeof *p->ids, h[0]);
    ub_sha256_hex(p->off, (p->n + 1) * sizeof *p->off, h[1]);
    ub_sha256_hex(p->user, p->n * sizeof *p->user, h[2]);
    snprintf(cat, sizeof cat, "%s%s%s", h[0], h[1], h[2]);
    ub_sha256_hex(cat, strlen(cat), out);
}

/* the cost as attributes; not the wall time, which would make the bytes differ run to run */
static const char *const note_names[4] = {"cost_steps", "cost_tokens", "cost_flops",
                                          "cost_extra_bytes"};

ub_status run_method_cached(const run_state *rs, const ul_method *um, const ul_ctx *uc,
                            gpt_model *out, ul_cost *cost, double *seconds, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    const gpt_model *orig = uc->original;
    const gpt_train_cfg *tc = uc->train;
    char w[65], f[65], r[65], k[65], tune[512], sched[512], eff[1024], key[3072], hex[65];
    char path[4200];
    ub_sha256_hex(orig->params_mem, orig->n_params * sizeof(float), w);
    posts_sha(uc->forget, f);
    posts_sha(uc->retain, r);
    posts_sha(uc->idk, k);
    kn_tune_str(&rs->tune, tune, sizeof tune);
    ul_effective_params(um, cfg->method_params, eff, sizeof eff);
    sched_key(tc, sched, sizeof sched);
    snprintf(key, sizeof key,
             "method v1|%s|%s|%s|seed %llu|weights %s|forget %s|retain %s|idk %s|%s|tune %s|%s",
             um->name, eff, uc->params ? uc->params : "", (unsigned long long)uc->seed, w, f, r,
             k, sched, tune, UB_VERSION);
    ub_sha256_hex(key, strlen(key), hex);
    cache_path(cfg, um->name, hex, path, sizeof path);
    /* a complete entry: the checkpoint and its four cost notes, in one read */
    ub_err le = {0};
    double v[4];
    if (gpt_load_notes(path, out, &rs->tune, note_names, v, 4, &le) == UB_OK) {
        memset(cost, 0, sizeof *cost);
        cost->steps = (long)v[0], cost->tokens = v[1], cost->flops = v[2];
        cost->extra_bytes = (size_t)v[3];
        *seconds = NAN; /* cached: not measured here (as run_train_cached) */
        ub_logf(rs->log, "  %s: cached %s", um->name, path);
        return UB_OK;
    }
    ub_status st = ul_copy_model(out, orig, e);
    memset(cost, 0, sizeof *cost);
    double t0 = ub_now();
    if (!st) st = um->apply(out, uc, cost, e);
    *seconds = ub_now() - t0;
    v[0] = (double)cost->steps, v[1] = cost->tokens, v[2] = cost->flops;
    v[3] = (double)cost->extra_bytes;
    if (!st) st = gpt_save_notes(path, out, NULL, NULL, note_names, v, 4, e);
    if (st) gpt_free(out);
    return st;
}

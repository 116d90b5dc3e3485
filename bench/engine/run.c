/* bench/run.c: `unlearnbench run`: train, unlearn, score, measure, for each seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "metrics.h"
#include "run_private.h"

const int run_exposure_counts[4] = {0, 1, 4, 16};

const char *const run_metric_names[M_N_METRICS] = {
    "loss_forget", "loss_retain", "loss_nonmember", "loss_forget_fresh", "loss_nonmember_fresh",
    "ppl_retain_rel", "ppl_nonmember_rel", "auc_loss", "auc_zlib", "auc_mink", "auc_minkpp",
    "auc_ref", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr", "privleak", "auc_user_fresh",
    "auc_user_ref", "auc_retain", "ks_d", "ks_p", "kl_forget", "kl_retain", "em_forget",
    "em_nonmember", "es_forget", "es_nonmember", "exposure_rank_0", "exposure_rank_1",
    "exposure_rank_4", "exposure_rank_16", "exposure_skewnorm_0", "exposure_skewnorm_1",
    "exposure_skewnorm_4", "exposure_skewnorm_16", "extracted_0", "extracted_1", "extracted_4",
    "extracted_16", "extracted_beam_0", "extracted_beam_1", "extracted_beam_4",
    "extracted_beam_16", "know_city_top1", "know_special_top1", "know_rank",
    "residual_auc_loss", "residual_loss_forget", "residual_auc_user_ref", "residual_exposure_16",
    "residual_know_rank", "cost_gflop",
    "cost_rel_retrain", "cost_rel_retrain_one_user", "extra_memory_mb"};

const char *const run_metric_docs[M_N_METRICS] = {
    "mean loss per token (nats) on F's training posts",
    "mean loss per token on a sample of the retained members' training posts",
    "mean loss per token on the matched non-members' posts (never trained on)",
    "mean loss per token on F's fresh posts (never in any corpus)",
    "mean loss per token on non-members' fresh posts",
    "perplexity on retained posts relative to original (utility; 1 = unchanged)",
    "perplexity on non-members' posts relative to original (utility on unseen users)",
    "MIA ROC AUC, F's posts vs posts of non-members matched to F by post count, LOSS attack "
    "(score -mean loss per token)",
    "MIA AUC, zlib attack (score -(mean loss per token) / zlib bytes of the post, Carlini et al. "
    "2021)",
    "MIA AUC, Min-K% Prob attack",
    "MIA AUC, Min-K%++ attack",
    "MIA AUC, reference-model attack: score = mean loss per token under retrain_ref (retrain with "
    "another training seed, never saw F nor the non-members) minus under the model (NaN for "
    "retrain_ref itself)",
    "TPR at 1% FPR of the LOSS attack (resolution 1/#non-member posts)",
    "TPR at 0.1% FPR of the LOSS attack",
    "MUSE PrivLeak of the LOSS attack: (AUC - AUC_retrain) / AUC_retrain x 100",
    "user inference AUC: F's fresh posts vs non-members' fresh posts, LOSS attack per post "
    "(uncalibrated)",
    "user inference AUC (Kandpal et al. 2024): per user, mean over the user's fresh posts of the "
    "reference-calibrated score (loss per token under retrain_ref minus under the model); F's "
    "users vs the matched non-members",
    "MIA AUC of retained posts vs non-members' posts (side effect on users who stay)",
    "TOFU forget quality: KS statistic D between per-post mean losses on F, model vs retrain",
    "TOFU forget quality: KS p-value (high = indistinguishable from retrain)",
    "mean KL(retrain || model) per token on F's posts",
    "mean KL(retrain || model) per token on retained posts",
    "exact memorisation on F's posts: share of tokens that are the model's top-1 prediction given "
    "the true prefix",
    "exact memorisation on the matched non-members' posts (its baseline)",
    "extraction strength on F's posts: 1 - k/n for the shortest true prefix k after which greedy "
    "decoding reproduces the rest of the post",
    "extraction strength on the matched non-members' posts",
    "mean exposure (bits, rank estimate) of F's secrets inserted 0 times",
    "mean exposure (rank) of F's secrets inserted once",
    "mean exposure (rank) of F's secrets inserted 4 times",
    "mean exposure (rank) of F's secrets inserted 16 times",
    "mean exposure (bits, skew-normal estimate) of F's secrets inserted 0 times",
    "mean exposure (skew-normal) of secrets inserted once",
    "mean exposure (skew-normal) of secrets inserted 4 times",
    "mean exposure (skew-normal) of secrets inserted 16 times",
    "share of F's never-inserted secrets that greedy decoding from \"HANDLE: \" + prefix "
    "reproduces exactly (chance level of the format)",
    "share of F's secrets inserted once that greedy decoding reproduces exactly",
    "share of F's secrets inserted 4 times that greedy decoding reproduces exactly",
    "share of F's secrets inserted 16 times that greedy decoding reproduces exactly",
    "share of F's never-inserted secrets that beam search (beam-width) from \"HANDLE: \" + "
    "prefix returns exactly",
    "share of F's secrets inserted once that beam search returns exactly",
    "share of F's secrets inserted 4 times that beam search returns exactly",
    "share of F's secrets inserted 16 times that beam search returns exactly",
    "knowledge: share of F's users whose home city ranks first among all cities after \"HANDLE: "
    "\" + the corpus's phrase (\"Greetings from ...\")",
    "knowledge: share of F's users with a special-category attribute (health, religion, "
    "politics) whose value ranks first among the category's values after \"HANDLE: \" + the "
    "corpus's phrase (\"My diagnosis is ...\")",
    "knowledge: mean over all probes of F's users of 1 - (rank - 1) / (values - 1): 1 = true "
    "value always first, 0.5 = chance",
    "residual influence on auc_loss: (m - retrain) / (original - retrain)",
    "residual influence on loss_forget",
    "residual influence on auc_user_ref",
    "residual influence on exposure_rank_16",
    "residual influence on know_rank",
    "estimated GFLOP of the method",
    "cost_gflop / retrain's",
    "SISA: mean over F's users of the cost of deleting that user alone, / retrain's (NaN for "
    "the other models, whose cost does not split by user)",
    "memory held beyond one model with gradients and optimizer state (MB)"};

ub_status ub_run_defaults(ub_run_cfg *c, const char *preset, ub_err *e) {
    memset(c, 0, sizeof *c);
    c->gen_profile = "tiny";
    c->corpus_seed = 1;
    c->forget_rule = "random";
    c->forget_frac = 0.1;
    c->nonmember_frac = 0.2;
    c->methods = "all";
    c->seed0 = 1;
    c->out_dir = "unlearnbench-out";
    c->model = "tiny";
    c->batch = 16;
    c->lr = 2e-3;
    c->min_lr = 2e-4;
    c->candidates = 200;
    c->sisa_shards = 4;
    c->sisa_slices = 4;
    c->mink_k = 0.2;
    c->beam_width = 5;
    c->post_format = "author";
    if (!preset || !strcmp(preset, "quick")) {
        c->preset = "quick";
        c->seeds = 3;
        c->steps = 1000;
        c->continued_steps = 200;
        c->eval_posts = 400;
    } else if (!strcmp(preset, "paper")) {
        c->preset = "paper";
        c->gen_profile = "default";
        c->seeds = 5;
        c->model = "small";
        c->steps = 4000;
        c->batch = 32;
        c->lr = 1e-3;
        c->min_lr = 1e-4;
        c->continued_steps = 800;
        c->eval_posts = 2000;
        c->candidates = 1000;
        c->forget_sizes = "1,1%,5%,10%";
    } else {
        return ub_fail(e, UB_EARG, "unknown preset '%s' (quick, paper)", preset);
    }
    return UB_OK;
}

/* ---- one model's scores ---------------------------------------------------------------- */
static const int scored_set[N_SCORED] = {RUN_FORGET, RUN_RETAIN_EVAL, RUN_NONMEMBER,
                                         RUN_FORGET_FRESH, RUN_NONMEMBER_FRESH};

static void model_result_free(model_result *r) {
    for (int k = 0; k < N_SCORED; k++) {
        ub_post_scores_free(&r->s[k]);
        free(r->zlib[k]);
    }
    free(r->exp_rank), free(r->exp_sn), free(r->secret_loss), free(r->extracted);
    free(r->extracted_beam);
    free(r->probe_rank);
}

/* Scores of model m on the seed's sets and secrets (ref = retrain, or NULL for retrain). */
ub_status run_score_models(model_result *r, gpt_model **ms, int nm, gpt_model *ref,
                           const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                           const probe_set *ps, const ub_run_cfg *cfg, ub_err *e) {
    ub_status st = UB_OK;
    for (int k = 0; !st && k < N_SCORED; k++) {
        const run_set *set = &sc->set[scored_set[k]];
        /* KL to retrain is reported on F and on retained posts only: the reference's forward
         * passes are skipped on the other sets */
        gpt_model *kref = k == S_F || k == S_R ? ref : NULL;
        st = ub_score_posts_ens(ms, nm, kref, &set->view, cfg->mink_k, &r->s[k], e);
        if (st) break;
        if (!ref)
            for (size_t i = 0; i < set->n; i++) r->s[k].kl[i] = 0.0; /* retrain vs itself */
        r->zlib[k] = ub_calloc(set->n + 1, sizeof(double), "zlib scores", e);
        if (!r->zlib[k]) return UB_ENOMEM;
        for (size_t i = 0; i < set->n; i++) /* mean loss per token, as Carlini et al. */
            r->zlib[k][i] = mt_zlib_score(r->s[k].ntok[i] ? r->s[k].loss[i] / r->s[k].ntok[i] : 0,
                                          set->zlen[i]);
    }
    size_t n = ss->n;
    r->exp_rank = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_sn = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->secret_loss = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->extracted = ub_calloc(n + 1, sizeof(double), "extraction", e);
    r->extracted_beam = ub_calloc(n + 1, sizeof(double), "extraction", e);
    r->probe_rank = ub_calloc(ps->n + 1, sizeof(double), "probes", e);
    double *cand = ub_calloc((size_t)cfg->candidates + 1, sizeof(double), "exposure", e);
    if (!st && (!r->exp_rank || !r->exp_sn || !r->secret_loss || !r->extracted ||
                !r->extracted_beam ||
                !r->probe_rank || !cand))
        st = UB_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        gpt_seqs values = {ss->ids[i], ss->off[i], (size_t)cfg->candidates + 1};
        st = gpt_score_continuations(ms, nm, ss->ctx[i], ss->n_ctx[i], &values, cand, e);
        if (st) break;
        const corpus_secret *s = &rc->c.secrets[ss->secret[i]];
        r->secret_loss[i] = cand[0];
        r->exp_rank[i] = mt_exposure_rank(cand[0], cand + 1, (size_t)cfg->candidates,
                                          s->log2_space);
        r->exp_sn[i] = mt_exposure_skewnorm(cand[0], cand + 1, (size_t)cfg->candidates);
    }
    free(cand);
    if (!st)
        st = run_extract_secrets(r->extracted, r->extracted_beam, cfg->beam_width, ms, nm, ss, e);
    if (!st) st = run_score_probes(r->probe_rank, ms, nm, ps, e);
    return st;
}

static ub_status score_model(model_result *r, gpt_model *m, gpt_model *ref, const run_corpus *rc,
                             const run_scenario *sc, const secret_set *ss, const probe_set *ps,
                             const ub_run_cfg *cfg, ub_err *e) {
    return run_score_models(r, &m, 1, ref, rc, sc, ss, ps, cfg, e);
}

/* ---- training, cached by content hash ------------------------------------------------- */
typedef struct prog_ctx {
    ub_progress p;
    int on;
    char label[80];
} prog_ctx;
static int on_step(void *ctx, long step, long steps, float loss, double gn, double lr,
                   double tps) {
    prog_ctx *p = ctx;
    if (p->on) ub_progress_step(&p->p, step, steps, loss, tps);
    return 0;
}

static void train_cfg_of(const ub_run_cfg *cfg, const gpt_config *mc, uint64_t seed,
                         gpt_train_cfg *c) {
    gpt_train_defaults(c);
    c->seed = seed;
    c->steps = cfg->steps;
    c->batch = cfg->batch;
    c->ctx = mc->n_ctx;
    c->lr = cfg->lr;
    c->min_lr = cfg->min_lr;
    c->warmup = cfg->steps / 50 > 0 ? cfg->steps / 50 : 1;
}

void run_tokens_of(const run_set *s, int vocab, corpus_tokens *t) {
    memset(t, 0, sizeof *t);
    t->ids = s->ids;
    t->n = s->off[s->n];
    t->vocab_size = vocab;
    ub_sha256_hex(s->ids, t->n * sizeof(int32_t), t->sha256);
}

/* Train (or load from DIR/models/NAME-HASH.h5) a model on set with cfg's schedule. */
static ub_status train_cached(gpt_model *m, const char *name, const run_set *set,
                              const gpt_config *mc, const gpt_train_cfg *tc, const kn_tune *tu,
                              const ub_run_cfg *cfg, char *path, size_t path_cap,
                              double *seconds, ub_err *e) {
    corpus_tokens tok;
    run_tokens_of(set, mc->vocab_size, &tok);
    char key[1024], hex[65];
    snprintf(key, sizeof key,
             "v1|%s|%d/%d/%d/%d/%d|seed %llu steps %ld batch %d ctx %d lr %.17g %.17g warmup %ld "
             "clip %.17g wd %.17g b %.17g %.17g eps %.17g|threads %d|%s",
             tok.sha256, mc->n_layer, mc->n_embd, mc->n_head, mc->n_ctx, mc->vocab_size,
             (unsigned long long)tc->seed, tc->steps, tc->batch, tc->ctx, tc->lr, tc->min_lr,
             tc->warmup, tc->grad_clip, tc->weight_decay, tc->beta1, tc->beta2, tc->eps,
             kn_tune_threads(tu), UB_VERSION);
    ub_sha256_hex(key, strlen(key), hex);
    if (cfg->cache_dir) snprintf(path, path_cap, "%s/%s-%.16s.h5", cfg->cache_dir, name, hex);
    else snprintf(path, path_cap, "%s/models/%s-%.16s.h5", cfg->out_dir, name, hex);
    ub_err le = {0};
    gpt_train_cfg lc;
    gpt_train_state ls;
    int has = 0;
    if (gpt_load(path, m, tu, &lc, &ls, &has, &le) == UB_OK) {
        int done = has && ls.step == tc->steps;
        gpt_train_state_free(&ls);
        if (done) {
            *seconds = NAN; /* cached: the cost is the recorded training's, not measured here */
            if (!cfg->quiet) fprintf(stderr, "  %s: cached %s\n", name, path);
            return UB_OK;
        }
        gpt_free(m);
    }
    ub_status st = gpt_build(m, mc, tu, e);
    if (st) return st;
    gpt_init_gpt2(m, tc->seed);
    gpt_train_state s;
    st = gpt_train_state_init(&s, tc, &tok, e);
    prog_ctx p = {.on = !cfg->quiet};
    if (p.on) {
        snprintf(p.label, sizeof p.label, "  %s", name);
        ub_progress_init(&p.p, p.label, 0, tc->steps);
    }
    double t0 = ub_now();
    if (!st) st = gpt_train(m, &tok, tc, &s, path, on_step, &p, e);
    *seconds = ub_now() - t0;
    if (p.on) ub_progress_done(&p.p);
    gpt_train_state_free(&s);
    if (st) gpt_free(m);
    return st;
}

/* A deep copy of a model's parameters into a freshly built model. */
static ub_status model_copy(gpt_model *dst, const gpt_model *src, ub_err *e) {
    ub_status st = gpt_build(dst, &src->cfg, &src->tune, e);
    if (!st) memcpy(dst->params_mem, src->params_mem, src->n_params * sizeof(float));
    return st;
}

/* ---- the run -------------------------------------------------------------------------- */
typedef struct run_state {
    const ub_run_cfg *cfg;
    run_corpus rc;
    const ul_method **methods;
    int n_methods;
    int n_models;       /* original, retrain, continued x3, methods */
    char names[64][48];
    double *metrics;    /* (seeds, n_models, M_N_METRICS) */
    double *seconds;    /* (seeds, n_models) wall time: timings.h5, apart from the
                         * byte-reproducible results.h5 */
    kn_tune tune;
} run_state;

static ub_status parse_methods(run_state *rs, ub_err *e) {
    const char *list = rs->cfg->methods;
    rs->methods = ub_calloc((size_t)ul_n_methods + 1, sizeof *rs->methods, "methods", e);
    if (!rs->methods) return UB_ENOMEM;
    if (!strcmp(list, "none")) return UB_OK;
    if (!strcmp(list, "all")) {
        for (int i = 0; i < ul_n_methods; i++) rs->methods[rs->n_methods++] = ul_methods[i];
        return UB_OK;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        const ul_method *m = ul_find(t);
        if (!m) return ub_fail(e, UB_EARG, "unknown method '%s' (see unlearnbench run --help)", t);
        for (int i = 0; i < rs->n_methods; i++)
            if (rs->methods[i] == m) return ub_fail(e, UB_EARG, "method '%s' listed twice", t);
        rs->methods[rs->n_methods++] = m;
    }
    return UB_OK;
}

/* ---- results.h5, per seed -------------------------------------------------------------- */
static ub_status write_f64(hid_t g, const char *name, const double *x, size_t n, ub_err *e) {
    hsize_t d = n;
    return ub_h5_write(g, name, H5T_NATIVE_DOUBLE, x, 1, &d, 0, e);
}
static ub_status write_i64(hid_t g, const char *name, const int64_t *x, size_t n, ub_err *e) {
    hsize_t d = n;
    return ub_h5_write(g, name, H5T_NATIVE_INT64, x, 1, &d, 1, e);
}

static ub_status write_seed(hid_t file, uint64_t seed, const run_state *rs,
                            const run_scenario *sc, const secret_set *ss, const probe_set *ps,
                            model_result *res, ub_err *e) {
    char name[64];
    snprintf(name, sizeof name, "seed_%llu", (unsigned long long)seed);
    hid_t g = ub_h5_group(file, name, e);
    if (g < 0) return e->code;
    const corpus *c = &rs->rc.c;
    hsize_t du = c->n_users;
    ub_status st = ub_h5_write(g, "role", H5T_NATIVE_INT8, sc->split.role, 1, &du, 1, e);
    if (!st) st = write_i64(g, "forget_users", sc->forget_users, sc->n_forget, e);
    int64_t *mu = ub_calloc(c->n_users + 1, sizeof(int64_t), "matched users", e);
    size_t nmu = 0;
    for (size_t u = 0; mu && u < c->n_users; u++)
        if (sc->matched[u]) mu[nmu++] = (int64_t)u;
    if (!st) st = mu ? write_i64(g, "nonmember_users", mu, nmu, e) : UB_ENOMEM;
    free(mu);
    hid_t gs = st ? -1 : ub_h5_group(g, "sets", e);
    if (gs < 0 && !st) st = e->code;
    for (int k = 0; !st && k < N_SCORED; k++) {
        const run_set *set = &sc->set[scored_set[k]];
        hid_t h = ub_h5_group(gs, run_set_names[scored_set[k]], e);
        if (h < 0) {
            st = e->code;
            break;
        }
        st = write_i64(h, "post", set->post, set->n, e);
        if (!st) st = write_i64(h, "user", set->user, set->n, e);
        H5Gclose(h);
    }
    if (gs >= 0) H5Gclose(gs);
    if (!st) {
        hid_t h = ub_h5_group(g, "secrets", e);
        if (h < 0) st = e->code;
        int64_t *ins = calloc(ss->n + 1, sizeof(int64_t));
        double *bits = calloc(ss->n + 1, sizeof(double));
        if (!ins || !bits) st = ub_fail(e, UB_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < ss->n; i++) {
            ins[i] = c->secrets[ss->secret[i]].inserted;
            bits[i] = c->secrets[ss->secret[i]].log2_space;
        }
        if (!st) st = write_i64(h, "secret", ss->secret, ss->n, e);
        if (!st) st = write_i64(h, "inserted", ins, ss->n, e);
        if (!st) st = write_f64(h, "log2_space", bits, ss->n, e);
        if (!st) st = ub_h5_attr_i64(h, "candidates", rs->cfg->candidates, e);
        free(ins), free(bits);
        if (h >= 0) H5Gclose(h);
    }
    if (!st) { /* the knowledge probes: whom they ask about, what, among how many values */
        hid_t h = ub_h5_group(g, "probes", e);
        if (h < 0) st = e->code;
        int64_t *a = calloc(ps->n + 1, sizeof(int64_t)), *b = calloc(ps->n + 1, sizeof(int64_t));
        int64_t *t = calloc(ps->n + 1, sizeof(int64_t));
        if (!a || !b || !t) st = ub_fail(e, UB_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < ps->n; i++)
            a[i] = ps->kind[i], b[i] = ps->n_values[i], t[i] = ps->truth[i];
        if (!st) st = write_i64(h, "user", ps->user, ps->n, e);
        if (!st) st = write_i64(h, "kind", a, ps->n, e);
        if (!st) st = write_i64(h, "n_values", b, ps->n, e);
        if (!st) st = write_i64(h, "truth", t, ps->n, e);
        const char *kn[CORPUS_PROBE_KINDS];
        for (int k = 0; k < CORPUS_PROBE_KINDS; k++) kn[k] = corpus_probe_kind_names[k];
        if (!st) st = ub_h5_write_strings(h, "kind_names", kn, CORPUS_PROBE_KINDS, e);
        free(a), free(b), free(t);
        if (h >= 0) H5Gclose(h);
    }
    hid_t gm = st ? -1 : ub_h5_group(g, "models", e);
    if (gm < 0 && !st) st = e->code;
    for (int mi = 0; !st && mi < rs->n_models; mi++) {
        model_result *r = &res[mi];
        hid_t h = ub_h5_group(gm, rs->names[mi], e);
        if (h < 0) {
            st = e->code;
            break;
        }
        for (int k = 0; !st && k < N_SCORED; k++) {
            hid_t q = ub_h5_group(h, run_set_names[scored_set[k]], e);
            if (q < 0) {
                st = e->code;
                break;
            }
            const ub_post_scores *p = &r->s[k];
            hsize_t dn = p->n;
            st = write_f64(q, "loss", p->loss, p->n, e);
            if (!st) st = ub_h5_write(q, "ntok", H5T_NATIVE_INT32, p->ntok, 1, &dn, 1, e);
            if (!st) st = write_f64(q, "mink", p->mink, p->n, e);
            if (!st) st = write_f64(q, "minkpp", p->minkpp, p->n, e);
            if (!st) st = write_f64(q, "kl", p->kl, p->n, e);
            if (!st) st = write_f64(q, "zlib", r->zlib[k], p->n, e);
            if (!st) st = write_f64(q, "em", p->em, p->n, e);
            if (!st) st = write_f64(q, "es", p->es, p->n, e);
            H5Gclose(q);
        }
        hid_t q = st ? -1 : ub_h5_group(h, "secrets", e);
        if (!st && q < 0) st = e->code;
        if (!st) st = write_f64(q, "loss", r->secret_loss, ss->n, e);
        if (!st) st = write_f64(q, "exposure_rank", r->exp_rank, ss->n, e);
        if (!st) st = write_f64(q, "exposure_skewnorm", r->exp_sn, ss->n, e);
        if (!st) st = write_f64(q, "extracted", r->extracted, ss->n, e);
        if (!st) st = write_f64(q, "extracted_beam", r->extracted_beam, ss->n, e);
        if (q >= 0) H5Gclose(q);
        if (!st) st = write_f64(h, "probe_rank", r->probe_rank, ps->n, e);
        if (!st) st = write_f64(h, "metrics", r->metric, M_N_METRICS, e);
        H5Gclose(h);
    }
    if (gm >= 0) H5Gclose(gm);
    H5Gclose(g);
    return st;
}


/* The "key=value,..." part of spec ("name:k=v,k=v;name2:...") for method name, or "". */
static void method_params_of(const char *spec, const char *name, char *out, size_t cap) {
    out[0] = '\0';
    size_t ln = strlen(name);
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > ln && !strncmp(p, name, ln) && p[ln] == ':')
            snprintf(out, cap, "%.*s", (int)(len - ln - 1), p + ln + 1);
        p = end ? end + 1 : NULL;
    }
}

/* ---- one seed --------------------------------------------------------------------------- */
static ub_status run_seed(run_state *rs, int si, hid_t file, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    uint64_t seed = cfg->seed0 + (uint64_t)si;
    run_scenario sc;
    secret_set ss = {0};
    probe_set ps = {0};
    model_result *res = ub_calloc((size_t)rs->n_models, sizeof *res, "results", e);
    gpt_model orig = {0}, ret = {0}, refm = {0}, work = {0};
    if (!res) return UB_ENOMEM;
    for (int k = 0; k < rs->n_models; k++) res[k].flops_one_user = NAN;
    /* --split-seed fixes who is in F and who is a non-member; seeds then vary training only */
    uint64_t split_seed = cfg->split_seed ? cfg->split_seed : seed;
    ub_status st = run_scenario_make(&sc, &rs->rc, cfg, split_seed, e);
    if (!st) st = secrets_make(&ss, &rs->rc, &sc, cfg->candidates, split_seed, e);
    if (!st) st = run_probes_make(&ps, &rs->rc, &sc, e);
    if (!cfg->quiet && !st)
        fprintf(stderr, "seed %llu (%d/%d): %zu members, F = %zu users (%zu posts, %zu secrets), "
                "%zu non-members, %zu knowledge probes\n", (unsigned long long)seed, si + 1,
                cfg->seeds, sc.split.n_members, sc.n_forget, sc.set[RUN_FORGET].n, ss.n,
                sc.split.n_nonmembers, ps.n);
    gpt_config mc;
    int defb;
    if (!st) st = gpt_preset(cfg->model, &mc, &defb, e);
    mc.vocab_size = rs->rc.bpe.vocab_size;
    gpt_train_cfg tc;
    train_cfg_of(cfg, &mc, seed, &tc);
    char path[4200];
    double secs[3] = {0, 0, 0};
    /* original, retrain, and retrain_ref: retrain's data and schedule with another training
     * seed (the reference model of the reference attacks) */
    static const char *const base[3] = {"original", "retrain", "retrain_ref"};
    gpt_model *trained[3] = {&orig, &ret, &refm};
    for (int k = 0; !st && k < 3; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s-s%llu", base[k], (unsigned long long)seed);
        gpt_train_cfg t2 = tc;
        if (k == 2) t2.seed = seed + 0x5eedf00du;
        st = train_cached(trained[k], nm, &sc.set[k ? RUN_RETAIN : RUN_TRAIN], &mc, &t2,
                          &rs->tune, cfg, path, sizeof path, &secs[k], e);
    }
    double step_tokens = (double)tc.batch * tc.ctx;
    for (int k = 0; !st && k < 3; k++) {
        model_result *r = &res[k];
        r->seconds = secs[k];
        r->flops = gpt_train_flops(&mc, orig.n_params, tc.ctx, step_tokens * (double)tc.steps);
        if (k == 1) r->flops_one_user = r->flops; /* retraining is as dear for one user */
        st = score_model(r, trained[k], k == 1 ? NULL : &ret, &rs->rc, &sc, &ss, &ps, cfg, e);
    }
    gpt_free(&refm);
    /* continued: the deployed model keeps training on the corpus without F (constant lr =
     * min_lr, fresh AdamW moments), scored after 1/4, 1/2 and all of its budget */
    if (!st) st = model_copy(&work, &orig, e);
    gpt_train_state cs = {0};
    gpt_train_cfg cc = tc;
    cc.seed = seed + 0x9e3779b9u;
    cc.lr = cc.min_lr = cfg->min_lr;
    cc.warmup = 0;
    cc.steps = cfg->continued_steps;
    corpus_tokens rtok;
    run_tokens_of(&sc.set[RUN_RETAIN], mc.vocab_size, &rtok);
    if (!st) st = gpt_train_state_init(&cs, &cc, &rtok, e);
    double csec = 0;
    for (int k = 0; !st && k < 3; k++) {
        gpt_train_cfg c2 = cc;
        c2.steps = cfg->continued_steps * (k == 0 ? 1 : k == 1 ? 2 : 4) / 4;
        if (c2.steps < 1) c2.steps = 1;
        double t0 = ub_now();
        if (c2.steps > cs.step) st = gpt_train(&work, &rtok, &c2, &cs, NULL, NULL, NULL, e);
        csec += ub_now() - t0;
        model_result *r = &res[RUN_CONTINUED + k];
        r->seconds = csec;
        r->flops = gpt_train_flops(&mc, orig.n_params, tc.ctx, step_tokens * (double)cs.step);
        r->extra_bytes = 0;
        if (!st) st = score_model(r, &work, &ret, &rs->rc, &sc, &ss, &ps, cfg, e);
    }
    gpt_train_state_free(&cs);
    gpt_free(&work);
    /* SISA: the shard ensemble before and after the deletion */
    if (!st)
        st = run_sisa(&res[RUN_SISA_FULL], &res[RUN_SISA], rs->cfg, &rs->rc, &sc, &mc, &tc,
                      &rs->tune, &ss, &ps, &ret, e);
    /* the approximate methods, each on a fresh copy of original */
    for (int k = 0; !st && k < rs->n_methods; k++) {
        const ul_method *um = rs->methods[k];
        model_result *r = &res[RUN_FIRST_METHOD + k];
        if (!cfg->quiet) fprintf(stderr, "  %s ...\n", um->name);
        st = model_copy(&work, &orig, e);
        char mp[1024];
        method_params_of(cfg->method_params, um->name, mp, sizeof mp);
        ul_ctx uc = {&orig, &sc.set[RUN_FORGET].view, &sc.set[RUN_RETAIN].view, &tc,
                     seed * 1000 + (uint64_t)k, mp[0] ? mp : NULL};
        ul_cost cost = {0};
        double t0 = ub_now();
        if (!st) st = um->apply(&work, &uc, &cost, e);
        r->seconds = ub_now() - t0;
        r->flops = cost.flops;
        r->extra_bytes = cost.extra_bytes;
        if (!st) st = score_model(r, &work, &ret, &rs->rc, &sc, &ss, &ps, cfg, e);
        gpt_free(&work);
    }
    for (int k = 0; !st && k < rs->n_models; k++) st = run_metrics_own(&res[k], &rs->rc, &ss, &ps, e);
    for (int k = 0; !st && k < rs->n_models; k++)
        st = run_metrics_relative(&res[k], &res[0], &res[1], &res[RUN_REF], &sc, e);
    for (int k = 0; !st && k < rs->n_models; k++)
        memcpy(rs->metrics + ((size_t)si * rs->n_models + k) * M_N_METRICS, res[k].metric,
               sizeof res[k].metric), rs->seconds[(size_t)si * rs->n_models + k] = res[k].seconds;
    if (!st) st = write_seed(file, seed, rs, &sc, &ss, &ps, res, e);
    if (!cfg->quiet && !st)
        fprintf(stderr, "  seed %llu: LOSS-attack AUC on F: original %.3f, retrain %.3f\n",
                (unsigned long long)seed, res[0].metric[M_AUC_LOSS], res[1].metric[M_AUC_LOSS]);
    for (int k = 0; k < rs->n_models; k++) model_result_free(&res[k]);
    free(res);
    gpt_free(&orig);
    gpt_free(&ret);
    secret_set_free(&ss);
    run_probes_free(&ps);
    run_scenario_free(&sc);
    return st;
}

ub_status run_mkdir_p(const char *dir, ub_err *e) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        char ch = *p;
        if (ch == '/' || ch == '\0') {
            *p = '\0';
            struct stat sb;
            if (mkdir(buf, 0755) && (stat(buf, &sb) || !S_ISDIR(sb.st_mode)))
                return ub_fail(e, UB_EIO, "cannot create directory %s", buf);
            *p = ch;
        }
        if (!ch) break;
    }
    return UB_OK;
}

/* The configuration as INI lines (`--config` reads them back). */
void run_cfg_string(const ub_run_cfg *c, char *buf, size_t cap) {
    /* F's size as one key: forget-users and forget-frac exclude each other on reading back */
    char fsz[64];
    if (c->forget_users > 0) snprintf(fsz, sizeof fsz, "forget-users = %ld", c->forget_users);
    else snprintf(fsz, sizeof fsz, "forget-frac = %.17g", c->forget_frac);
    /* method-params one method per line (an INI line holds at most 200 bytes; the reader
     * joins repeated keys) */
    char mp[2048] = "";
    size_t n = 0;
    const char *p = c->method_params ? c->method_params : "";
    while (*p && n < sizeof mp) {
        size_t len = strcspn(p, ";");
        if (len) n += (size_t)snprintf(mp + n, sizeof mp - n, "method-params = %.*s\n", (int)len, p);
        p += len + (p[len] == ';');
    }
    snprintf(buf, cap,
             "preset = %s\n%s%s\nprofile = %s\ncorpus-seed = %llu\n"
             "forget-rule = %s\n%s\nnonmember-frac = %.17g\n"
             "all-posts = %d\nmethods = %s\n%sseeds = %d\nseed = %llu\n"
             "threads = %d\nmodel = %s\n"
             "steps = %ld\nbatch = %d\nlr = %.17g\nmin-lr = %.17g\ncontinued-steps = %ld\n"
             "eval-posts = %d\ncandidates = %d\nmink-k = %.17g\nsisa-shards = %d\n"
             "sisa-slices = %d\nsplit-seed = %llu\npost-format = %s\nbeam-width = %d\n",
             c->preset, c->corpus ? "corpus = " : "; corpus: generated from ",
             c->corpus ? c->corpus : "profile and corpus-seed", c->gen_profile,
             (unsigned long long)c->corpus_seed, c->forget_rule, fsz, c->nonmember_frac,
             c->all_posts, c->methods, mp, c->seeds,
             (unsigned long long)c->seed0, c->threads, c->model, c->steps, c->batch, c->lr,
             c->min_lr, c->continued_steps, c->eval_posts, c->candidates, c->mink_k,
             c->sisa_shards, c->sisa_slices, (unsigned long long)c->split_seed, c->post_format,
             c->beam_width);
}

static ub_status file_sha256(const char *path, char hex[65], ub_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return ub_fail(e, UB_EIO, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    ub_status st = buf && fread(buf, 1, (size_t)n, f) == (size_t)n
                       ? UB_OK
                       : ub_fail(e, UB_EIO, "cannot read %s", path);
    if (!st) ub_sha256_hex(buf, (size_t)n, hex);
    free(buf);
    fclose(f);
    return st;
}

ub_status run_generate_corpus(const ub_run_cfg *cfg, const char *path, ub_err *e) {
    corpus gc;
    corpus_gen_cfg g;
    corpus_init(&gc);
    ub_status st = corpus_gen_defaults(&g, cfg->gen_profile, e);
    g.seed = cfg->corpus_seed;
    if (!st) st = corpus_generate(&gc, &g, e);
    if (!st) st = corpus_save(&gc, path, 258, cfg->threads, e);
    corpus_free(&gc);
    return st;
}

ub_status ub_run(const ub_run_cfg *cfg, ub_err *e) {
    run_state rs = {0};
    rs.cfg = cfg;
    double t_start = ub_now();
    if (cfg->seeds < 1 || cfg->steps < 1 || cfg->continued_steps < 1 || cfg->candidates < 2 ||
        cfg->eval_posts < 1 || cfg->sisa_shards < 1 || cfg->sisa_slices < 1 || !(cfg->mink_k > 0 && cfg->mink_k <= 1) ||
        !(cfg->forget_frac > 0 && cfg->forget_frac < 1) ||
        !(cfg->nonmember_frac > 0 && cfg->nonmember_frac < 1) || cfg->forget_users < 0)
        return ub_fail(e, UB_EARG, "run: need seeds, steps, continued-steps, eval-posts >= 1, "
                       "candidates >= 2, 0 < mink-k <= 1, 0 < forget-frac, nonmember-frac < 1");
    if (cfg->beam_width < 1 || cfg->beam_width > 64)
        return ub_fail(e, UB_EARG, "run: beam-width must be in 1..64");
    if (cfg->continued_steps < 4)
        return ub_fail(e, UB_EARG, "run: continued-steps must be at least 4 (continued is "
                       "scored after 1/4, 1/2 and all of them)");
    if (!cfg->post_format || (strcmp(cfg->post_format, "author") && strcmp(cfg->post_format, "text")))
        return ub_fail(e, UB_EARG, "unknown post format '%s' (author, text)",
                       cfg->post_format ? cfg->post_format : "");
    if (cfg->forget_rule && corpus_forget_rule_parse(cfg->forget_rule) < 0)
        return ub_fail(e, UB_EARG, "unknown forget rule '%s'", cfg->forget_rule);
    ub_status st = run_mkdir_p(cfg->out_dir, e);
    char path[4200], corpus_path[4200];
    if (cfg->cache_dir) snprintf(path, sizeof path, "%s", cfg->cache_dir);
    else snprintf(path, sizeof path, "%s/models", cfg->out_dir);
    if (!st) st = run_mkdir_p(path, e);
    if (!st) st = parse_methods(&rs, e);
    if (st) goto done;
    kn_tune_default(&rs.tune);
    rs.tune.threads = cfg->threads;
    kn_tune_apply(&rs.tune);
    /* the corpus: given, or generated into DIR (deterministic, so a re-run regenerates the same
     * bytes) */
    if (cfg->corpus) {
        snprintf(corpus_path, sizeof corpus_path, "%s", cfg->corpus);
    } else if (cfg->grid_corpus) { /* generated once for every task of a grid */
        snprintf(corpus_path, sizeof corpus_path, "%s", cfg->grid_corpus);
    } else {
        snprintf(corpus_path, sizeof corpus_path, "%s/corpus.h5", cfg->out_dir);
        st = run_generate_corpus(cfg, corpus_path, e);
        if (st) goto done;
    }
    corpus_init(&rs.rc.c);
    st = corpus_load(&rs.rc.c, &rs.rc.bpe, corpus_path, e);
    if (!st) st = file_sha256(corpus_path, rs.rc.sha256, e);
    if (!st) st = run_corpus_encode(&rs.rc, !strcmp(cfg->post_format, "author"), cfg->threads, e);
    if (st) goto done;
    /* model slots */
    rs.n_models = RUN_FIRST_METHOD + rs.n_methods;
    snprintf(rs.names[0], 48, "original");
    snprintf(rs.names[1], 48, "retrain");
    snprintf(rs.names[RUN_REF], 48, "retrain_ref");
    for (int k = 0; k < 3; k++) {
        long s = cfg->continued_steps * (k == 0 ? 1 : k == 1 ? 2 : 4) / 4;
        snprintf(rs.names[RUN_CONTINUED + k], 48, "continued_%ld", s < 1 ? 1 : s);
    }
    snprintf(rs.names[RUN_SISA_FULL], 48, "sisa_full");
    snprintf(rs.names[RUN_SISA], 48, "sisa");
    for (int k = 0; k < rs.n_methods; k++)
        snprintf(rs.names[RUN_FIRST_METHOD + k], 48, "%s", rs.methods[k]->name);
    rs.metrics = ub_calloc((size_t)cfg->seeds * rs.n_models * M_N_METRICS, sizeof(double),
                           "metrics", e);
    rs.seconds = ub_calloc((size_t)cfg->seeds * rs.n_models, sizeof(double), "timings", e);
    if (!rs.metrics || !rs.seconds) {
        st = UB_ENOMEM;
        goto done;
    }
    ub_h5out o;
    snprintf(path, sizeof path, "%s/results.h5", cfg->out_dir);
    st = ub_h5_create(&o, path, e);
    if (st) goto done;
    for (int si = 0; !st && si < cfg->seeds; si++) st = run_seed(&rs, si, o.file, e);
    /* the run's tables and provenance */
    char cs[4096];
    run_cfg_string(cfg, cs, sizeof cs);
    const char *mn[64], *en[M_N_METRICS], *ed[M_N_METRICS];
    for (int k = 0; k < rs.n_models; k++) mn[k] = rs.names[k];
    for (int k = 0; k < M_N_METRICS; k++) en[k] = run_metric_names[k], ed[k] = run_metric_docs[k];
    hsize_t dm[3] = {(hsize_t)cfg->seeds, (hsize_t)rs.n_models, M_N_METRICS};
    int64_t *seeds = ub_calloc((size_t)cfg->seeds, sizeof(int64_t), "seeds", e);
    for (int si = 0; seeds && si < cfg->seeds; si++) seeds[si] = (int64_t)(cfg->seed0 + (uint64_t)si);
    if (!st && !seeds) st = UB_ENOMEM;
    if (!st) st = ub_h5_write(o.file, "metrics", H5T_NATIVE_DOUBLE, rs.metrics, 3, dm, 0, e);
    if (!st) st = write_i64(o.file, "seeds", seeds, (size_t)cfg->seeds, e);
    if (!st) st = ub_h5_write_strings(o.file, "model_names", mn, (size_t)rs.n_models, e);
    if (!st) st = ub_h5_write_strings(o.file, "metric_names", en, M_N_METRICS, e);
    if (!st) st = ub_h5_write_strings(o.file, "metric_docs", ed, M_N_METRICS, e);
    const char *mp[64];
    for (int k = 0; k < rs.n_models; k++)
        mp[k] = k < RUN_FIRST_METHOD ? "" : rs.methods[k - RUN_FIRST_METHOD]->params;
    if (!st) st = ub_h5_write_strings(o.file, "model_params", mp, (size_t)rs.n_models, e);
    if (!st) st = ub_h5_attr_str(o.file, "format", "unlearnbench-results", e);
    if (!st) st = ub_h5_attr_i64(o.file, "format_version", 1, e);
    if (!st) st = ub_h5_attr_str(o.file, "version", UB_VERSION, e);
    if (!st) st = ub_h5_attr_str(o.file, "config", cs, e);
    if (!st) st = ub_h5_attr_str(o.file, "corpus", cfg->corpus ? cfg->corpus : "corpus.h5 "
                                 "(generated in the output directory, or a grid's)", e);
    if (!st) st = ub_h5_attr_str(o.file, "corpus_sha256", rs.rc.sha256, e);
    if (!st) st = ub_h5_attr_i64(o.file, "threads", kn_tune_threads(&rs.tune), e);
    free(seeds);
    if (!st) st = ub_h5_commit(&o, e);
    else ub_h5_abort(&o);
    if (!st) {
        snprintf(path, sizeof path, "%s/timings.h5", cfg->out_dir);
        hsize_t dt[2] = {(hsize_t)cfg->seeds, (hsize_t)rs.n_models};
        st = ub_h5_create(&o, path, e);
        if (!st) st = ub_h5_write(o.file, "seconds", H5T_NATIVE_DOUBLE, rs.seconds, 2, dt, 0, e);
        if (!st) st = ub_h5_attr_f64(o.file, "wall_seconds", ub_now() - t_start, e);
        if (!st) st = ub_h5_commit(&o, e);
        else ub_h5_abort(&o);
    }
    if (!st && !cfg->quiet)
        fprintf(stderr, "run finished in %.0f s: %s/results.h5\n", ub_now() - t_start,
                cfg->out_dir);
done:
    free(rs.methods);
    free(rs.metrics);
    free(rs.seconds);
    free(rs.rc.ids);
    free(rs.rc.off);
    free(rs.rc.zlen);
    corpus_bpe_free(&rs.rc.bpe);
    corpus_free(&rs.rc.c);
    return st;
}

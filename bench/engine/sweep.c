/* bench/engine/sweep.c: `unlearnbench sweep`, every approximate method at its best budget,
 * chosen the way a deployer would choose it: without the test set.
 *
 * Validation: seeds sw->val_seed0, ... (never the run's own seeds) draw their own split, with
 * every user of every test seed's F (the run's seeds seed0 .. seed0 + seeds - 1) left out of
 * the corpus altogether: no post of a test F is trained on, deleted or scored here. On each
 * validation seed the recipe trains original and retrain (cached like the run's), and every
 * setting of every method's grid (ul_method.grid) is applied to original and scored: the LOSS
 * attack's AUC on the validation F's posts against the matched non-members' posts, and the
 * perplexity on retained posts relative to original's. The rule, stated before anything is run
 * (its tie tolerance since the second sweep: bench/unlearn/methods/README.md): among the settings
 * whose mean perplexity ratio over the validation seeds is at most sw->max_ppl, the one whose
 * mean AUC is closest to retrain's (over- and under-forgetting cost the same), where distances
 * within sw->auc_tol of the closest count as ties, and ties go to the cheapest setting (then the
 * closer): a costlier setting whose AUC is closer by less than the validation resolves shows no
 * evidence of forgetting better, and a deployer pays for its FLOPs at every deletion request. The
 * selected settings are what a preset ships (engine/config.c); `run` then applies them once to
 * the test F. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_private.h"
#include "metrics.h"

typedef struct sw_method {
    const ul_method *m;
    int np;
    char (*pt)[UL_GRID_LEN]; /* (np) settings */
    double *auc, *ppl, *flops; /* (np, V) */
    int sel, meets, closest;  /* selected; 1: it meets the rule; closest to retrain at any ppl */
} sw_method;

/* Who the sweep deleted and whom it left out, for the record (sweep.h5). */
typedef struct sw_users {
    int64_t *test;          /* (n_test) every test F's users, sorted: left out */
    size_t n_test;
    int64_t *val[64];       /* (n_val[v]) validation seed v's F */
    size_t n_val[64];
} sw_users;

/* LOSS AUC of the validation F against the non-members, and the mean loss per token on the
 * retained posts, of model m. */
static ub_status measure(gpt_model *m, const run_scenario *sc, double mink, double *auc,
                         double *loss, ub_err *e) {
    ub_post_scores s[3];
    const int sets[3] = {RUN_FORGET, RUN_NONMEMBER, RUN_RETAIN_EVAL};
    memset(s, 0, sizeof s);
    ub_status st = UB_OK;
    for (int k = 0; !st && k < 3; k++)
        st = ub_score_posts(m, NULL, &sc->set[sets[k]].view, mink, &s[k], e);
    double *pos = st ? NULL : ub_malloc((s[0].n + 1) * sizeof(double), "sweep scores", e);
    double *neg = st ? NULL : ub_malloc((s[1].n + 1) * sizeof(double), "sweep scores", e);
    if (!st && (!pos || !neg)) st = UB_ENOMEM;
    size_t np = 0, nn = 0;
    for (size_t i = 0; !st && i < s[0].n; i++)
        if (s[0].ntok[i]) pos[np++] = -s[0].loss[i] / s[0].ntok[i];
    for (size_t i = 0; !st && i < s[1].n; i++)
        if (s[1].ntok[i]) neg[nn++] = -s[1].loss[i] / s[1].ntok[i];
    double l = 0, t = 0;
    for (size_t i = 0; !st && i < s[2].n; i++) l += s[2].loss[i], t += s[2].ntok[i];
    if (!st) {
        *auc = np && nn ? mt_auc(pos, np, neg, nn) : NAN;
        *loss = t > 0 ? l / t : NAN;
    }
    free(pos), free(neg);
    for (int k = 0; k < 3; k++) ub_post_scores_free(&s[k]);
    return st;
}

/* base's items with the grid point's on top (the grid's keys win). */
static void merge_params(const ul_method *m, const char *base, const char *point, char *out,
                         size_t cap) {
    char spec[2 * UL_GRID_LEN + 1100];
    snprintf(spec, sizeof spec, "%s;%s:%s", base ? base : "", m->name, point);
    ul_method_params(spec, m->name, out, cap);
}

/* Every user in the F of one of the run's seeds (the test F's): excl[u] = 1. */
static ub_status test_forget_users(const run_state *rs, uint8_t *excl, size_t *n, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    ub_status st = UB_OK;
    *n = 0;
    for (int si = 0; !st && si < cfg->seeds; si++) {
        uint64_t seed = cfg->seed0 + (uint64_t)si;
        run_scenario sc;
        st = run_scenario_make(&sc, &rs->rc, &cfg->scenario,
                               cfg->scenario.split_seed ? cfg->scenario.split_seed : seed, e);
        for (size_t i = 0; !st && i < sc.n_forget; i++) {
            *n += !excl[sc.forget_users[i]];
            excl[sc.forget_users[i]] = 1;
        }
        run_scenario_free(&sc);
    }
    return st;
}

/* A setting's mean AUC distance to retrain, perplexity ratio and FLOPs over the V seeds. */
static void point_means(const sw_method *w, int p, int V, double auc_ret, double *d, double *q,
                        double *f) {
    double a = 0;
    *q = *f = 0;
    for (int v = 0; v < V; v++) {
        a += w->auc[p * V + v] / V, *q += w->ppl[p * V + v] / V;
        *f += w->flops[p * V + v] / V;
    }
    *d = fabs(a - auc_ret);
}

static void choose(sw_method *w, int V, double auc_ret, double max_ppl, double tol) {
    w->sel = w->closest = -1;
    w->meets = 0;
    double best = INFINITY, bestc = INFINITY, bestcf = 0, lowp = INFINITY, d, q, f;
    int low = -1;
    for (int p = 0; p < w->np; p++) {
        point_means(w, p, V, auc_ret, &d, &q, &f);
        /* closest at any utility: closer, or as close (to 1e-12) and cheaper */
        if (d < bestc - 1e-12 || (d <= bestc + 1e-12 && f < bestcf))
            bestc = d, bestcf = f, w->closest = p;
        if (q <= max_ppl && d < best) best = d;
        if (q < lowp) lowp = q, low = p;
    }
    /* among the settings within utility and within tol of the closest of them: the cheapest,
     * then the closer */
    double self = 0, seld = 0;
    for (int p = 0; best < INFINITY && p < w->np; p++) {
        point_means(w, p, V, auc_ret, &d, &q, &f);
        if (q > max_ppl || d > best + tol + 1e-12) continue;
        if (w->sel < 0 || f < self * (1 - 1e-12) || (f <= self * (1 + 1e-12) && d < seld))
            w->sel = p, self = f, seld = d;
    }
    if (w->sel >= 0) w->meets = 1;
    else w->sel = low; /* no setting keeps utility: the gentlest one, flagged */
}

static double mean_row(const double *x, int p, int V) {
    double s = 0;
    for (int v = 0; v < V; v++) s += x[p * V + v];
    return s / V;
}

static ub_status write_h5(const char *dir, const run_state *rs, const ub_sweep_cfg *sw,
                          sw_method *w, int nm, const double *ref_auc, const double *ref_ppl,
                          const sw_users *u, ub_err *e) {
    char path[4200], cs[4096];
    snprintf(path, sizeof path, "%s/sweep.h5", dir);
    ub_run_cfg_string(rs->cfg, cs, sizeof cs);
    ub_h5out o;
    ub_status st = ub_h5_create(&o, path, e);
    if (st) return st;
    hid_t f = o.file;
    int V = sw->val_seeds;
    int64_t vs[64];
    for (int v = 0; v < V && v < 64; v++) vs[v] = (int64_t)(sw->val_seed0 + (uint64_t)v);
    hsize_t dv[1] = {(hsize_t)V}, d2[2] = {2, (hsize_t)V};
    if (!st) st = ub_h5_attr_str(f, "format", "unlearnbench-sweep", e);
    if (!st) st = ub_h5_attr_i64(f, "format_version", 1, e);
    if (!st) st = ub_h5_attr_str(f, "config", cs, e);
    if (!st) st = ub_h5_attr_str(f, "corpus_sha256", rs->rc.sha256, e);
    if (!st) st = ub_h5_attr_f64(f, "max_ppl", sw->max_ppl, e);
    if (!st) st = ub_h5_attr_f64(f, "auc_tol", sw->auc_tol, e);
    if (!st) st = ub_h5_attr_i64(f, "test_seed0", (int64_t)rs->cfg->seed0, e);
    if (!st) st = ub_h5_attr_i64(f, "test_seeds", rs->cfg->seeds, e);
    if (!st) st = ub_h5_write(f, "val_seeds", H5T_NATIVE_INT64, vs, 1, dv, 0, e);
    /* reference rows: original (0) and retrain (1) on each validation seed */
    if (!st) st = ub_h5_write(f, "reference_auc", H5T_NATIVE_DOUBLE, ref_auc, 2, d2, 0, e);
    if (!st) st = ub_h5_write(f, "reference_ppl", H5T_NATIVE_DOUBLE, ref_ppl, 2, d2, 0, e);
    hsize_t dt[1] = {(hsize_t)u->n_test};
    if (!st) st = ub_h5_write(f, "test_forget_users", H5T_NATIVE_INT64, u->test, 1, dt, 0, e);
    for (int v = 0; !st && v < V; v++) {
        char nm_v[64];
        hsize_t dn[1] = {(hsize_t)u->n_val[v]};
        snprintf(nm_v, sizeof nm_v, "val_forget_users_%lld", (long long)vs[v]);
        st = ub_h5_write(f, nm_v, H5T_NATIVE_INT64, u->val[v], 1, dn, 0, e);
    }
    hid_t g = st ? -1 : ub_h5_group(f, "methods", e);
    if (!st && g < 0) st = UB_EIO;
    for (int k = 0; !st && k < nm; k++) {
        hid_t h = ub_h5_group(g, w[k].m->name, e);
        if (h < 0) {
            st = UB_EIO;
            break;
        }
        const char *sp[UL_GRID_MAX];
        for (int p = 0; p < w[k].np; p++) sp[p] = w[k].pt[p];
        hsize_t dp[2] = {(hsize_t)w[k].np, (hsize_t)V};
        st = ub_h5_write_strings(h, "settings", sp, (size_t)w[k].np, e);
        if (!st) st = ub_h5_write(h, "auc", H5T_NATIVE_DOUBLE, w[k].auc, 2, dp, 0, e);
        if (!st) st = ub_h5_write(h, "ppl", H5T_NATIVE_DOUBLE, w[k].ppl, 2, dp, 0, e);
        if (!st) st = ub_h5_write(h, "flops", H5T_NATIVE_DOUBLE, w[k].flops, 2, dp, 0, e);
        if (!st) st = ub_h5_attr_i64(h, "selected", w[k].sel, e);
        if (!st) st = ub_h5_attr_i64(h, "meets_rule", w[k].meets, e);
        if (!st) st = ub_h5_attr_i64(h, "closest", w[k].closest, e);
        H5Gclose(h);
    }
    if (g >= 0) H5Gclose(g);
    if (!st) return ub_h5_commit(&o, e);
    ub_h5_abort(&o);
    return st;
}

/* The axes of grid on which setting sits at an end ("lr max, steps min"): a selection there
 * says the grid may not reach the method's best. */
static void edges(const char *grid, const char *setting, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (const char *a = grid; a && *a;) {
        const char *end = strchr(a, ';'), *eq = strchr(a, '=');
        size_t len = end ? (size_t)(end - a) : strlen(a);
        if (!eq || eq > a + len) break;
        size_t kl = (size_t)(eq - a);
        const char *v0 = eq + 1, *bar = memchr(v0, '|', len - kl - 1);
        const char *last = v0;
        for (const char *q = v0; q < a + len; q++)
            if (*q == '|') last = q + 1;
        if (bar) { /* more than one value: find the setting's value of this key */
            size_t l0 = (size_t)(bar - v0), ll = (size_t)(a + len - last);
            char key[80];
            snprintf(key, sizeof key, "%.*s=", (int)kl, a);
            const char *at = strstr(setting, key);
            while (at && at != setting && at[-1] != ',') at = strstr(at + 1, key);
            if (at) {
                const char *v = at + strlen(key);
                size_t lv = strcspn(v, ",");
                const char *which = lv == l0 && !strncmp(v, v0, l0)   ? "min"
                                    : lv == ll && !strncmp(v, last, ll) ? "max"
                                                                        : NULL;
                if (which && n < cap)
                    n += (size_t)snprintf(out + n, cap - n, "%s%.*s %s", n ? ", " : "", (int)kl,
                                          a, which);
            }
        }
        a = end ? end + 1 : NULL;
    }
}

/* sweep.md: the rule, the references, and per method its grid's selected setting and the
 * setting closest to retrain at any utility; selected.txt: the selection as --method-params. */
static ub_status write_text(const char *dir, const run_state *rs, const ub_sweep_cfg *sw,
                            const sw_method *w, int nm, const double *ref_auc,
                            const double *ref_ppl, size_t n_excl, double secs, ub_err *e) {
    int V = sw->val_seeds;
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/sweep.md", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) return ub_fail(e, UB_EIO, "cannot write %s", tmp);
    double ao = mean_row(ref_auc, 0, V), ar = mean_row(ref_auc, 1, V);
    double pr = mean_row(ref_ppl, 1, V);
    fprintf(o, "Each method's setting is chosen on a validation deletion, never on the test F: "
            "%d validation seed%s (%llu", V, V > 1 ? "s" : "", (unsigned long long)sw->val_seed0);
    if (V > 1) fprintf(o, "-%llu", (unsigned long long)(sw->val_seed0 + (uint64_t)V - 1));
    fprintf(o, "), each with its own split and forget set, and the %zu users of every test F "
            "(seeds %llu-%llu) left out of the corpus altogether. Rule, fixed before the sweep: "
            "among the settings whose retained posts' perplexity stays within %.2fx the "
            "original's (mean over the validation seeds), the one whose LOSS-attack AUC on the "
            "validation F is closest to retrain's (forgetting too much is as visible as too "
            "little), where AUCs within %.2f of the closest count as ties and ties go to the "
            "cheapest setting (fewest FLOPs; a costlier setting closer by less than that shows no "
            "evidence of forgetting better on these validation seeds, and a deployer pays its "
            "cost at every deletion). A selection at an end of a grid's axis is "
            "marked: the method's best may lie beyond it. The grids are in "
            "`bench/unlearn/methods/README.md`. Validation references (mean over %d seed%s): "
            "original AUC %.3f, retrain AUC %.3f at perplexity %.3fx. These validation figures "
            "choose settings; the benchmark's figures, with their intervals, are the run's on "
            "the test F. The sweep took %.0f s.\n\n",
            n_excl, (unsigned long long)rs->cfg->seed0,
            (unsigned long long)(rs->cfg->seed0 + (uint64_t)rs->cfg->seeds - 1), sw->max_ppl,
            sw->auc_tol, V, V > 1 ? "s" : "", ao, ar, pr, secs);
    fprintf(o, "| method | settings tried | selected | at the grid's edge | AUC | ppl / original | "
            "closest to retrain at any perplexity | its AUC | its ppl |\n"
            "|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < nm; k++) {
        const sw_method *x = &w[k];
        int s = x->sel, c = x->closest;
        char ed[256];
        edges(x->m->grid, x->pt[s], ed, sizeof ed);
        fprintf(o, "| %s | %d | `%s`%s | %s | %.3f | %.3f | `%s` | %.3f | %.3f |\n", x->m->name,
                x->np, x->pt[s], x->meets ? "" : " (none meets the rule: the gentlest)",
                ed[0] ? ed : "no", mean_row(x->auc, s, V), mean_row(x->ppl, s, V), x->pt[c],
                mean_row(x->auc, c, V), mean_row(x->ppl, c, V));
    }
    int bad = fclose(o) != 0;
    if (bad || rename(tmp, path)) return ub_fail(e, UB_EIO, "cannot write %s", path);
    snprintf(path, sizeof path, "%s/selected.txt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    o = fopen(tmp, "w");
    if (!o) return ub_fail(e, UB_EIO, "cannot write %s", tmp);
    for (int k = 0; k < nm; k++)
        fprintf(o, "%s:%s%s", w[k].m->name, w[k].pt[w[k].sel], k + 1 < nm ? ";" : "\n");
    bad = fclose(o) != 0;
    if (bad || rename(tmp, path)) return ub_fail(e, UB_EIO, "cannot write %s", path);
    return UB_OK;
}

/* One validation seed: its scenario without the test F's users, original and retrain, every
 * setting of every method. */
static ub_status val_seed(run_state *rs, const ub_sweep_cfg *sw, int v, const uint8_t *excl,
                          sw_method *w, int nm, double *ref_auc, double *ref_ppl, sw_users *u,
                          ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    int V = sw->val_seeds;
    uint64_t seed = sw->val_seed0 + (uint64_t)v;
    ub_scenario_cfg scfg = cfg->scenario;
    scfg.exclude = excl;
    scfg.split_seed = 0;
    run_scenario sc;
    ub_status st = run_scenario_make(&sc, &rs->rc, &scfg, seed, e);
    if (st) return st;
    u->val[v] = ub_malloc((sc.n_forget + 1) * sizeof(int64_t), "validation users", e);
    if (!u->val[v]) {
        run_scenario_free(&sc);
        return UB_ENOMEM;
    }
    memcpy(u->val[v], sc.forget_users, sc.n_forget * sizeof(int64_t));
    u->n_val[v] = sc.n_forget;
    ub_logf(rs->log, "validation seed %llu (%d/%d): %zu members, F = %zu users (%zu posts), %zu "
            "non-members", (unsigned long long)seed, v + 1, V, sc.split.n_members, sc.n_forget,
            sc.set[RUN_FORGET].n, sc.split.n_nonmembers);
    gpt_config mc;
    gpt_train_cfg tc;
    int defb;
    st = gpt_preset(cfg->train.model, &mc, &defb, e);
    mc.vocab_size = rs->rc.bpe.vocab_size;
    run_train_cfg(&cfg->train, &mc, seed, &tc);
    gpt_model orig = {0}, ret = {0};
    run_set idk;
    memset(&idk, 0, sizeof idk);
    double secs, l0 = NAN, lr = NAN;
    char nm_o[64], nm_r[64];
    snprintf(nm_o, sizeof nm_o, "original-v%llu", (unsigned long long)seed);
    snprintf(nm_r, sizeof nm_r, "retrain-v%llu", (unsigned long long)seed);
    if (!st) st = run_train_cached(rs, &orig, nm_o, &sc.set[RUN_TRAIN], &mc, &tc, &secs, e);
    if (!st) st = run_train_cached(rs, &ret, nm_r, &sc.set[RUN_RETAIN], &mc, &tc, &secs, e);
    if (!st) st = measure(&orig, &sc, cfg->score.mink_k, &ref_auc[v], &l0, e);
    if (!st) st = measure(&ret, &sc, cfg->score.mink_k, &ref_auc[V + v], &lr, e);
    ref_ppl[v] = 1.0, ref_ppl[V + v] = exp(lr - l0);
    if (!st)
        ub_logf(rs->log, "  LOSS AUC: original %.3f, retrain %.3f (perplexity x%.3f)",
                ref_auc[v], ref_auc[V + v], ref_ppl[V + v]);
    if (!st) st = run_idk_set(&idk, &rs->rc, &sc.set[RUN_FORGET], e);
    for (int k = 0; !st && k < nm; k++) {
        double t0 = ub_now();
        for (int p = 0; !st && p < w[k].np; p++) {
            char mp[1024];
            merge_params(w[k].m, cfg->method_params, w[k].pt[p], mp, sizeof mp);
            gpt_model work = {0};
            st = ul_copy_model(&work, &orig, e);
            ul_ctx uc = {&orig, &sc.set[RUN_FORGET].view, &sc.set[RUN_RETAIN].view, &tc,
                         seed * 1000 + (uint64_t)k, mp, &idk.view};
            ul_cost cost = {0};
            double l = NAN;
            size_t at = (size_t)p * V + v;
            if (!st) st = w[k].m->apply(&work, &uc, &cost, e);
            if (!st) st = measure(&work, &sc, cfg->score.mink_k, &w[k].auc[at], &l, e);
            w[k].ppl[at] = exp(l - l0);
            w[k].flops[at] = cost.flops;
            gpt_free(&work);
        }
        if (!st)
            ub_logf(rs->log, "  %s: %d settings, %.1f s", w[k].m->name, w[k].np, ub_now() - t0);
    }
    run_set_free(&idk);
    gpt_free(&orig), gpt_free(&ret);
    run_scenario_free(&sc);
    return st;
}

ub_status ub_sweep(const ub_run_cfg *cfg, const ub_sweep_cfg *sw, const kn_tune *tune,
                   const ub_run_observer *obs, ub_err *e) {
    run_state rs = {.cfg = cfg, .obs = obs, .log = obs ? &obs->log : NULL, .tune = *tune};
    double t_start = ub_now();
    ub_status st = UB_OK;
    if (sw->val_seeds < 1 || sw->val_seeds > 64 || !(sw->max_ppl >= 1.0))
        st = ub_fail(e, UB_EARG, "sweep: need 1..64 validation seeds and a perplexity bound "
                     ">= 1");
    if (!st && !(sw->auc_tol >= 0.0 && sw->auc_tol <= 0.5))
        st = ub_fail(e, UB_EARG, "sweep: --auc-tol must be in [0, 0.5]");
    uint64_t t0s = cfg->seed0, t1s = cfg->seed0 + (uint64_t)cfg->seeds;
    if (!st && sw->val_seed0 < t1s && sw->val_seed0 + (uint64_t)sw->val_seeds > t0s)
        st = ub_fail(e, UB_EARG, "sweep: validation seeds %llu.. overlap the test seeds "
                     "%llu..%llu", (unsigned long long)sw->val_seed0, (unsigned long long)t0s,
                     (unsigned long long)(t1s - 1));
    if (!st) st = run_begin(&rs, "sweep", 1, e);
    const ul_method **ms = ub_calloc((size_t)ul_n_methods + 1, sizeof *ms, "methods", e);
    sw_method *w = ub_calloc((size_t)ul_n_methods + 1, sizeof *w, "sweep", e);
    int nm = 0, V = sw->val_seeds;
    if (!st && (!ms || !w)) st = UB_ENOMEM;
    if (!st) st = ul_select(cfg->methods, ms, &nm, e);
    if (!st && nm == 0) st = ub_fail(e, UB_EARG, "sweep: no method to sweep (--methods)");
    for (int k = 0; !st && k < nm; k++) {
        w[k].m = ms[k];
        w[k].pt = ub_malloc(UL_GRID_MAX * sizeof *w[k].pt, "sweep grid", e);
        if (!w[k].pt) {
            st = UB_ENOMEM;
            break;
        }
        w[k].np = ul_grid_points(ms[k]->grid, w[k].pt, UL_GRID_MAX, e);
        if (w[k].np < 0) st = e->code;
        else if (w[k].np == 0) st = ub_fail(e, UB_EINTERNAL, "method %s has no grid", ms[k]->name);
        size_t cells = (size_t)(w[k].np > 0 ? w[k].np : 1) * V;
        w[k].auc = st ? NULL : ub_calloc(cells, sizeof(double), "sweep", e);
        w[k].ppl = st ? NULL : ub_calloc(cells, sizeof(double), "sweep", e);
        w[k].flops = st ? NULL : ub_calloc(cells, sizeof(double), "sweep", e);
        if (!st && (!w[k].auc || !w[k].ppl || !w[k].flops)) st = UB_ENOMEM;
    }
    if (!st) st = run_open_corpus(&rs, e);
    uint8_t *excl = st ? NULL : ub_calloc(rs.rc.c.n_users + 1, 1, "test users", e);
    double *ref_auc = st ? NULL : ub_calloc(2 * (size_t)V, sizeof(double), "sweep", e);
    double *ref_ppl = st ? NULL : ub_calloc(2 * (size_t)V, sizeof(double), "sweep", e);
    if (!st && (!excl || !ref_auc || !ref_ppl)) st = UB_ENOMEM;
    size_t n_excl = 0;
    sw_users us;
    memset(&us, 0, sizeof us);
    if (!st) st = test_forget_users(&rs, excl, &n_excl, e);
    us.test = st ? NULL : ub_malloc((n_excl + 1) * sizeof(int64_t), "test users", e);
    if (!st && !us.test) st = UB_ENOMEM;
    for (size_t i = 0; !st && i < rs.rc.c.n_users; i++)
        if (excl[i]) us.test[us.n_test++] = (int64_t)i;
    if (!st)
        ub_logf(rs.log, "sweep: %d methods on %d validation seed%s; the %zu users of the test "
                "F's (seeds %llu-%llu) left out", nm, V, V > 1 ? "s" : "", n_excl,
                (unsigned long long)t0s, (unsigned long long)(t1s - 1));
    for (int v = 0; !st && v < V; v++) st = val_seed(&rs, sw, v, excl, w, nm, ref_auc, ref_ppl, &us, e);
    double auc_ret = st ? 0 : mean_row(ref_auc, 1, V);
    for (int k = 0; !st && k < nm; k++) {
        choose(&w[k], V, auc_ret, sw->max_ppl, sw->auc_tol);
        ub_logf(rs.log, "%s: %s%s (AUC %.3f, perplexity x%.3f)", w[k].m->name, w[k].pt[w[k].sel],
                w[k].meets ? "" : " (no setting meets the rule)", mean_row(w[k].auc, w[k].sel, V),
                mean_row(w[k].ppl, w[k].sel, V));
    }
    if (!st) st = write_h5(cfg->out_dir, &rs, sw, w, nm, ref_auc, ref_ppl, &us, e);
    if (!st)
        st = write_text(cfg->out_dir, &rs, sw, w, nm, ref_auc, ref_ppl, n_excl,
                        ub_now() - t_start, e);
    if (!st)
        ub_logf(rs.log, "sweep finished in %.0f s: %s/sweep.h5, sweep.md, selected.txt",
                ub_now() - t_start, cfg->out_dir);
    for (int k = 0; w && k < nm; k++) free(w[k].pt), free(w[k].auc), free(w[k].ppl), free(w[k].flops);
    free(w), free(ms), free(excl), free(ref_auc), free(ref_ppl), free(us.test);
    for (int v = 0; v < 64; v++) free(us.val[v]);
    run_corpus_free(&rs.rc);
    return st;
}

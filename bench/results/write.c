/* bench/results/write.c: results.h5 and timings.h5 as a run writes them (bench/FORMAT.md). */
#include <stdlib.h>

#include "results.h"

static ub_status write_f64(hid_t g, const char *name, const double *x, size_t n, ub_err *e) {
    hsize_t d = n;
    return ub_h5_write(g, name, H5T_NATIVE_DOUBLE, x, 1, &d, 0, e);
}
static ub_status write_i64(hid_t g, const char *name, const int64_t *x, size_t n, ub_err *e) {
    hsize_t d = n;
    return ub_h5_write(g, name, H5T_NATIVE_INT64, x, 1, &d, 1, e);
}

ub_status res_write_seed(hid_t file, uint64_t seed, const run_corpus *rc, const run_scenario *sc,
                         const secret_set *ss, const probe_set *ps, const model_result *res,
                         int n, ub_err *e) {
    char name[64];
    snprintf(name, sizeof name, "seed_%llu", (unsigned long long)seed);
    hid_t g = ub_h5_group(file, name, e);
    if (g < 0) return e->code;
    const corpus *c = &rc->c;
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
        const run_set *set = &sc->set[ev_scored_set[k]];
        hid_t h = ub_h5_group(gs, run_set_names[ev_scored_set[k]], e);
        if (h < 0) {
            st = e->code;
            break;
        }
        st = write_i64(h, "post", set->post, set->n, e);
        if (!st) st = write_i64(h, "user", set->user, set->n, e);
        if (!st && set->mu_in) st = write_f64(h, "lira_mu_in", set->mu_in, set->n, e);
        if (!st && set->mu_out) st = write_f64(h, "lira_mu_out", set->mu_out, set->n, e);
        if (!st && set->sh_in && sc->shadows > 0) { /* U-LiRA: shadow j trained on the post's user */
            hsize_t dm[2] = {set->n, (hsize_t)sc->shadows};
            st = ub_h5_write(h, "ulira_member", H5T_NATIVE_UINT8, set->sh_in, 2, dm, 1, e);
        }
        H5Gclose(h);
    }
    if (gs >= 0) H5Gclose(gs);
    if (!st && sc->shadows > 0) { /* who trained which shadow: LiRA's ground truth */
        hid_t h = ub_h5_group(g, "shadows", e);
        if (h < 0) st = e->code;
        hsize_t dm[2] = {(hsize_t)sc->shadows, sc->n_pool};
        if (!st) st = write_i64(h, "pool", sc->pool, sc->n_pool, e);
        if (!st) st = ub_h5_write(h, "member", H5T_NATIVE_UINT8, sc->shadow_in, 2, dm, 1, e);
        if (!st) st = ub_h5_attr_f64(h, "sd_in", sc->lira_sd_in, e);
        if (!st) st = ub_h5_attr_f64(h, "sd_out", sc->lira_sd_out, e);
        if (!st) st = ub_h5_attr_i64(h, "in_per_user", sc->shadow_m_in, e);
        if (h >= 0) H5Gclose(h);
    }
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
        if (!st) st = ub_h5_attr_i64(h, "candidates", ss->n_cand, e);
        free(ins), free(bits);
        if (h >= 0) H5Gclose(h);
    }
    if (!st) { /* the knowledge probes: whom they ask about, what, among how many values */
        hid_t h = ub_h5_group(g, "probes", e);
        if (h < 0) st = e->code;
        size_t n = ps->n;
        int64_t *a = calloc(5 * n + 1, sizeof(int64_t));
        if (!a) st = ub_fail(e, UB_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < n; i++) {
            a[i] = ps->kind[i], a[n + i] = ps->n_values[i], a[2 * n + i] = ps->truth[i];
            a[3 * n + i] = ps->group[i], a[4 * n + i] = ps->form[i];
        }
        if (!st) st = write_i64(h, "user", ps->user, n, e);
        if (!st) st = write_i64(h, "kind", a, n, e);
        if (!st) st = write_i64(h, "n_values", a + n, n, e);
        if (!st) st = write_i64(h, "truth", a + 2 * n, n, e);
        if (!st) st = write_i64(h, "group", a + 3 * n, n, e);
        if (!st) st = write_i64(h, "form", a + 4 * n, n, e);
        const char *kn[CORPUS_PROBE_KINDS];
        for (int k = 0; k < CORPUS_PROBE_KINDS; k++) kn[k] = corpus_probe_kind_names[k];
        if (!st) st = ub_h5_write_strings(h, "kind_names", kn, CORPUS_PROBE_KINDS, e);
        if (!st) st = ub_h5_attr_i64(h, "calibration_handles", RUN_PROBE_CAL, e);
        free(a);
        if (h >= 0) H5Gclose(h);
    }
    hid_t gm = st ? -1 : ub_h5_group(g, "models", e);
    if (gm < 0 && !st) st = e->code;
    for (int mi = 0; !st && mi < n; mi++) {
        const model_result *r = &res[mi];
        hid_t h = ub_h5_group(gm, r->name, e);
        if (h < 0) {
            st = e->code;
            break;
        }
        for (int k = 0; !st && k < N_SCORED; k++) {
            hid_t q = ub_h5_group(h, run_set_names[ev_scored_set[k]], e);
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
        if (!st && r->ulira && sc->shadows > 0) { /* U-LiRA's scores and each user's epsilon */
            const run_set *F = &sc->set[RUN_FORGET];
            hsize_t dm[2] = {F->n, (hsize_t)sc->shadows};
            st = ub_h5_write(h, "ulira", H5T_NATIVE_DOUBLE, r->ulira, 2, dm, 1, e);
            double *eps = calloc(F->n + 1, sizeof(double));
            int64_t *us = calloc(F->n + 1, sizeof(int64_t));
            size_t nu = 0;
            if (!st && (!eps || !us)) st = ub_fail(e, UB_ENOMEM, "out of memory");
            if (!st) st = ev_ulira_eps(sc, r, eps, us, &nu, e);
            if (!st) st = write_f64(h, "eps_user", eps, nu, e);
            if (!st) st = write_i64(h, "eps_users", us, nu, e);
            free(eps), free(us);
        }
        hid_t q = st ? -1 : ub_h5_group(h, "secrets", e);
        if (!st && q < 0) st = e->code;
        if (!st) st = write_f64(q, "loss", r->secret_loss, ss->n, e);
        if (!st) st = write_f64(q, "exposure_rank", r->exp_rank, ss->n, e);
        if (!st) st = write_f64(q, "exposure_skewnorm", r->exp_sn, ss->n, e);
        if (!st) st = write_f64(q, "exposure_censored", r->exp_censored, ss->n, e);
        if (!st) st = write_f64(q, "exposure_enumerated", r->exp_enum, ss->n, e);
        if (!st) st = write_f64(q, "exposure_rank_sampled", r->exp_sampled, ss->n, e);
        if (!st) st = write_f64(q, "enumeration_rows", r->enum_rows, ss->n, e);
        if (!st) st = write_f64(q, "skewnorm_fit_stat", r->sn_stat, ss->n, e);
        if (!st) st = write_f64(q, "skewnorm_fit_pass", r->sn_pass, ss->n, e);
        if (!st) st = write_f64(q, "extracted", r->extracted, ss->n, e);
        if (!st) st = write_f64(q, "extracted_beam", r->extracted_beam, ss->n, e);
        if (q >= 0) H5Gclose(q);
        size_t nv = ev_probe_values(ps);
        if (!st) st = write_f64(h, "probe_rank", r->probe_rank, ps->n, e);
        if (!st) st = write_f64(h, "probe_rank_cal", r->probe_rank_cal, ps->n, e);
        if (!st) st = write_f64(h, "probe_logp", r->probe_logp, nv, e);
        if (!st) st = write_f64(h, "probe_cal", r->probe_cal, nv, e);
        if (!st) st = write_f64(h, "metrics", r->metric, (size_t)ev_n_metrics, e);
        H5Gclose(h);
    }
    if (gm >= 0) H5Gclose(gm);
    H5Gclose(g);
    return st;
}

ub_status res_write_boot(hid_t file, uint64_t seed, const double *boot, int B, int n,
                         ub_err *e) {
    char name[64];
    snprintf(name, sizeof name, "seed_%llu", (unsigned long long)seed);
    hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
    if (g < 0) return ub_fail(e, UB_EIO, "results: no group %s to add the bootstrap to", name);
    hsize_t d[3] = {(hsize_t)B, (hsize_t)n, (hsize_t)ev_n_metrics};
    /* deflate: costs and NaN rows repeat in every replicate */
    ub_status st = ub_h5_write(g, "bootstrap", H5T_NATIVE_DOUBLE, boot, 3, d, 1, e);
    H5Gclose(g);
    return st;
}

ub_status res_write_chain(hid_t file, uint64_t seed, const run_chain *c,
                          const char *const *method_names, ub_err *e) {
    char name[64];
    snprintf(name, sizeof name, "seed_%llu", (unsigned long long)seed);
    hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
    if (g < 0) return ub_fail(e, UB_EIO, "results: no group %s to add the chain to", name);
    hid_t h = ub_h5_group(g, "chain", e);
    ub_status st = h < 0 ? e->code : UB_OK;
    const char *rows[RES_MAX_CHAIN_ROWS];
    if (!st && c->rows > RES_MAX_CHAIN_ROWS)
        st = ub_fail(e, UB_EINTERNAL, "chain: %d rows, room for %d", c->rows, RES_MAX_CHAIN_ROWS);
    for (int r = 0; !st && r < c->rows; r++)
        rows[r] = r == 0 ? "original" : r == 1 ? "retrain" : r == 2 ? "sisa" : method_names[r - 3];
    hsize_t d2[2] = {(hsize_t)c->rows, (hsize_t)c->k}, dn = c->n_forget;
    if (!st) st = ub_h5_write_strings(h, "models", rows, (size_t)c->rows, e);
    if (!st) st = write_i64(h, "order", c->order, c->n_forget, e);
    if (!st) st = ub_h5_write(h, "request", H5T_NATIVE_INT32, c->request, 1, &dn, 1, e);
    if (!st) st = write_i64(h, "n_posts", c->n_posts, (size_t)c->k, e);
    if (!st) st = ub_h5_write(h, "auc_loss", H5T_NATIVE_DOUBLE, c->auc, 2, d2, 0, e);
    if (!st) st = ub_h5_write(h, "ppl_retain_rel", H5T_NATIVE_DOUBLE, c->ppl, 2, d2, 0, e);
    if (!st) st = ub_h5_write(h, "flops", H5T_NATIVE_DOUBLE, c->flops, 2, d2, 0, e);
    if (!st) st = ub_h5_attr_i64(h, "requests", c->k, e);
    if (!st) st = ub_h5_attr_i64(h, "dated", c->dated, e);
    if (h >= 0) H5Gclose(h);
    H5Gclose(g);
    return st;
}

ub_status res_write_run(hid_t file, const res_run *r, ub_err *e) {
    const char *en[EV_MAX_METRICS], *ed[EV_MAX_METRICS];
    for (int k = 0; k < ev_n_metrics; k++) en[k] = ev_metrics[k].name, ed[k] = ev_metrics[k].doc;
    double range[2 * EV_MAX_METRICS];
    int8_t resampled[EV_MAX_METRICS];
    for (int k = 0; k < ev_n_metrics; k++) {
        range[2 * k] = ev_metrics[k].lo, range[2 * k + 1] = ev_metrics[k].hi;
        resampled[k] = !ev_metrics[k].fixed;
    }
    hsize_t dr[2] = {(hsize_t)ev_n_metrics, 2}, dk = (hsize_t)ev_n_metrics;
    hsize_t dm[3] = {(hsize_t)r->seeds, (hsize_t)r->models, (hsize_t)ev_n_metrics};
    ub_status st = ub_h5_write(file, "metrics", H5T_NATIVE_DOUBLE, r->metrics, 3, dm, 0, e);
    if (!st) st = write_i64(file, "seeds", r->seed, (size_t)r->seeds, e);
    if (!st) st = ub_h5_write_strings(file, "model_names", r->model_names, (size_t)r->models, e);
    if (!st) st = ub_h5_write_strings(file, "metric_names", en, (size_t)ev_n_metrics, e);
    if (!st) st = ub_h5_write_strings(file, "metric_docs", ed, (size_t)ev_n_metrics, e);
    if (!st) st = ub_h5_write(file, "metric_range", H5T_NATIVE_DOUBLE, range, 2, dr, 0, e);
    if (!st) st = ub_h5_write(file, "metric_resampled", H5T_NATIVE_INT8, resampled, 1, &dk, 1, e);
    if (!st) st = ub_h5_write_strings(file, "model_params", r->model_params, (size_t)r->models, e);
    if (!st) st = ub_h5_attr_str(file, "format", "unlearnbench-results", e);
    if (!st) st = ub_h5_attr_i64(file, "format_version", RES_FORMAT_VERSION, e);
    if (!st) st = ub_h5_attr_str(file, "version", UB_VERSION, e);
    if (!st) st = ub_h5_attr_str(file, "config", r->config, e);
    if (!st) st = ub_h5_attr_str(file, "corpus", r->corpus, e);
    if (!st) st = ub_h5_attr_str(file, "corpus_sha256", r->corpus_sha256, e);
    if (!st) st = ub_h5_attr_i64(file, "threads", r->threads, e);
    return st;
}

ub_status res_write_timings(const char *path, const double *seconds, int seeds, int models,
                            double wall, ub_err *e) {
    ub_h5out o;
    hsize_t dt[2] = {(hsize_t)seeds, (hsize_t)models};
    ub_status st = ub_h5_create(&o, path, e);
    if (st) return st;
    st = ub_h5_write(o.file, "seconds", H5T_NATIVE_DOUBLE, seconds, 2, dt, 0, e);
    if (!st) st = ub_h5_attr_f64(o.file, "wall_seconds", wall, e);
    if (!st) st = ub_h5_commit(&o, e);
    else ub_h5_abort(&o);
    return st;
}

/* bench/results/read.c: a run's results.h5 (and timings.h5) read back for the reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

typedef struct names {
    char **s;
} names;

static ub_status take_name(void *ctx, size_t i, const char *s, size_t len, ub_err *e) {
    names *nm = ctx;
    nm->s[i] = malloc(len + 1);
    if (!nm->s[i]) return ub_fail(e, UB_ENOMEM, "out of memory");
    memcpy(nm->s[i], s, len);
    nm->s[i][len] = '\0';
    return UB_OK;
}

static ub_status read_names(hid_t f, const char *ds, const char *file, size_t n, char ***out,
                            ub_err *e) {
    names nm = {calloc(n + 1, sizeof(char *))};
    *out = nm.s;
    if (!nm.s) return ub_fail(e, UB_ENOMEM, "out of memory");
    size_t got = 0;
    return ub_h5_read_strings(f, ds, file, n, &got, take_name, &nm, e);
}

static void names_free(char **s, int n) {
    for (int i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

/* Add 1/S for each of n secrets of one seed to the count of its insertion count. */
static ub_status count_insertions(hid_t f, const char *name, const char *path, size_t n,
                                  res_file *r, ub_err *e) {
    int64_t *v = calloc(n + 1, sizeof(int64_t));
    hsize_t dn = n;
    ub_status st = v ? ub_h5_read(f, name, path, H5T_NATIVE_INT64, v, 1, &dn, e)
                     : ub_fail(e, UB_ENOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        int j = 0;
        while (j < r->n_ins && r->ins[j] < v[i]) j++;
        if (j == r->n_ins || r->ins[j] != v[i]) { /* a new count: insert it in order */
            if (r->n_ins == 8) continue;          /* more kinds than the report lists */
            for (int k = r->n_ins; k > j; k--)
                r->ins[k] = r->ins[k - 1], r->n_secrets_ins[k] = r->n_secrets_ins[k - 1];
            r->ins[j] = v[i], r->n_secrets_ins[j] = 0, r->n_ins++;
        }
        r->n_secrets_ins[j] += 1.0 / r->S;
    }
    free(v);
    return st;
}

/* One seed's knowledge probes: how many of each group, and the top-1 chance of F's and the
 * retained sample's (the sum of 1/values per kind, averaged at the end by read_counts). A file
 * without probes/group (older binaries) has F's probes alone. */
static ub_status read_probes(hid_t f, const char *path, long long seed, res_file *r,
                             double sum[2][2], double cnt[2][2], ub_err *e) {
    char name[128];
    int rank;
    hsize_t d[8];
    H5T_class_t cls;
    snprintf(name, sizeof name, "seed_%lld/probes/user", seed);
    ub_status st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
    size_t n = st ? 0 : (size_t)d[0];
    int64_t *a = st ? NULL : calloc(4 * n + 1, sizeof(int64_t));
    if (!st && !a) st = ub_fail(e, UB_ENOMEM, "out of memory");
    const char *ds[4] = {"kind", "n_values", "group", "truth"};
    for (int k = 0; !st && k < 4; k++) {
        snprintf(name, sizeof name, "seed_%lld/probes/%s", seed, ds[k]);
        if (k != 2 || ub_h5_exists(f, name))
            st = ub_h5_read(f, name, path, H5T_NATIVE_INT64, a + k * n, 1, d, e);
    }
    snprintf(name, sizeof name, "seed_%lld/probes", seed);
    hid_t h = st ? -1 : H5Gopen2(f, name, H5P_DEFAULT);
    if (h >= 0 && H5Aexists(h, "calibration_handles") > 0)
        st = ub_h5_get_i64(h, "calibration_handles", path, &r->cal_handles, e);
    if (h >= 0) H5Gclose(h);
    for (size_t i = 0; !st && i < n; i++) {
        int64_t g = a[2 * n + i];
        if (g == 0) r->n_probes += 1.0 / r->S;
        else if (g == 1) r->n_probes_retained += 1.0 / r->S;
        else r->n_probes_calib += 1.0 / r->S;
        if (g == 2 && a[3 * n + i] >= 0) r->n_probes_check += 1.0 / r->S;
        if (g > 1 || a[n + i] < 1) continue;
        int special = a[i] != CORPUS_PROBE_CITY;
        sum[g][special] += 1.0 / (double)a[n + i], cnt[g][special] += 1;
    }
    free(a);
    return st;
}

/* Mean sizes of the scored sets, secrets, probes and F over the seeds (from the shapes). */
static ub_status read_counts(hid_t f, const char *path, res_file *r, ub_err *e) {
    char name[128];
    int rank;
    hsize_t d[8];
    H5T_class_t cls;
    double sum[2][2] = {{0, 0}, {0, 0}}, cnt[2][2] = {{0, 0}, {0, 0}};
    ub_status st = UB_OK;
    for (int s = 0; !st && s < r->S; s++) {
        long long seed = (long long)r->seed[s];
        for (int k = 0; !st && k < N_SCORED; k++) {
            snprintf(name, sizeof name, "seed_%lld/sets/%s/post", seed,
                     run_set_names[ev_scored_set[k]]);
            st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
            if (!st) r->n_set[k] += (double)d[0] / r->S;
        }
        snprintf(name, sizeof name, "seed_%lld/secrets/secret", seed);
        if (!st) st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
        if (!st) r->n_secrets += (double)d[0] / r->S;
        snprintf(name, sizeof name, "seed_%lld/secrets/inserted", seed);
        if (!st) st = count_insertions(f, name, path, (size_t)d[0], r, e);
        if (!st) st = read_probes(f, path, seed, r, sum, cnt, e);
        snprintf(name, sizeof name, "seed_%lld/forget_users", seed);
        if (!st) st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
        if (!st) r->n_users_f += (double)d[0] / r->S;
        if (!st && s == 0) {
            snprintf(name, sizeof name, "seed_%lld/secrets", seed);
            hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
            st = g < 0 ? ub_fail(e, UB_EFORMAT, "%s: no group %s", path, name)
                       : ub_h5_get_i64(g, "candidates", path, &r->candidates, e);
            if (g >= 0) H5Gclose(g);
            snprintf(name, sizeof name, "seed_%lld/shadows/member", seed);
            if (!st && ub_h5_exists(f, name)) {
                st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
                if (!st) r->shadows = (int64_t)d[0];
                snprintf(name, sizeof name, "seed_%lld/shadows", seed);
                hid_t h = st ? -1 : H5Gopen2(f, name, H5P_DEFAULT);
                if (h >= 0 && H5Aexists(h, "in_per_user") > 0)
                    st = ub_h5_get_i64(h, "in_per_user", path, &r->shadow_in, e);
                else if (h >= 0) r->shadow_in = r->shadows / 2; /* the balanced design before */
                if (h >= 0) H5Gclose(h);
            }
        }
    }
    for (int g = 0; g < 2; g++)
        for (int k = 0; k < 2; k++) r->chance_top1[g][k] = cnt[g][k] ? sum[g][k] / cnt[g][k] : NAN;
    return st;
}

/* The metrics' ranges and the bootstrap replicates, when the file has them (files written
 * before them report with intervals over seeds only). */
static ub_status read_intervals(hid_t f, const char *path, res_file *r, ub_err *e) {
    size_t K = (size_t)r->K;
    r->lo = malloc((K + 1) * sizeof(double)), r->hi = malloc((K + 1) * sizeof(double));
    r->resampled = calloc(K + 1, 1);
    double *rg = malloc((2 * K + 1) * sizeof(double));
    ub_status st = r->lo && r->hi && r->resampled && rg ? UB_OK
                                                        : ub_fail(e, UB_ENOMEM, "out of memory");
    for (size_t k = 0; !st && k < K; k++) r->lo[k] = -INFINITY, r->hi[k] = INFINITY;
    hsize_t dr[2] = {K, 2}, dk = K;
    if (!st && ub_h5_exists(f, "metric_range")) {
        st = ub_h5_read(f, "metric_range", path, H5T_NATIVE_DOUBLE, rg, 2, dr, e);
        for (size_t k = 0; !st && k < K; k++) r->lo[k] = rg[2 * k], r->hi[k] = rg[2 * k + 1];
    }
    if (!st && ub_h5_exists(f, "metric_resampled"))
        st = ub_h5_read(f, "metric_resampled", path, H5T_NATIVE_INT8, r->resampled, 1, &dk, e);
    free(rg);
    char name[128];
    int rank, have = 1;
    hsize_t d[8];
    H5T_class_t cls;
    for (int s = 0; !st && have && s < r->S; s++) {
        snprintf(name, sizeof name, "seed_%lld/bootstrap", (long long)r->seed[s]);
        have = ub_h5_exists(f, name);
        if (!have) break;
        st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
        if (!st && (rank != 3 || d[1] != (hsize_t)r->M || d[2] != K || d[0] < 1 ||
                    (s > 0 && d[0] != (hsize_t)r->B)))
            st = ub_fail(e, UB_EFORMAT, "%s: /%s must be (replicates, %d models, %zu metrics), "
                         "as many replicates in every seed", path, name, r->M, K);
        if (!st && s == 0) {
            r->B = (int)d[0];
            r->boot = malloc(((size_t)r->S * r->B * r->M * K + 1) * sizeof(double));
            if (!r->boot) st = ub_fail(e, UB_ENOMEM, "out of memory");
        }
        if (!st)
            st = ub_h5_read(f, name, path, H5T_NATIVE_DOUBLE,
                            r->boot + (size_t)s * r->B * r->M * K, 3, d, e);
    }
    if (!st && !have) { /* some seed has none: intervals over seeds only */
        free(r->boot);
        r->boot = NULL, r->B = 0;
    }
    return st;
}

/* seed_<s>/chain of every seed (all or none: a run has --chain or not). */
static ub_status read_chain(hid_t f, const char *path, res_file *r, ub_err *e) {
    char name[96];
    snprintf(name, sizeof name, "seed_%lld/chain", (long long)r->seed[0]);
    if (r->S < 1 || !ub_h5_exists(f, name)) return UB_OK;
    int rank;
    hsize_t d[8];
    H5T_class_t cls;
    snprintf(name, sizeof name, "seed_%lld/chain/auc_loss", (long long)r->seed[0]);
    ub_status st = ub_h5_shape(f, name, path, &rank, d, &cls, e);
    if (!st && rank != 2) st = ub_fail(e, UB_EFORMAT, "%s: %s must be 2-D", path, name);
    if (st) return st;
    int R = (int)d[0], k = (int)d[1];
    size_t n = (size_t)r->S * R * k;
    r->chain_auc = malloc((n + 1) * sizeof(double));
    r->chain_ppl = malloc((n + 1) * sizeof(double));
    r->chain_flops = malloc((n + 1) * sizeof(double));
    r->chain_posts = calloc((size_t)k + 1, sizeof(double));
    int64_t *np = calloc((size_t)k + 1, sizeof(int64_t));
    if (!r->chain_auc || !r->chain_ppl || !r->chain_flops || !r->chain_posts || !np) {
        free(np);
        return ub_fail(e, UB_ENOMEM, "out of memory");
    }
    r->chain_k = k, r->chain_rows = R;
    snprintf(name, sizeof name, "seed_%lld/chain/models", (long long)r->seed[0]);
    st = read_names(f, name, path, (size_t)R, &r->chain_model, e);
    static const char *const ds[3] = {"auc_loss", "ppl_retain_rel", "flops"};
    double *dst[3] = {r->chain_auc, r->chain_ppl, r->chain_flops};
    for (int s = 0; !st && s < r->S; s++) {
        for (int j = 0; !st && j < 3; j++) {
            snprintf(name, sizeof name, "seed_%lld/chain/%s", (long long)r->seed[s], ds[j]);
            st = ub_h5_read(f, name, path, H5T_NATIVE_DOUBLE, dst[j] + (size_t)s * R * k, 2, d, e);
        }
        hsize_t dk = (hsize_t)k;
        snprintf(name, sizeof name, "seed_%lld/chain/n_posts", (long long)r->seed[s]);
        if (!st) st = ub_h5_read(f, name, path, H5T_NATIVE_INT64, np, 1, &dk, e);
        for (int q = 0; !st && q < k; q++) r->chain_posts[q] += (double)np[q] / r->S;
        snprintf(name, sizeof name, "seed_%lld/chain", (long long)r->seed[s]);
        hid_t g = st ? -1 : H5Gopen2(f, name, H5P_DEFAULT);
        int64_t dated = 0;
        if (!st && g < 0) st = ub_fail(e, UB_EFORMAT, "%s: no group %s", path, name);
        if (!st) st = ub_h5_get_i64(g, "dated", path, &dated, e);
        if (g >= 0) H5Gclose(g);
        snprintf(name, sizeof name, "seed_%lld/chain/order", (long long)r->seed[s]);
        int rk;
        hsize_t du[8];
        if (!st) st = ub_h5_shape(f, name, path, &rk, du, &cls, e);
        if (!st) r->chain_users += (double)du[0] / r->S, r->chain_dated += (double)dated / r->S;
    }
    free(np);
    return st;
}

void res_free(res_file *r) {
    names_free(r->chain_model, r->chain_rows);
    free(r->chain_auc), free(r->chain_ppl), free(r->chain_flops), free(r->chain_posts);
    free(r->lo), free(r->hi), free(r->resampled), free(r->boot);
    names_free(r->model, r->M);
    names_free(r->params, r->M);
    names_free(r->metric, r->K);
    names_free(r->doc, r->K);
    free(r->x);
    free(r->seed);
    free(r->sec);
    memset(r, 0, sizeof *r);
}

/* timings.h5 is optional (a results file copied alone still reports). */
static void load_timings(const char *dir, res_file *r) {
    char path[4300];
    snprintf(path, sizeof path, "%s/timings.h5", dir);
    ub_err te = {0};
    hid_t tf;
    if (ub_h5_open(&tf, path, &te)) return;
    hsize_t dt[2] = {(hsize_t)r->S, (hsize_t)r->M};
    r->sec = malloc(((size_t)r->S * r->M + 1) * sizeof(double));
    if (!r->sec || ub_h5_read(tf, "seconds", path, H5T_NATIVE_DOUBLE, r->sec, 2, dt, &te) ||
        ub_h5_get_f64(tf, "wall_seconds", path, &r->wall, &te)) {
        free(r->sec);
        r->sec = NULL;
        r->wall = NAN;
    }
    H5Fclose(tf);
}

ub_status res_load(const char *dir, res_file *r, ub_err *e) {
    memset(r, 0, sizeof *r);
    r->wall = NAN;
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f;
    ub_status st = ub_h5_open(&f, path, e);
    if (st) return st;
    int rank;
    hsize_t d[8];
    H5T_class_t cls;
    st = ub_h5_check_format(f, path, "unlearnbench-results", RES_FORMAT_VERSION, "results file", e);
    if (!st) st = ub_h5_shape(f, "metrics", path, &rank, d, &cls, e);
    if (!st && (rank != 3 || cls != H5T_FLOAT))
        st = ub_fail(e, UB_EFORMAT, "%s: /metrics must be a 3-D float dataset", path);
    if (!st) {
        r->S = (int)d[0], r->M = (int)d[1], r->K = (int)d[2];
        r->x = malloc(((size_t)r->S * r->M * r->K + 1) * sizeof(double));
        r->seed = calloc((size_t)r->S + 1, sizeof(int64_t));
        if (!r->x || !r->seed) st = ub_fail(e, UB_ENOMEM, "out of memory");
    }
    hsize_t ds = (hsize_t)r->S;
    if (!st) st = ub_h5_read(f, "metrics", path, H5T_NATIVE_DOUBLE, r->x, 3, d, e);
    if (!st) st = ub_h5_read(f, "seeds", path, H5T_NATIVE_INT64, r->seed, 1, &ds, e);
    if (!st) st = read_names(f, "model_names", path, (size_t)r->M, &r->model, e);
    if (!st) st = read_names(f, "model_params", path, (size_t)r->M, &r->params, e);
    if (!st) st = read_names(f, "metric_names", path, (size_t)r->K, &r->metric, e);
    if (!st) st = read_names(f, "metric_docs", path, (size_t)r->K, &r->doc, e);
    if (!st) st = ub_h5_get_str(f, "config", path, r->config, sizeof r->config, e);
    if (!st) st = ub_h5_get_str(f, "version", path, r->version, sizeof r->version, e);
    if (!st) st = ub_h5_get_str(f, "corpus_sha256", path, r->sha, sizeof r->sha, e);
    if (!st) st = ub_h5_get_i64(f, "threads", path, &r->threads, e);
    if (!st) st = read_counts(f, path, r, e);
    if (!st) st = read_intervals(f, path, r, e);
    if (!st) st = read_chain(f, path, r, e);
    H5Fclose(f);
    if (!st) load_timings(dir, r);
    if (st) res_free(r);
    return st;
}

int res_model(const res_file *f, const char *name) {
    for (int m = 0; m < f->M; m++)
        if (!strcmp(f->model[m], name)) return m;
    return -1;
}

int res_metric(const res_file *f, const char *name) {
    for (int k = 0; k < f->K; k++)
        if (!strcmp(f->metric[k], name)) return k;
    return -1;
}

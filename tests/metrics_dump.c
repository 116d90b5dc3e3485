/* tests/metrics_dump.c: write random inputs and every ub_metrics result on them as JSON lines,
 * for scripts/check_metrics.py to recompute with numpy / scipy / sklearn / zlib.
 * Usage: metrics_dump OUT.jsonl
 *
 * One object per line, {"kind": ..., inputs..., outputs...}. Doubles are printed with 17
 * significant digits (exact round trip); NaN and infinities as Python's json module spells them.
 * Inputs come from ub_rng (Philox) with fixed seeds, so the file is the same on every run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static FILE *out;

static void put_num(double v) {
    if (isnan(v))
        fputs("NaN", out);
    else if (isinf(v))
        fputs(v > 0 ? "Infinity" : "-Infinity", out);
    else
        fprintf(out, "%.17g", v);
}
static void put_key(const char *k) {
    fprintf(out, ", \"%s\": ", k);
}
static void put_d(const char *k, double v) {
    put_key(k);
    put_num(v);
}
static void put_arr(const char *k, const double *v, size_t n) {
    put_key(k);
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', out);
        put_num(v[i]);
    }
    fputc(']', out);
}
static void put_farr(const char *k, const float *v, size_t n) {
    put_key(k);
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', out);
        put_num((double)v[i]); /* a float is exact in a double */
    }
    fputc(']', out);
}
static void begin(const char *kind) {
    fprintf(out, "{\"kind\": \"%s\"", kind);
}
static void end(void) {
    fputs("}\n", out);
}

/* Score generators. style 0: normal; 1: integers 0..9 (many ties); 2: normal rounded to 0.5;
 * 3: exponential (skewed). shift moves the distribution (members score higher). */
static double draw(ub_rng *r, int style, double shift) {
    switch (style) {
    case 0:
        return ub_rng_normal(r) + shift;
    case 1:
        return (double)ub_rng_below(r, 10) + floor(shift);
    case 2:
        return round(2.0 * (ub_rng_normal(r) + shift)) / 2.0;
    default:
        return -log(1.0 - ub_rng_uniform(r)) + shift;
    }
}

static double *draw_n(ub_rng *r, size_t n, int style, double shift) {
    double *v = malloc((n ? n : 1) * sizeof(double));
    if (!v) exit(2);
    for (size_t i = 0; i < n; i++)
        v[i] = draw(r, style, shift);
    return v;
}

/* ROC family, KS and Welch on one (pos, neg) pair. */
static void two_sample_case(const double *pos, size_t np, const double *neg, size_t nn) {
    static const double max_fprs[] = {0.0, 0.001, 0.01, 0.05, 0.1, 0.5, 1.0};
    begin("two_sample");
    put_arr("pos", pos, np);
    put_arr("neg", neg, nn);
    put_d("auc", mt_auc(pos, np, neg, nn));
    double *fpr, *tpr;
    size_t npts;
    ub_err e = {0};
    if (mt_roc(pos, np, neg, nn, &fpr, &tpr, &npts, &e) != UB_OK) {
        fprintf(stderr, "metrics_dump: %s\n", e.msg);
        exit(2);
    }
    put_arr("roc_fpr", fpr, npts);
    put_arr("roc_tpr", tpr, npts);
    free(fpr);
    free(tpr);
    double tp[sizeof max_fprs / sizeof *max_fprs];
    for (size_t i = 0; i < sizeof max_fprs / sizeof *max_fprs; i++)
        tp[i] = mt_tpr_at_fpr(pos, np, neg, nn, max_fprs[i]);
    put_arr("max_fpr", max_fprs, sizeof max_fprs / sizeof *max_fprs);
    put_arr("tpr_at_fpr", tp, sizeof max_fprs / sizeof *max_fprs);
    put_d("eps_delta", 1e-5);
    put_d("eps", mt_eps_threshold(pos, np, neg, nn, 1e-5));
    double D, p;
    mt_ks_2samp(pos, np, neg, nn, &D, &p);
    put_d("ks_D", D);
    put_d("ks_p", p);
    put_d("welch_p", mt_welch_p(pos, np, neg, nn));
    if (np == nn) put_d("paired_p", mt_ttest_paired_p(pos, neg, np));
    end();
}

static void two_sample_cases(ub_rng *r) {
    /* sizes (np, nn), style, shift: small, unbalanced, tied, large */
    static const struct {
        size_t np, nn;
        int style;
        double shift;
    } c[] = {
        {1, 1, 0, 0.5},     {1, 7, 0, 1.0},       {3, 2, 1, 0.0},       {5, 5, 1, 1.0},
        {10, 10, 0, 0.3},   {7, 13, 2, 0.2},      {13, 7, 3, 0.5},      {50, 200, 0, 0.5},
        {200, 50, 1, 2.0},  {100, 100, 2, 0.0},   {64, 96, 0, 3.0},     {1, 2000, 0, 2.0},
        {2000, 1, 3, 0.0},  {2000, 7, 1, 1.0},    {500, 1500, 2, 0.1},  {999, 1000, 0, 0.05},
        {1000, 1000, 0, 0}, {2000, 2000, 1, 0.0}, {1500, 2000, 3, 0.2}, {300, 450, 0, -1.0},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        double *pos = draw_n(r, c[i].np, c[i].style, c[i].shift);
        double *neg = draw_n(r, c[i].nn, c[i].style, 0.0);
        two_sample_case(pos, c[i].np, neg, c[i].nn);
        free(pos);
        free(neg);
    }
    /* Identical sets and fully separated sets. */
    double *a = draw_n(r, 40, 0, 0.0);
    two_sample_case(a, 40, a, 40);
    double *b = draw_n(r, 25, 0, 100.0);
    two_sample_case(b, 25, a, 40);
    two_sample_case(a, 40, b, 25);
    free(a);
    free(b);
}

/* Exposure: candidates' losses from a skewed distribution (gamma-like sums), secrets at several
 * positions including far below every candidate. */
static void exposure_cases(ub_rng *r) {
    static const size_t sizes[] = {3, 10, 100, 1000, 2000};
    static const double secret_sd[] = {-40.0, -12.0, -5.0, -2.0, 0.0, 1.5, 4.0};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (int style = 0; style < 3; style++) {
            size_t n = sizes[s];
            double *cand = malloc(n * sizeof(double));
            if (!cand) exit(2);
            for (size_t i = 0; i < n; i++) {
                double u = ub_rng_normal(r);
                /* 0: near-normal; 1: right-skewed; 2: left-skewed (strong) */
                cand[i] = style == 0   ? 30.0 + 3.0 * u
                          : style == 1 ? 20.0 + 4.0 * -log(1.0 - ub_rng_uniform(r)) + u
                                       : 50.0 - 6.0 * -log(1.0 - ub_rng_uniform(r));
            }
            double xi, omega, alpha;
            ub_err e = {0};
            ub_status st = mt_skewnorm_fit(cand, n, &xi, &omega, &alpha, &e);
            double mean = 0, sd = 0;
            for (size_t i = 0; i < n; i++)
                mean += cand[i];
            mean /= (double)n;
            for (size_t i = 0; i < n; i++)
                sd += (cand[i] - mean) * (cand[i] - mean);
            sd = sqrt(sd / (double)n);
            for (size_t k = 0; k < sizeof secret_sd / sizeof *secret_sd; k++) {
                double secret = mean + secret_sd[k] * sd;
                if (k == 4) secret = cand[n / 2]; /* a tie with a candidate */
                begin("exposure");
                put_arr("cand", cand, n);
                put_d("secret", secret);
                put_d("log2_space", 30.0);
                put_d("exp_rank", mt_exposure_rank(secret, cand, n, 30.0, NULL));
                put_d("fit_ok", st == UB_OK);
                put_d("xi", xi);
                put_d("omega", omega);
                put_d("alpha", alpha);
                put_d("exp_skewnorm", mt_exposure_skewnorm(secret, cand, n));
                double stat;
                int pass;
                mt_exposure_skewnorm_checked(secret, cand, n, &stat, &pass);
                put_d("ad_lower", stat);
                put_d("fit_pass", pass);
                end();
            }
            free(cand);
        }
    }
}

/* The skew-normal CDF, log CDF and Owen's T on a grid. */
static void skewnorm_cases(void) {
    static const double zs[] = {-60, -38,  -20,  -9,  -5, -3,  -1.5, -0.5, -1e-3, -1e-7,
                                0,   1e-7, 1e-3, 0.3, 1,  2.5, 5,    9,    20};
    static const double alphas[] = {-1e3, -50, -5, -1, -0.3, 0, 0.2, 1, 3, 12, 28, 200, 1e3};
    for (size_t i = 0; i < sizeof zs / sizeof *zs; i++)
        for (size_t j = 0; j < sizeof alphas / sizeof *alphas; j++) {
            double xi = 2.0, omega = 1.5, x = xi + omega * zs[i];
            begin("skewnorm");
            put_d("x", x);
            put_d("xi", xi);
            put_d("omega", omega);
            put_d("alpha", alphas[j]);
            put_d("cdf", mt_skewnorm_cdf(x, xi, omega, alphas[j]));
            put_d("logcdf", mt_skewnorm_logcdf(x, xi, omega, alphas[j]));
            end();
        }
    static const double hs[] = {0, 1e-4, 0.1, 0.5, 1, 2.5, 5, 8, 12, 20, 37};
    static const double as[] = {-1e6, -3, -1, -0.5, 0, 1e-5, 0.1, 0.5, 0.999, 1, 1.5, 10, 1e3};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        for (size_t j = 0; j < sizeof as / sizeof *as; j++)
            for (int sign = -1; sign <= 1; sign += 2) {
                begin("owens_t");
                put_d("h", sign * hs[i]);
                put_d("a", as[j]);
                put_d("t", mt_owens_t(sign * hs[i], as[j]));
                end();
            }
}

/* Min-K% and Min-K%++ on random token log-probabilities (with ties and zero sigmas). */
static void mia_cases(ub_rng *r) {
    static const size_t sizes[] = {1, 2, 3, 10, 30, 257, 2000};
    static const double ks[] = {0.05, 0.1, 0.2, 0.5, 1.0};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        float *lp = malloc(n * sizeof(float)), *mu = malloc(n * sizeof(float));
        float *sg = malloc(n * sizeof(float));
        if (!lp || !mu || !sg) exit(2);
        for (size_t i = 0; i < n; i++) {
            lp[i] = (float)(-fabs(3.0 * ub_rng_normal(r)));
            if (i % 7 == 3) lp[i] = -1.0f; /* ties */
            mu[i] = (float)(-2.0 - ub_rng_uniform(r));
            sg[i] = i % 11 == 5 ? 0.0f : (float)(0.5 + ub_rng_uniform(r));
        }
        double mk[5], mpp[5];
        for (int j = 0; j < 5; j++) {
            mk[j] = mt_mink(lp, n, ks[j]);
            mpp[j] = mt_minkpp(lp, mu, sg, n, ks[j]);
        }
        begin("mia");
        put_farr("logp", lp, n);
        put_farr("mu", mu, n);
        put_farr("sigma", sg, n);
        put_d("sigma_eps", MT_MINKPP_SIGMA_EPS);
        put_arr("k", ks, 5);
        put_arr("mink", mk, 5);
        put_arr("minkpp", mpp, 5);
        end();
        free(lp);
        free(mu);
        free(sg);
    }
}

/* zlib lengths of text-like and random byte strings. */
static void zlib_cases(ub_rng *r) {
    static const size_t sizes[] = {0, 1, 5, 64, 1000, 40000, 100000};
    static const char *words[] = {"the ", "user ", "posted ", "about ", "secret ", "42 ", "\n"};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int random = 0; random < 2; random++) {
            size_t n = sizes[s];
            unsigned char *b = malloc(n ? n : 1);
            if (!b) exit(2);
            for (size_t i = 0; i < n;) {
                if (random) {
                    b[i++] = (unsigned char)ub_rng_below(r, 256);
                } else {
                    const char *w = words[ub_rng_below(r, 7)];
                    for (size_t k = 0; w[k] && i < n; k++)
                        b[i++] = (unsigned char)w[k];
                }
            }
            begin("zlib");
            put_key("hex");
            fputc('"', out);
            for (size_t i = 0; i < n; i++)
                fprintf(out, "%02x", b[i]);
            fputc('"', out);
            put_d("len", (double)mt_zlib_len(b, n));
            put_d("loss", 2.5);
            put_d("score", mt_zlib_score(2.5, mt_zlib_len(b, n)));
            end();
            free(b);
        }
}

/* Student t, confidence intervals, t-tests, residual. */
static void stats_cases(ub_rng *r) {
    static const double ps[] = {1e-300, 1e-12, 1e-6, 0.001, 0.025, 0.1,     0.3,
                                0.5,    0.6,   0.9,  0.975, 0.995, 1 - 1e-9};
    static const double dfs[] = {0.5, 1, 1.5, 2, 3, 4.7, 9, 30, 117.3, 1000, 1e5, 1e6};
    static const double ts[] = {-1e6, -40, -5, -2, -0.3, 0, 1e-8, 0.7, 1.96, 3, 12, 300, 1e20};
    for (size_t j = 0; j < sizeof dfs / sizeof *dfs; j++) {
        double q[sizeof ps / sizeof *ps], sf[sizeof ts / sizeof *ts];
        for (size_t i = 0; i < sizeof ps / sizeof *ps; i++)
            q[i] = mt_t_quantile(ps[i], dfs[j]);
        for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
            sf[i] = mt_t_sf(ts[i], dfs[j]);
        begin("t_dist");
        put_d("df", dfs[j]);
        put_arr("p", ps, sizeof ps / sizeof *ps);
        put_arr("ppf", q, sizeof ps / sizeof *ps);
        put_arr("t", ts, sizeof ts / sizeof *ts);
        put_arr("sf", sf, sizeof ts / sizeof *ts);
        end();
    }
    static const size_t sizes[] = {2, 3, 5, 10, 31, 200};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        double *a = draw_n(r, n, 0, 0.0), *b = draw_n(r, n, 0, 0.4);
        for (size_t i = 0; i < n; i++)
            b[i] = 0.5 * a[i] + b[i]; /* correlated pairs */
        double mean, hw;
        mt_mean_ci95(a, n, &mean, &hw);
        begin("seeds");
        put_arr("a", a, n);
        put_arr("b", b, n);
        put_d("mean", mean);
        put_d("half_width", hw);
        put_d("paired_p", mt_ttest_paired_p(a, b, n));
        put_d("welch_p", mt_welch_p(a, n, b, n > 2 ? n - 1 : n));
        put_d("welch_nb", (double)(n > 2 ? n - 1 : n));
        end();
        free(a);
        free(b);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: metrics_dump OUT.jsonl\n");
        return 2;
    }
    out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 2;
    }
    ub_rng r;
    ub_rng_init(&r, 20240607, 0);
    two_sample_cases(&r);
    exposure_cases(&r);
    skewnorm_cases();
    mia_cases(&r);
    zlib_cases(&r);
    stats_cases(&r);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 2;
    }
    return 0;
}

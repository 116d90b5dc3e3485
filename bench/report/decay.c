/* bench/report/decay.c: the report's section on continued training: does further training
 * without F wash F out, and how fast? The residual influence of each `continued_N` model
 * (0 = like retraining, 1 = the deployed model) against N, an exponential decay fitted to all
 * seeds' points (mt_decay_half_life), and its interval from resampling seeds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "report_private.h"

enum { MAX_POINTS = 64, BOOT = 2000 };

/* The continued models, by step count. */
static int continued_models(const res_file *r, int *model, double *steps) {
    int n = 0;
    for (int m = 0; m < r->M && n < MAX_POINTS; m++)
        if (!strncmp(r->model[m], "continued_", 10)) {
            model[n] = m;
            steps[n++] = strtod(r->model[m] + 10, NULL);
        }
    return n;
}

/* Half-life from the seeds pick[0..ns) (with repeats): every (steps, residual) point of
 * each picked seed. */
static double fit(const res_file *r, int k, const int *model, const double *steps, int np,
                  const int *pick, int ns, double bound, double *xs, double *ys) {
    size_t n = 0;
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < np; j++) {
            xs[n] = steps[j];
            ys[n++] = res_value(r, pick[i], model[j], k);
        }
    return mt_decay_half_life(xs, ys, n, bound);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fmt_hl(double h, double bound, char *buf, size_t cap) {
    if (isinf(h)) snprintf(buf, cap, "> %.0f", bound);
    else snprintf(buf, cap, "%.0f", h);
}

void rp_decay(FILE *o, const res_file *r) {
    int model[MAX_POINTS];
    double steps[MAX_POINTS];
    int np = continued_models(r, model, steps);
    fprintf(o, "## Influence decay under continued training\n\n");
    if (np == 0) {
        fprintf(o, "No continued model in this run.\n\n");
        return;
    }
    double horizon = 0;
    for (int j = 0; j < np; j++) horizon = fmax(horizon, steps[j]);
    const char *tr = strstr(r->config, "\nsteps = ");
    double budget = tr ? strtod(tr + 9, NULL) : NAN;
    double bound = 4 * horizon;
    fprintf(o, "The `continued_N` models are the deployed model trained N more steps on the "
               "corpus without F (the recipe's learning rate schedule restarted), scored after "
               "%d log-spaced step counts up to %.0f steps (%.0f%% of the original's own "
               "%.0f-step training). Residual influence per point (0 = like retraining, 1 = the "
               "deployed model), and the half-life of an exponential decay exp(-N ln2 / h) fitted "
               "by least squares to every seed's points; its 95%% interval resamples the %d "
               "seeds (%d times, percentile). A half-life beyond 4x the horizon (> %.0f) is not "
               "resolved: the data then show no decay this horizon can measure.\n\n",
            np, horizon, 100 * horizon / budget, budget, r->S, BOOT, bound);
    static const char *const rows[][2] = {
        {"residual_auc_loss", "MIA AUC (LOSS)"},
        {"residual_loss_forget", "loss on F"},
        {"residual_auc_user_ref", "user inference AUC"},
        {"residual_exposure_16", "exposure of 16x secrets"},
    };
    fprintf(o, "| residual influence on |");
    for (int j = 0; j < np; j++) fprintf(o, " %.0f steps |", steps[j]);
    fprintf(o, " half-life (steps) | 95%% CI |\n|---|");
    for (int j = 0; j <= np + 1; j++) fprintf(o, "---|");
    fprintf(o, "\n");
    size_t cap = (size_t)r->S * np + 1;
    double *xs = malloc(cap * sizeof *xs), *ys = malloc(cap * sizeof *ys);
    double *hb = malloc(BOOT * sizeof *hb);
    int *pick = malloc(((size_t)r->S + 1) * sizeof *pick);
    if (!xs || !ys || !hb || !pick) {
        free(xs), free(ys), free(hb), free(pick);
        fprintf(o, "(out of memory)\n\n");
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int k = res_metric(r, rows[i][0]);
        if (k < 0) continue;
        fprintf(o, "| %s |", rows[i][1]);
        int any = 0;
        for (int j = 0; j < np; j++) {
            char b[96];
            const char *c = rp_fmt_mean(r, model[j], k, 2, b, sizeof b);
            any |= strcmp(c, "n/a") != 0;
            fprintf(o, " %s |", c);
        }
        for (int s = 0; s < r->S; s++) pick[s] = s;
        double h = any ? fit(r, k, model, steps, np, pick, r->S, bound, xs, ys) : NAN;
        char hs[64], lo[64], hi[64];
        if (!isfinite(h) && !isinf(h)) {
            fprintf(o, " n/a | |\n");
            continue;
        }
        fmt_hl(h, bound, hs, sizeof hs);
        if (r->S < 2) {
            fprintf(o, " %s | (one seed: none) |\n", hs);
            continue;
        }
        ub_rng g;
        ub_rng_init(&g, 0xdeca7, (uint64_t)k); /* fixed: the report is reproducible */
        int nb = 0;
        for (int b = 0; b < BOOT; b++) {
            for (int s = 0; s < r->S; s++) pick[s] = (int)ub_rng_below(&g, (uint64_t)r->S);
            double v = fit(r, k, model, steps, np, pick, r->S, bound, xs, ys);
            if (!isnan(v)) hb[nb++] = v;
        }
        qsort(hb, (size_t)nb, sizeof *hb, cmp_double);
        if (nb < 2) {
            fprintf(o, " %s | n/a |\n", hs);
            continue;
        }
        fmt_hl(hb[(int)floor(0.025 * (nb - 1))], bound, lo, sizeof lo);
        fmt_hl(hb[(int)ceil(0.975 * (nb - 1))], bound, hi, sizeof hi);
        fprintf(o, " %s | [%s, %s] |\n", hs, lo, hi);
    }
    free(xs), free(ys), free(hb), free(pick);
    fprintf(o, "\nA residual above 0 at the last point means continued training alone had not "
               "removed F's influence after %.0f steps; the fit assumes one exponential and is "
               "a summary, not a law (residuals are noisy where original and retrain are "
               "close).\n\n",
            horizon);
}

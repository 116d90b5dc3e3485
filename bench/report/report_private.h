/* bench/report/report_private.h: what report.md and grid.md share: a metric's mean over seeds
 * with its 95% interval, paired differences between two models (report/report_stats.c). */
#ifndef UB_REPORT_PRIVATE_H
#define UB_REPORT_PRIVATE_H

#include <stdio.h>

#include "report.h"
#include "results.h"

/* Outer replicates of the hierarchical bootstrap (its p-values resolve 2 / (R + 1), below
 * Holm's smallest threshold 0.05 / 150 for the ~150 tests of the retrain table), and its seed. */
enum { RP_BOOT_R = 10000 };
#define RP_BOOT_SEED 0x5EED2026ull

/* How an interval was made: hierarchical user bootstrap, Student t over seeds clipped to the
 * metric's range, or none (one seed without replicates). */
enum { RP_NONE, RP_BOOT, RP_T };
typedef struct rp_ci {
    double mean;   /* mean over seeds of the full-sample values */
    double lo, hi; /* the 95% interval, NaN without one */
    double p;      /* differences: two-sided p-value of "no difference" (bootstrap or paired
                    * t), NaN otherwise */
    int n;         /* seeds with a value */
    int how;       /* RP_* */
} rp_ci;
/* Metric k of model m over the seeds where it has a value; returns that number of seeds. */
int rp_stat(const res_file *r, int m, int k, rp_ci *c);
/* Paired difference model m - model b of metric k (paired by seed and by the user draw) over
 * the seeds where both have a value. */
int rp_diff(const res_file *r, int m, int b, int k, rp_ci *c);
/* Paired difference of two metrics of one model, k - kb (both resampled alike: paired by seed
 * and user draw; the range is k's). */
int rp_diff_metrics(const res_file *r, int m, int k, int kb, rp_ci *c);
/* Fisher's combination of the seeds' p-values of metric k (a p-value row) of model m. */
double rp_fisher(const res_file *r, int m, int k, int *n);
/* "mean [lo, hi]" (or "mean" without an interval, "n/a" without a value) into buf. */
const char *rp_fmt_ci(const rp_ci *c, int prec, char *buf, size_t cap);
/* The figure of metric k of model m into buf: rp_stat's, or for a p-value row (name ending in
 * "_p") Fisher's combination over seeds, never a mean of p-values. */
const char *rp_fmt_mean(const res_file *r, int m, int k, int prec, char *buf, size_t cap);
/* F's secrets per seed (on average) inserted `times` times; 0 when there are none. */
double rp_secrets_inserted(const res_file *r, int64_t times);
/* Fewest secrets per seed in an insertion-count cell that a claim about that count needs: with
 * fewer, a cell's exposure is shown with its count of secrets but no sentence claims from it
 * (two secrets per seed decide nothing, however narrow their interval looks). */
#define RP_MIN_SECRETS_CLAIM 20.0
/* The verdict that opens report.md: plain language, every claim chosen by a paired interval
 * and, for the many method-by-attack claims, Holm's correction (report/verdict.c). */
void rp_verdict(FILE *o, const res_file *r);
/* The section on continued training: residual influence per point and its fitted half-life
 * (report/decay.c). */
void rp_decay(FILE *o, const res_file *r);
/* The section that says which exposures are enumerated, sampled or fitted (report_exposure.c). */
void rp_exposure_section(FILE *o, const res_file *r);

/* The quantization attack's section, when the run has NAME@qB models (report/report_quant.c). */
void rp_quant(FILE *o, const res_file *r);
/* The relearning attack's section, when the run has NAME@rl models (report/report_quant.c). */
void rp_relearn(FILE *o, const res_file *r);
/* Chained deletion requests (report_chain.c; runs with --chain). */
void rp_chain(FILE *o, const res_file *r);
/* Each method's settings as it ran, and where the preset's came from (report_methods.c). */
void rp_method_settings(FILE *o, const res_file *r);
/* The LiRA section (shadow models per seed), when the run has them (report/report_lira.c). */
void rp_lira(FILE *o, const res_file *r);
/* U-LiRA and the per-user epsilon per method, when the run has them (report/report_lira.c). */
void rp_ulira(FILE *o, const res_file *r);

/* The section on knowledge of people: calibrated probes of F and of retained users with their
 * chance levels (report/report_knowledge.c). */
void rp_knowledge(FILE *o, const res_file *r);

#endif

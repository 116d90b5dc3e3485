/* bench/report/report_private.h: what report.md and grid.md share: a metric's mean over seeds
 * with its 95% CI, and paired differences between two models. */
#ifndef UB_REPORT_PRIVATE_H
#define UB_REPORT_PRIVATE_H

#include <stdio.h>

#include "report.h"
#include "results.h"

/* Mean and CI half width of metric k of model m over seeds (NaN entries skipped); returns the
 * number of seeds with a value. */
int rp_stat(const res_file *r, int m, int k, double *mean, double *half);
/* Paired difference model m - model b of metric k over the seeds where both have a value. */
int rp_diff(const res_file *r, int m, int b, int k, double *mean, double *half);
/* "mean ± half" of metric k of model m into buf ("n/a" when it has no value). */
/* The verdict that opens report.md: plain language, every claim chosen by a paired CI
 * (report/verdict.c). */
void rp_verdict(FILE *o, const res_file *r);
/* The section on continued training: residual influence per point and its fitted half-life
 * (report/decay.c). */
void rp_decay(FILE *o, const res_file *r);
const char *rp_fmt_mean(const res_file *r, int m, int k, int prec, char *buf, size_t cap);
/* The section that says which exposures are enumerated, sampled or fitted (report_exposure.c). */
void rp_exposure_section(FILE *o, const res_file *r);

/* The section on knowledge of people: calibrated probes of F and of retained users with their
 * chance levels (report/report_knowledge.c). */
void rp_knowledge(FILE *o, const res_file *r);

#endif

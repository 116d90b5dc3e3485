/* bench/report/report_quant.c: the quantization attack (Zhang et al. 2024, `run --quantize`):
 * every base model (original, retrain, each method) beside its copies rounded to B bits, with
 * paired differences: to itself (what rounding brings back) and to retrain rounded alike (the
 * floor: retrain never saw F, so rounding cannot bring F back into it). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_private.h"

enum { MAX_Q = 8 };

void rp_quant(FILE *o, const res_file *r) {
    int bits[MAX_Q], nq = 0;
    for (int m = 0; m < r->M && nq < MAX_Q; m++) {
        int b;
        if (sscanf(r->model[m], "original@q%d", &b) == 1) bits[nq++] = b;
    }
    int ka = res_metric(r, "auc_loss"), kp = res_metric(r, "ppl_retain_rel");
    if (!nq || ka < 0) return;
    fprintf(o, "\n### Quantization: does rounding the weights bring F back?\n\n"
               "Each model's matrices rounded to B bits (symmetric round-to-nearest, one scale "
               "per row, biases and norms in float; Zhang et al. 2024 found 4-bit rounding "
               "restores much of what gradient-ascent-style unlearning removed). A method whose "
               "forgetting rounding undoes has a higher LOSS AUC at B bits than itself, and above "
               "`retrain` rounded alike (which never saw F). Differences are paired by seed and "
               "user draw; **bold** where the 95%% interval excludes 0.\n\n| model | AUC (LOSS) |");
    for (int q = 0; q < nq; q++)
        fprintf(o, " AUC @%d bits | @%d - itself | @%d - retrain@%d | ppl @%d / original |",
                bits[q], bits[q], bits[q], bits[q], bits[q]);
    fprintf(o, "\n|---|---|");
    for (int q = 0; q < nq; q++) fprintf(o, "---|---|---|---|");
    fprintf(o, "\n");
    for (int m = 0; m < r->M; m++) {
        if (strchr(r->model[m], '@')) continue;
        char name[96], b1[96];
        int kq[MAX_Q], any = 0;
        for (int q = 0; q < nq; q++) {
            snprintf(name, sizeof name, "%s@q%d", r->model[m], bits[q]);
            kq[q] = res_model(r, name);
            any |= kq[q] >= 0;
        }
        if (!any) continue;
        fprintf(o, "| %s | %s |", r->model[m], rp_fmt_mean(r, m, ka, 3, b1, sizeof b1));
        for (int q = 0; q < nq; q++) {
            snprintf(name, sizeof name, "retrain@q%d", bits[q]);
            int kr = res_model(r, name);
            rp_ci d;
            fprintf(o, " %s |", kq[q] >= 0 ? rp_fmt_mean(r, kq[q], ka, 3, b1, sizeof b1) : "n/a");
            for (int j = 0; j < 2; j++) {
                int base = j ? kr : m;
                if (kq[q] < 0 || base < 0 || base == kq[q] || rp_diff(r, kq[q], base, ka, &d) < 1) {
                    fprintf(o, " n/a |");
                    continue;
                }
                int sig = isfinite(d.lo) && (d.lo > 0 || d.hi < 0);
                fprintf(o, " %s%s%s |", sig ? "**" : "", rp_fmt_ci(&d, 3, b1, sizeof b1),
                        sig ? "**" : "");
            }
            fprintf(o, " %s |", kq[q] >= 0 && kp >= 0 ? rp_fmt_mean(r, kq[q], kp, 3, b1, sizeof b1)
                                                      : "n/a");
        }
        fprintf(o, "\n");
    }
    fprintf(o, "\n");
}

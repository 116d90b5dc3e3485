/* bench/report/report_quant.c: the attacks that try to bring F back into a model: rounding its
 * weights (Zhang et al. 2024, `run --quantize`) and relearning (Hu et al. 2024, `run
 * --relearn`). Every base model (original, retrain, each method) beside its attacked copies,
 * with paired differences: to itself (what the attack brings back) and to retrain attacked
 * alike (the floor: retrain never saw F, so what the attack finds in it is not F's trace). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_private.h"

enum { MAX_V = 8 };

/* One table over the variants suffix[0..nv) ("@q8", "@rl") of metric k: per base, its value,
 * each variant's, variant - itself, variant - retrain's variant, and ppl of the variant. */
static void variant_table(FILE *o, const res_file *r, const char suffix[][16], int nv, int k,
                          const char *what, int prec) {
    int kp = res_metric(r, "ppl_retain_rel");
    char b1[96], name[96];
    fprintf(o, "| model | %s |", what);
    for (int v = 0; v < nv; v++)
        fprintf(o, " %s%s | %s - itself | %s - retrain%s | ppl%s / original |", what, suffix[v],
                suffix[v], suffix[v], suffix[v], suffix[v]);
    fprintf(o, "\n|---|---|");
    for (int v = 0; v < nv; v++) fprintf(o, "---|---|---|---|");
    fprintf(o, "\n");
    for (int m = 0; m < r->M; m++) {
        if (strchr(r->model[m], '@')) continue;
        int kv[MAX_V], any = 0;
        for (int v = 0; v < nv; v++) {
            snprintf(name, sizeof name, "%s%s", r->model[m], suffix[v]);
            kv[v] = res_model(r, name);
            any |= kv[v] >= 0;
        }
        if (!any) continue;
        fprintf(o, "| %s | %s |", r->model[m], rp_fmt_mean(r, m, k, prec, b1, sizeof b1));
        for (int v = 0; v < nv; v++) {
            snprintf(name, sizeof name, "retrain%s", suffix[v]);
            int kr = res_model(r, name);
            rp_ci d;
            fprintf(o, " %s |", kv[v] >= 0 ? rp_fmt_mean(r, kv[v], k, prec, b1, sizeof b1) : "n/a");
            for (int j = 0; j < 2; j++) {
                int base = j ? kr : m;
                if (kv[v] < 0 || base < 0 || base == kv[v] || rp_diff(r, kv[v], base, k, &d) < 1) {
                    fprintf(o, " n/a |");
                    continue;
                }
                int sig = isfinite(d.lo) && (d.lo > 0 || d.hi < 0);
                fprintf(o, " %s%s%s |", sig ? "**" : "", rp_fmt_ci(&d, prec, b1, sizeof b1),
                        sig ? "**" : "");
            }
            fprintf(o, " %s |", kv[v] >= 0 && kp >= 0 ? rp_fmt_mean(r, kv[v], kp, 3, b1, sizeof b1)
                                                      : "n/a");
        }
        fprintf(o, "\n");
    }
    fprintf(o, "\n");
}

void rp_quant(FILE *o, const res_file *r) {
    char suffix[MAX_V][16];
    int nq = 0;
    for (int m = 0; m < r->M && nq < MAX_V; m++) {
        int b;
        if (sscanf(r->model[m], "original@q%d", &b) == 1) snprintf(suffix[nq++], 16, "@q%d", b);
    }
    int ka = res_metric(r, "auc_loss");
    if (!nq || ka < 0) return;
    fprintf(o, "\n### Quantization: does rounding the weights bring F back?\n\n"
               "Each model's matrices rounded to B bits (symmetric round-to-nearest, one scale "
               "per row, biases and norms in float; Zhang et al. 2024 found 4-bit rounding "
               "restores much of what gradient-ascent-style unlearning removed). A method whose "
               "forgetting rounding undoes has a higher LOSS AUC at B bits than itself, and above "
               "`retrain` rounded alike (which never saw F). Differences are paired by seed and "
               "user draw; **bold** where the 95%% interval excludes 0.\n\n");
    variant_table(o, r, (const char(*)[16])suffix, nq, ka, "AUC (LOSS)", 3);
}

void rp_relearn(FILE *o, const res_file *r) {
    char suffix[MAX_V][16];
    int nv = 0;
    for (int m = 0; m < r->M && nv < MAX_V; m++) {
        int s;
        if (sscanf(r->model[m], "original@rl%d", &s) == 1) snprintf(suffix[nv++], 16, "@rl%d", s);
    }
    int ka = res_metric(r, "auc_loss"), kx = res_metric(r, "exposure_rank_16");
    if (!nv || ka < 0) return;
    fprintf(o, "\n### Relearning: do a few steps on related posts bring F back?\n\n"
               "Each model fine-tuned for N steps (`@rlN`, the run's `relearn` setting) on F's users' "
               "fresh posts, public posts by the same people that were never in any corpus, at "
               "the original's final learning rate (Hu et al. 2024, Lynch et al. 2024: unlearned "
               "models relearn what they hid from small amounts of related data). `retrain@rlN` "
               "is the floor: it learns F's users' style from their fresh posts too, but never saw "
               "F's posts. A method that hid F rather than removed it gains more than `retrain` "
               "from relearning, up to the original's level: `@rlN - itself` above retrain's, "
               "and `@rlN - retrain@rlN` above the method's own distance to retrain. The fresh posts' own metrics are not shown: they were trained on. "
               "Differences are paired by seed and user draw; **bold** where the 95%% interval "
               "excludes 0.\n\nLOSS attack on F's posts:\n\n");
    variant_table(o, r, (const char(*)[16])suffix, nv, ka, "AUC (LOSS)", 3);
    if (kx < 0) return;
    fprintf(o, "Exposure (bits, rank estimate) of F's secrets inserted 16 times (a claim needs "
               "the secrets per seed the exposure section lists):\n\n");
    variant_table(o, r, (const char(*)[16])suffix, nv, kx, "exposure 16x", 2);
}

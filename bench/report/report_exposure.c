/* bench/report/report_exposure.c: how each exposure figure of report.md was measured: an exact
 * rank over the whole format (enumerated), a rank among sampled candidates (censored: "at
 * least"), or a skew-normal fit (only where its goodness-of-fit check passes). */
#include <math.h>

#include "report_private.h"

void rp_exposure_section(FILE *o, const res_file *r) {
    double cens = log2((double)r->candidates + 1.0);
    fprintf(o,
            "### How each exposure was measured\n\n"
            "Exposure in bits = log2 |format| - log2 rank of the secret among all values of "
            "its format. Three ways to get there, per secret:\n\n"
            "- **enumerated** (`exposure_enumerated_*`): the exact rank, by a search over "
            "every value of formats with at most 1e7 values (emails, addresses) that counts "
            "the values with a lower loss (up to `enum-budget` forward rows per secret); not "
            "censored;\n"
            "- **sampled** (the rest of `exposure_rank_*`): the rank interpolated among %lld "
            "sampled candidates; a secret that beats them all (`exposure_censored_*`) reads "
            "**at least %.1f bits** (log2(%lld + 1)), so a mean over such secrets is a lower "
            "bound;\n"
            "- **fitted** (`exposure_skewnorm_*`): a skew-normal fitted to the candidates' "
            "losses, extrapolated to the secret; the mean covers only the secrets whose fit "
            "passes (`skewnorm_fit_pass_*`: lower-tail Anderson-Darling AL² <= 1.0 and a "
            "fitted tail probability >= 1/(%lld + 1)², i.e. at most %.1f bits) and is n/a "
            "where none does.\n\n",
            (long long)r->candidates, cens, (long long)r->candidates, (long long)r->candidates,
            2.0 * cens);
    static const int ins[] = {16, 0};
    static const char *const what[] = {"rank (bits)", "enumerated", "censored", "fitted (bits)",
                                       "fit passes"};
    static const char *const row[] = {"exposure_rank_%d", "exposure_enumerated_%d",
                                      "exposure_censored_%d", "exposure_skewnorm_%d",
                                      "skewnorm_fit_pass_%d"};
    static const int prec[] = {2, 2, 2, 2, 2};
    fprintf(o, "| model |");
    for (int j = 0; j < 2; j++)
        for (int c = 0; c < 5; c++)
            fprintf(o, " %dx: %s |", ins[j], what[c]);
    fprintf(o, "\n|---|");
    for (int c = 0; c < 10; c++)
        fprintf(o, "---|");
    fprintf(o, "\n");
    for (int m = 0; m < r->M; m++) {
        fprintf(o, "| %s |", r->model[m]);
        for (int j = 0; j < 2; j++)
            for (int c = 0; c < 5; c++) {
                char name[64], b[96];
                snprintf(name, sizeof name, row[c], ins[j]);
                fprintf(o, " %s |", rp_fmt_mean(r, m, res_metric(r, name), prec[c], b, sizeof b));
            }
        fprintf(o, "\n");
    }
    fprintf(o, "\nShares are of F's secrets with that insertion count (16x: seen 16 times, 0x: "
               "never in the corpus, the chance level). F's secrets per seed, on average:");
    for (int j = 0; j < r->n_ins; j++)
        fprintf(o, "%s %lldx: %.1f", j ? "," : "", (long long)r->ins[j], r->n_secrets_ins[j]);
    fprintf(o, "%s; a claim about one insertion count needs at least %.0f per seed, and the "
               "verdict makes none from a count with fewer.\n\n", r->n_ins ? "" : " none",
            RP_MIN_SECRETS_CLAIM);
}

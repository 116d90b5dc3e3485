/* bench/report/report_knowledge.c: report.md's section on what the models know about people:
 * the calibrated knowledge probes of F's users and of retained users, beside their chance
 * levels, and the uncalibrated figure they replace. */
#include <math.h>
#include <string.h>

#include "report_private.h"

/* Model m's paired difference to model b in metric k, "**lower**" when its CI lies below 0. */
static const char *fmt_diff(const res_file *r, int m, int b, int k, char *buf, size_t cap) {
    rp_ci d;
    int n = k >= 0 && m >= 0 && b >= 0 ? rp_diff(r, m, b, k, &d) : 0;
    if (n == 0) snprintf(buf, cap, "n/a");
    else if (!isfinite(d.lo)) snprintf(buf, cap, "%+.3f", d.mean);
    else snprintf(buf, cap, "%+.3f [%+.3f, %+.3f]%s", d.mean, d.lo, d.hi, d.hi < 0 ? " **lower**" : "");
    return buf;
}

static void chance(FILE *o, double p) {
    if (isfinite(p)) fprintf(o, " %.3f |", p);
    else fprintf(o, " n/a |");
}

void rp_knowledge(FILE *o, const res_file *r) {
    fprintf(o, "## Knowledge of people\n\n");
    int kcal = res_metric(r, "know_rank_cal");
    if (r->n_probes <= 0 || kcal < 0) {
        fprintf(o, "No knowledge probes: an imported corpus, or `--post-format text` (a model "
                   "can only learn who wrote what when posts carry their author).\n\n");
        return;
    }
    int ko = res_model(r, "original"), kr = res_model(r, "retrain");
    int kraw = res_metric(r, "know_rank");
    rp_ci cr;
    int nr = kraw >= 0 && kr >= 0 ? rp_stat(r, kr, kraw, &cr) : 0;
    double mr = cr.mean;
    char raw[160] = "";
    if (nr > 0)
        snprintf(raw, sizeof raw, " (here `retrain`'s uncalibrated rank on F, whom it never saw, "
                 "is %.3f)", mr);
    fprintf(o, "A knowledge probe asks a model what the corpus says about a person: \"HANDLE: \" "
               "+ the corpus's own phrase (\"Greetings from ...\", \"My diagnosis is ...\") with "
               "every value of the category as a continuation. Log p alone is uncalibrated: some "
               "values are likelier than others after any handle, so a model that knows nothing "
               "about the person is not at chance%s. The **calibrated** score of a value is its "
               "log p after the person's handle minus its mean log p after the handles of "
               "%d non-members of the same language, whom no model trained on; a model without "
               "knowledge of the person ranks the true value at chance by construction: "
               "normalised rank 0.5, top-1 the mean of 1/values (the chance row). Per seed: "
               "%.1f probes about F's users, %.1f about a seeded sample of retained members (as "
               "many users as F: a method that forgets them too does collateral damage), %.1f "
               "calibration items. The last column checks the calibration: the calibration "
               "non-members' own values (%.1f per seed, so a coarse check), each against the "
               "other handles of their phrase, should be at 0.5 for every model.\n\n",
            raw, (int)r->cal_handles, r->n_probes, r->n_probes_retained, r->n_probes_calib,
            r->n_probes_check);
    const char *cols[] = {"know_rank_cal", "know_city_top1_cal", "know_special_top1_cal",
                          "know_rank_retained_cal", "know_city_top1_retained_cal", NULL,
                          "know_rank", "know_rank_nonmember_cal"};
    fprintf(o, "| model | F: rank | F: city top-1 | F: special top-1 | retained: rank | "
               "retained: city top-1 | retained rank - original's | F: rank, uncalibrated | "
               "check: non-members' rank |\n|---|---|---|---|---|---|---|---|---|\n");
    fprintf(o, "| *chance* | 0.500 |");
    chance(o, r->chance_top1[0][0]);
    chance(o, r->chance_top1[0][1]);
    fprintf(o, " 0.500 |");
    chance(o, r->chance_top1[1][0]);
    fprintf(o, " 0 | none (see above) | 0.500 |\n");
    int kret = res_metric(r, "know_rank_retained_cal");
    for (int m = 0; m < r->M; m++) {
        fprintf(o, "| %s |", r->model[m]);
        for (int c = 0; c < 8; c++) {
            char b[96];
            if (cols[c]) fprintf(o, " %s |", rp_fmt_mean(r, m, res_metric(r, cols[c]), 3, b,
                                                        sizeof b));
            else fprintf(o, " %s |", m == ko ? "0" : fmt_diff(r, m, ko, kret, b, sizeof b));
        }
        fprintf(o, "\n");
    }
    fprintf(o, "\n");
    rp_ci c;
    if (kr >= 0 && rp_stat(r, kr, kcal, &c) >= 2 && isfinite(c.lo))
        fprintf(o, "- `retrain`, which never saw F, has a calibrated rank on F of %.3f [%.3f, "
                   "%.3f]: %s 0.5.\n", c.mean, c.lo, c.hi,
                c.lo <= 0.5 && 0.5 <= c.hi ? "its interval includes" : "its interval excludes");
    if (ko >= 0 && rp_stat(r, ko, kcal, &c) >= 1)
        fprintf(o, "- `original` ranks F's true values at %.3f (calibrated; chance 0.5): what "
                   "the deployed model knows about the people who asked to be forgotten.\n",
                c.mean);
    fprintf(o, "- The retained column's difference to `original` is paired by seed (a Student t "
               "over the seeds' differences); "
               "**lower** marks a model whose interval lies below original's: it forgot people who "
               "stay. Top-1 shares move in steps of one probe; the normalised rank is the "
               "smoother measure. The calibration handles are drawn once per seed and shared by "
               "its probes, so their noise is common to a seed's figures and shows in the "
               "spread across seeds: the knowledge intervals are over seeds only (Student t, "
               "clipped to [0, 1]); the probes are not user-resampled, since F's, the retained "
               "users' and the calibration handles' items are scored against each other.\n\n");
}

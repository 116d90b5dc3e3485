/* bench/report/report_methods.c: the settings each method ran with, and where they came from. */
#include <string.h>

#include "report_private.h"

void rp_method_settings(FILE *o, const res_file *r) {
    int any = 0;
    for (int m = 0; m < r->M; m++) any |= r->params && r->params[m] && r->params[m][0];
    if (!any) return;
    /* the quick preset ships settings a sweep selected (bench/engine/config.c) */
    int quick = !strncmp(r->config, "preset = quick\n", 15) && strstr(r->config, "\nmethod-params = ");
    fprintf(o, "Each method ran with these settings (its defaults with the run's `method-params` "
               "on top, `model_params` in results.h5)%s:\n\n",
            quick ? "; the quick preset's are those `unlearnbench sweep` selected on its corpus "
                    "and recipe, on validation seeds whose corpus leaves out every test F's users, "
                    "by a stated rule: retained perplexity within 1.10x the original's, then "
                    "the LOSS AUC closest to retrain's, AUCs within 0.05 of it tied and ties to "
                    "the cheapest setting (RESULTS.md, \"Method budgets\"; "
                    "`bench/unlearn/methods/README.md`). A run's own `--method-params` go on top "
                    "(the `config` attribute lists them all)"
                  : "");
    for (int m = 0; m < r->M; m++)
        if (r->params && r->params[m] && r->params[m][0] && !strchr(r->model[m], '@'))
            fprintf(o, "- `%s`: `%s`\n", r->model[m], r->params[m]);
    fprintf(o, "\n");
}

/* bench/unlearn/apply.c: choosing the approximate methods of a run and their hyperparameters. */
#include <stdio.h>
#include <string.h>

#include "unlearn.h"

ub_status ul_select(const char *list, const ul_method **out, int *n, ub_err *e) {
    *n = 0;
    if (!strcmp(list, "none")) return UB_OK;
    if (!strcmp(list, "all")) {
        for (int i = 0; i < ul_n_methods; i++) out[(*n)++] = ul_methods[i];
        return UB_OK;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const ul_method *m = ul_find(t);
        if (!m) return ub_fail(e, UB_EARG, "unknown method '%s' (see unlearnbench run --help)", t);
        for (int i = 0; i < *n; i++)
            if (out[i] == m) return ub_fail(e, UB_EARG, "method '%s' listed twice", t);
        out[(*n)++] = m;
    }
    return UB_OK;
}

/* bench/report/report.h: the Markdown reports, written from results.h5 files alone. */
#ifndef UB_REPORT_H
#define UB_REPORT_H

#include "ub.h"

/* Read DIR/results.h5 and write DIR/report.md (what `unlearnbench report DIR` does). */
ub_status ub_run_report(const char *dir, ub_err *e);
/* Write OUT/grid.md: the headline figures of the grid's sizes label[0..n) (each a run in
 * OUT/<label>/) side by side; sizes is the --forget-sizes list as given. */
ub_status ub_grid_report(const char *out_dir, const char *sizes, const char *const *label, int n,
                         ub_err *e);

#endif

/* bench/results/merge.c: one-seed results files merged into one results.h5: a grid's tasks per
 * size (engine/grid.c), a run's seeds (engine/run.c). */
#include <stdio.h>
#include <stdlib.h>

#include "results.h"

ub_status res_merge(const char *dir, const char *out, const int64_t *seed_list, int n_seeds,
                    const char *config, ub_err *e) {
    int S = n_seeds;
    char path[4200];
    int64_t M = 0, K = 0;
    double *metrics = NULL, *secs = NULL, wall = 0;
    ub_h5out o;
    snprintf(path, sizeof path, "%.4000s/results.h5", out);
    ub_status st = ub_h5_create(&o, path, e);
    if (st) return st;
    hid_t ocpl = H5Pcreate(H5P_OBJECT_COPY);
    for (int si = 0; !st && si < S; si++) {
        uint64_t seed = (uint64_t)seed_list[si];
        snprintf(path, sizeof path, "%.4000s/seed_%llu/results.h5", dir, (unsigned long long)seed);
        hid_t f;
        if ((st = ub_h5_open(&f, path, e))) break;
        int rank;
        hsize_t d[8];
        H5T_class_t cls;
        st = ub_h5_shape(f, "metrics", path, &rank, d, &cls, e);
        if (!st && (rank != 3 || d[0] != 1))
            st = ub_fail(e, UB_EFORMAT, "%s: /metrics is not one seed's", path);
        if (!st && si == 0) {
            M = (int64_t)d[1], K = (int64_t)d[2];
            metrics = ub_calloc((size_t)(S * M * K), sizeof(double), "metrics", e);
            if (!metrics) st = UB_ENOMEM;
            /* names, docs and parameters are the same in every task: take the first's */
            const char *names[] = {"model_names", "model_params", "metric_names", "metric_docs",
                                   "metric_range", "metric_resampled"};
            for (int k = 0; !st && k < 6; k++)
                if ((k < 4 || ub_h5_exists(f, names[k])) && /* the last two: since format 1.1 */
                    H5Ocopy(f, names[k], o.file, names[k], ocpl, H5P_DEFAULT) < 0)
                    st = ub_fail(e, UB_EIO, "%s: cannot copy /%s", path, names[k]);
            char buf[4096];
            const char *attrs[] = {"format", "version", "corpus", "corpus_sha256"};
            for (int k = 0; !st && k < 4; k++) {
                st = ub_h5_get_str(f, attrs[k], path, buf, sizeof buf, e);
                if (!st) st = ub_h5_attr_str(o.file, attrs[k], buf, e);
            }
            int64_t v;
            if (!st) st = ub_h5_get_i64(f, "format_version", path, &v, e);
            if (!st) st = ub_h5_attr_i64(o.file, "format_version", v, e);
            if (!st) st = ub_h5_get_i64(f, "threads", path, &v, e);
            if (!st) st = ub_h5_attr_i64(o.file, "threads", v, e);
        } else if (!st && ((int64_t)d[1] != M || (int64_t)d[2] != K)) {
            st = ub_fail(e, UB_EFORMAT, "%s: %llu models x %llu metrics, the first seed had "
                         "%lld x %lld", path, (unsigned long long)d[1], (unsigned long long)d[2],
                         (long long)M, (long long)K);
        }
        hsize_t want[3] = {1, (hsize_t)M, (hsize_t)K};
        if (!st) st = ub_h5_read(f, "metrics", path, H5T_NATIVE_DOUBLE,
                                 metrics + (size_t)si * M * K, 3, want, e);
        char g[64];
        snprintf(g, sizeof g, "seed_%llu", (unsigned long long)seed);
        if (!st && H5Ocopy(f, g, o.file, g, ocpl, H5P_DEFAULT) < 0)
            st = ub_fail(e, UB_EIO, "%s: cannot copy /%s", path, g);
        H5Fclose(f);
    }
    H5Pclose(ocpl);
    hsize_t dm[3] = {(hsize_t)S, (hsize_t)M, (hsize_t)K}, ds = (hsize_t)S;
    if (!st) st = ub_h5_write(o.file, "metrics", H5T_NATIVE_DOUBLE, metrics, 3, dm, 0, e);
    if (!st) st = ub_h5_write(o.file, "seeds", H5T_NATIVE_INT64, seed_list, 1, &ds, 1, e);
    if (!st) st = ub_h5_attr_str(o.file, "config", config, e);
    if (!st) st = ub_h5_commit(&o, e);
    else ub_h5_abort(&o);
    /* wall times: per seed and model, and the sum of the tasks' wall times */
    secs = !st ? ub_calloc((size_t)(S * M), sizeof(double), "timings", e) : NULL;
    if (!st && !secs) st = UB_ENOMEM;
    for (int si = 0; !st && si < S; si++) {
        snprintf(path, sizeof path, "%.4000s/seed_%llu/timings.h5", dir,
                 (unsigned long long)seed_list[si]);
        hid_t f;
        if ((st = ub_h5_open(&f, path, e))) break;
        hsize_t want[2] = {1, (hsize_t)M};
        double w = 0;
        st = ub_h5_read(f, "seconds", path, H5T_NATIVE_DOUBLE, secs + (size_t)si * M, 2, want, e);
        if (!st) st = ub_h5_get_f64(f, "wall_seconds", path, &w, e);
        wall += w;
        H5Fclose(f);
    }
    snprintf(path, sizeof path, "%.4000s/timings.h5", out);
    if (!st) st = res_write_timings(path, secs, S, (int)M, wall, e);
    free(metrics), free(secs);
    return st;
}


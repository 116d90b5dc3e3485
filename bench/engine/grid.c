/* bench/run_grid.c: the benchmark over a grid of forget-set sizes x seeds, split into tasks
 * that independent processes (Open MPI ranks, Slurm array jobs, or a loop) run in any order.
 *
 * Task t of n_sizes x seeds is (size t / seeds, seed seed0 + t % seeds); process r of P takes
 * tasks r, r + P, ... Each task is a one-seed `run` into DIR/<size>/seed_<s>/ (its results.h5
 * written atomically, so a restart skips the tasks that are complete); all tasks share the
 * corpus DIR/corpus.h5 and the model cache DIR/models/ (original and its reference do not
 * depend on F, so one training serves every size). The merge combines each size's seeds into
 * DIR/<size>/results.h5, the same layout as a multi-seed run, which `report` reads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef UB_HAVE_MPI
#include <mpi.h>
#endif

#include "run_private.h"

int ub_grid_parse(const char *list, ub_grid_size *out, int cap, ub_err *e) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    int n = 0;
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (n == cap) return ub_fail(e, UB_EARG, "forget sizes: more than %d", cap), -1;
        ub_grid_size *s = &out[n];
        memset(s, 0, sizeof *s);
        char *end;
        double v = strtod(t, &end);
        if (end == t || !(v > 0)) goto bad;
        if (*end == '%' && end[1] == '\0') {
            if (!(v < 100)) goto bad;
            s->frac = v / 100.0;
            snprintf(s->label, sizeof s->label, "frac_%g", v / 100.0);
        } else if (*end == '\0' && strchr(t, '.')) {
            if (!(v < 1)) goto bad;
            s->frac = v;
            snprintf(s->label, sizeof s->label, "frac_%g", v);
        } else if (*end == '\0' && v == floor(v)) {
            s->users = (long)v;
            snprintf(s->label, sizeof s->label, "users_%ld", s->users);
        } else {
            goto bad;
        }
        for (int i = 0; i < n; i++)
            if (!strcmp(out[i].label, s->label))
                return ub_fail(e, UB_EARG, "forget sizes: '%s' listed twice", t), -1;
        n++;
        continue;
    bad:
        return ub_fail(e, UB_EARG, "forget sizes: '%s' is not N (users), P%% or a fraction in "
                       "(0, 1)", t), -1;
    }
    if (n == 0) return ub_fail(e, UB_EARG, "forget sizes: empty list"), -1;
    return n;
}

/* The run configuration of one size (all seeds). */
static void size_cfg(const ub_run_cfg *g, const ub_grid_size *s, const char *dir,
                     const char *corpus, ub_run_cfg *c) {
    *c = *g;
    c->forget_users = s->users;
    if (s->frac > 0) c->forget_frac = s->frac;
    c->forget_sizes = NULL;
    c->task_index = 0, c->task_count = 0;
    if (!g->corpus) c->grid_corpus = corpus; /* the configuration still says "generated" */
    c->out_dir = dir;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A complete task file must come from the same configuration. */
static ub_status check_task(const char *path, const ub_run_cfg *c, ub_err *e) {
    hid_t f;
    ub_status st = ub_h5_open(&f, path, e);
    if (st) return st;
    char have[4096], want[4096];
    st = ub_h5_get_str(f, "config", path, have, sizeof have, e);
    H5Fclose(f);
    run_cfg_string(c, want, sizeof want);
    if (!st && strcmp(have, want))
        st = ub_fail(e, UB_EARG, "%s: a task of another configuration; use another --out or "
                     "remove it", path);
    return st;
}

/* Merge DIR/seed_<s>/{results,timings}.h5 of S seeds into DIR/results.h5 and timings.h5. */
static ub_status merge_size(const char *dir, const ub_run_cfg *c, ub_err *e) {
    int S = c->seeds;
    char path[4200], cs[4096];
    int64_t M = 0, K = 0;
    double *metrics = NULL, *secs = NULL, wall = 0;
    int64_t *seeds = ub_calloc((size_t)S, sizeof(int64_t), "seeds", e);
    if (!seeds) return UB_ENOMEM;
    ub_h5out o, t;
    snprintf(path, sizeof path, "%.4000s/results.h5", dir);
    ub_status st = ub_h5_create(&o, path, e);
    if (st) {
        free(seeds);
        return st;
    }
    hid_t ocpl = H5Pcreate(H5P_OBJECT_COPY);
    for (int si = 0; !st && si < S; si++) {
        uint64_t seed = c->seed0 + (uint64_t)si;
        seeds[si] = (int64_t)seed;
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
            const char *names[] = {"model_names", "model_params", "metric_names", "metric_docs"};
            for (int k = 0; !st && k < 4; k++)
                if (H5Ocopy(f, names[k], o.file, names[k], ocpl, H5P_DEFAULT) < 0)
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
    run_cfg_string(c, cs, sizeof cs);
    hsize_t dm[3] = {(hsize_t)S, (hsize_t)M, (hsize_t)K}, ds = (hsize_t)S;
    if (!st) st = ub_h5_write(o.file, "metrics", H5T_NATIVE_DOUBLE, metrics, 3, dm, 0, e);
    if (!st) st = ub_h5_write(o.file, "seeds", H5T_NATIVE_INT64, seeds, 1, &ds, 1, e);
    if (!st) st = ub_h5_attr_str(o.file, "config", cs, e);
    if (!st) st = ub_h5_commit(&o, e);
    else ub_h5_abort(&o);
    /* wall times: per seed and model, and the sum of the tasks' wall times */
    secs = !st ? ub_calloc((size_t)(S * M), sizeof(double), "timings", e) : NULL;
    if (!st && !secs) st = UB_ENOMEM;
    for (int si = 0; !st && si < S; si++) {
        snprintf(path, sizeof path, "%.4000s/seed_%llu/timings.h5", dir,
                 (unsigned long long)(c->seed0 + (uint64_t)si));
        hid_t f;
        if ((st = ub_h5_open(&f, path, e))) break;
        hsize_t want[2] = {1, (hsize_t)M};
        double w = 0;
        st = ub_h5_read(f, "seconds", path, H5T_NATIVE_DOUBLE, secs + (size_t)si * M, 2, want, e);
        if (!st) st = ub_h5_get_f64(f, "wall_seconds", path, &w, e);
        wall += w;
        H5Fclose(f);
    }
    snprintf(path, sizeof path, "%.4000s/timings.h5", dir);
    hsize_t dt[2] = {(hsize_t)S, (hsize_t)M};
    if (!st) st = ub_h5_create(&t, path, e);
    if (!st) {
        st = ub_h5_write(t.file, "seconds", H5T_NATIVE_DOUBLE, secs, 2, dt, 0, e);
        if (!st) st = ub_h5_attr_f64(t.file, "wall_seconds", wall, e);
        if (!st) st = ub_h5_commit(&t, e);
        else ub_h5_abort(&t);
    }
    free(seeds), free(metrics), free(secs);
    return st;
}

ub_status ub_grid(const ub_run_cfg *cfg, int *merged, ub_err *e) {
    *merged = 0;
    ub_grid_size sz[UB_GRID_MAX];
    int ns = ub_grid_parse(cfg->forget_sizes, sz, UB_GRID_MAX, e);
    if (ns < 0) return e->code;
    int rank = cfg->task_index, size = cfg->task_count > 0 ? cfg->task_count : 1;
    int mpi = 0;
#ifdef UB_HAVE_MPI
    /* under mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE): one rank per process */
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE")) {
        MPI_Init(NULL, NULL);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        mpi = 1;
    }
#endif
    if (rank < 0 || rank >= size) {
        ub_status st = ub_fail(e, UB_EARG, "task index %d is not in [0, %d)", rank, size);
#ifdef UB_HAVE_MPI
        if (mpi) MPI_Finalize();
#endif
        return st;
    }
    char corpus[4200], dir[4200], path[4400];
    ub_status st = run_mkdir_p(cfg->out_dir, e);
    /* the shared corpus: generated once (rank 0 under MPI; otherwise whoever comes first, and
     * the generator's bytes are the same every time) */
    if (cfg->corpus) snprintf(corpus, sizeof corpus, "%s", cfg->corpus);
    else snprintf(corpus, sizeof corpus, "%s/corpus.h5", cfg->out_dir);
    if (!st && !cfg->corpus && (!mpi || rank == 0) && !file_exists(corpus))
        st = run_generate_corpus(cfg, corpus, e);
#ifdef UB_HAVE_MPI
    if (mpi) { /* everyone learns whether rank 0 made the corpus */
        int bad = st != UB_OK, any = 0;
        MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (any && !st) st = ub_fail(e, UB_EIO, "rank %d: the corpus was not generated", rank);
    }
#endif
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/models", cfg->out_dir);
    int n_tasks = ns * cfg->seeds, done = 0, ran = 0;
    for (int t = rank; !st && t < n_tasks; t += size) {
        const ub_grid_size *s = &sz[t / cfg->seeds];
        uint64_t seed = cfg->seed0 + (uint64_t)(t % cfg->seeds);
        snprintf(dir, sizeof dir, "%s/%s", cfg->out_dir, s->label);
        ub_run_cfg c;
        size_cfg(cfg, s, dir, corpus, &c);
        snprintf(dir, sizeof dir, "%s/%s/seed_%llu", cfg->out_dir, s->label,
                 (unsigned long long)seed);
        ub_run_cfg tc = c;
        tc.out_dir = dir;
        tc.seeds = 1;
        tc.seed0 = seed;
        tc.cache_dir = cache;
        snprintf(path, sizeof path, "%.4000s/results.h5", dir);
        if (file_exists(path)) { /* complete: written atomically */
            st = check_task(path, &tc, e);
            if (!st && !cfg->quiet)
                fprintf(stderr, "task %d/%d (%s, seed %llu): done before, skipped\n", t + 1,
                        n_tasks, s->label, (unsigned long long)seed);
            done++;
            continue;
        }
        if (!cfg->quiet)
            fprintf(stderr, "task %d/%d (%s, seed %llu) on process %d of %d\n", t + 1, n_tasks,
                    s->label, (unsigned long long)seed, rank, size);
        st = ub_run(&tc, e);
        ran++;
    }
    int failed = st != UB_OK;
#ifdef UB_HAVE_MPI
    if (mpi) { /* all tasks end before the merge */
        int any = 0;
        MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (any && !failed) {
            st = ub_fail(e, UB_EIO, "another rank failed: no merge (re-run to resume)");
            failed = 1;
        }
    }
#endif
    /* merge every size whose seeds are all complete (under MPI: rank 0, after everyone) */
    int merger = mpi ? rank == 0 : size == 1; /* by hand: a last run without --task-count */
    int complete = 0;
    for (int i = 0; !failed && merger && i < ns; i++) {
        int all = 1;
        for (int k = 0; k < cfg->seeds && all; k++) {
            snprintf(path, sizeof path, "%s/%s/seed_%llu/results.h5", cfg->out_dir, sz[i].label,
                     (unsigned long long)(cfg->seed0 + (uint64_t)k));
            all = file_exists(path);
        }
        if (!all) continue;
        snprintf(dir, sizeof dir, "%s/%s", cfg->out_dir, sz[i].label);
        ub_run_cfg c;
        size_cfg(cfg, &sz[i], dir, corpus, &c);
        c.cache_dir = cache;
        c.seeds = cfg->seeds;
        st = merge_size(dir, &c, e);
        if (st) {
            failed = 1;
            break;
        }
        complete++;
    }
    if (!failed && merger) *merged = complete == ns;
    if (!failed && !cfg->quiet)
        fprintf(stderr, "process %d of %d: %d tasks run, %d done before; %d of %d sizes "
                "complete%s\n", rank, size, ran, done, merger ? complete : 0, ns,
                merger ? "" : mpi ? " (rank 0 merges)" : " (a run without --task-count merges)");
#ifdef UB_HAVE_MPI
    if (mpi) MPI_Finalize();
#endif
    return st;
}

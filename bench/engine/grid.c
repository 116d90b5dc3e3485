/* bench/engine/grid.c: the benchmark over a grid of forget-set sizes x seeds, split into tasks
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

#include "engine_private.h"
#include "results.h"

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
        } else if (*end == '\0' && v == floor(v) && v <= 1e12) { /* a long holds it */
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
    c->scenario.forget_users = s->users;
    if (s->frac > 0) c->scenario.forget_frac = s->frac;
    c->grid.forget_sizes = NULL;
    c->grid.task_index = 0, c->grid.task_count = 0;
    if (!g->source.corpus) c->source.generated = corpus; /* the configuration still says "generated" */
    c->out_dir = dir;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A complete task file must come from the same configuration. */
static ub_status check_task(const char *path, const ub_run_cfg *c, ub_err *e) {
    char want[4096];
    ub_run_cfg_string(c, want, sizeof want);
    const char *name = "config", *w = want;
    int r = run_attrs_equal(path, &name, &w, 1, e);
    if (r < 0) return e->code;
    if (r == 0)
        return ub_fail(e, UB_EARG, "%s: a task of another configuration; use another --out or "
                       "remove it", path);
    return UB_OK;
}

ub_status ub_grid(const ub_run_cfg *cfg, const kn_tune *tune, const ub_run_observer *obs,
                  int *merged, ub_err *e) {
    *merged = 0;
    const ub_log *log = obs ? &obs->log : NULL;
    ub_grid_size sz[UB_GRID_MAX];
    int ns = ub_grid_parse(cfg->grid.forget_sizes, sz, UB_GRID_MAX, e);
    if (ns < 0) return e->code;
    int rank = cfg->grid.task_index, size = cfg->grid.task_count > 0 ? cfg->grid.task_count : 1;
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
    if (cfg->source.corpus) snprintf(corpus, sizeof corpus, "%s", cfg->source.corpus);
    else snprintf(corpus, sizeof corpus, "%s/corpus.h5", cfg->out_dir);
    if (!st && !cfg->source.corpus && (!mpi || rank == 0) && !file_exists(corpus))
        st = run_generate_corpus(&cfg->source, cfg->threads, corpus, e);
#ifdef UB_HAVE_MPI
    if (mpi) { /* everyone learns whether rank 0 made the corpus */
        int bad = st != UB_OK, any = 0;
        MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (any && !st) st = ub_fail(e, UB_EIO, "rank %d: the corpus was not generated", rank);
    }
#endif
    char cache[4200];
    if (cfg->cache_dir) snprintf(cache, sizeof cache, "%s", cfg->cache_dir);
    else snprintf(cache, sizeof cache, "%s/models", cfg->out_dir);
    /* the shadow models serve every task: split them over the processes first (each trains
     * every size-th one into the shared cache), and under MPI wait until all are there. Task
     * arrays without MPI cannot wait: a task that needs one not yet there trains it itself (the
     * same bytes, so whichever file lands is right) */
    if (!st && cfg->score.shadows > 0 && size > 1) {
        ub_run_cfg c;
        snprintf(dir, sizeof dir, "%s/%s", cfg->out_dir, sz[0].label);
        size_cfg(cfg, &sz[0], dir, corpus, &c);
        c.cache_dir = cache;
        st = ub_run_shadows_part(&c, tune, obs, rank, size, e);
#ifdef UB_HAVE_MPI
        if (mpi) {
            int bad = st != UB_OK, any = 0;
            MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
            if (any && !st) st = ub_fail(e, UB_EIO, "another rank failed to train its shadows");
        }
#endif
    }
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
            if (!st)
                ub_logf(log, "task %d/%d (%s, seed %llu): done before, skipped", t + 1, n_tasks,
                        s->label, (unsigned long long)seed);
            done++;
            continue;
        }
        ub_logf(log, "task %d/%d (%s, seed %llu) on process %d of %d", t + 1, n_tasks, s->label,
                (unsigned long long)seed, rank, size);
        st = ub_run(&tc, tune, obs, e);
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
        char cs[4096];
        ub_run_cfg_string(&c, cs, sizeof cs);
        int64_t *seeds = ub_calloc((size_t)c.seeds, sizeof(int64_t), "seeds", e);
        for (int k = 0; seeds && k < c.seeds; k++) seeds[k] = (int64_t)(c.seed0 + (uint64_t)k);
        st = seeds ? res_merge(dir, dir, seeds, c.seeds, cs, e) : UB_ENOMEM;
        free(seeds);
        if (st) {
            failed = 1;
            break;
        }
        complete++;
    }
    if (!failed && merger) *merged = complete == ns;
    if (!failed)
        ub_logf(log, "process %d of %d: %d tasks run, %d done before; %d of %d sizes "
                "complete%s", rank, size, ran, done, merger ? complete : 0, ns,
                merger ? "" : mpi ? " (rank 0 merges)" : " (a run without --task-count merges)");
#ifdef UB_HAVE_MPI
    if (mpi) MPI_Finalize();
#endif
    return st;
}

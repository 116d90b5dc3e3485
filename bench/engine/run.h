/* bench/run.h: the benchmark (`unlearnbench run`): a deletion scenario, the models compared,
 * per-post scores and the metrics over them (prefix ub_run_). Layout of results.h5:
 * bench/FORMAT.md.
 *
 * Per seed s (seeds vary both the choice of users and the training seed):
 *   split (members / non-members / excluded by policy, F by rule, all from s)
 *   -> original (all members) and retrain (members without F), same seed and schedule, cached
 *      by content hash under DIR/models/
 *   -> continued (original trained further on the retained posts), sampled at 1/4, 1/2, 1 of
 *      its budget; the approximate methods of bench/methods/ applied to copies of original
 *   -> per-post scores of every model on F's posts, retained posts, non-members' posts and the
 *      fresh posts of F and of non-members; secret exposure of F's planted secrets
 *   -> metrics per (seed, model) -> results.h5 -> report.md.
 */
#ifndef UB_RUN_H
#define UB_RUN_H

#include "gpt.h"
#include "methods.h"
#include "score.h"

typedef struct ub_run_cfg {
    const char *preset;        /* "quick" or "paper": the defaults below */
    const char *corpus;        /* corpus file, or NULL: generate one (gen_profile, corpus_seed) */
    const char *gen_profile;   /* generator profile when no corpus is given */
    uint64_t corpus_seed;
    const char *forget_rule;   /* random, heavy, secrets, sensitive, objected */
    long forget_users;         /* size of F, or 0: forget_frac of the members */
    double forget_frac;
    double nonmember_frac;     /* share of eligible users held out as non-members */
    int all_posts;             /* no policy: every corpus-proper post is eligible */
    const char *post_format;   /* "author": a post is trained and scored as "HANDLE: text", so
                                * a model can learn who wrote what (knowledge probes need it);
                                * "text": the post's text alone */
    const char *methods;       /* comma list of approximate methods, "all" or "none" */
    const char *method_params; /* "name:key=value,key=value;name2:..." overriding defaults */
    int seeds;                 /* repetitions: seed0, seed0+1, ... */
    uint64_t split_seed;       /* 0: each seed draws its own F and non-members; else this split
                                * for every seed (then seeds vary the training only) */
    uint64_t seed0;
    int threads;
    const char *out_dir;
    const char *cache_dir;     /* trained models by content hash; NULL: DIR/models */
    const char *grid_corpus;   /* a grid's tasks: the corpus generated once for all of them
                                * (without --corpus); not part of the configuration */
    /* a grid (bench/run_grid.c) */
    const char *forget_sizes;  /* "1,1%,5%,10%": N users, P% or a fraction of the members;
                                * NULL: the one size of forget_users / forget_frac */
    int task_index, task_count;/* this process's share of the grid's tasks (Slurm arrays);
                                * under mpirun the MPI rank and size */
    /* the models */
    const char *model;         /* preset name of gpt_preset */
    long steps;                /* training steps of original and retrain */
    int batch;
    double lr, min_lr;
    long continued_steps;      /* budget of `continued` */
    int sisa_shards, sisa_slices; /* SISA's S and R */
    int sisa_check;            /* also train SISA without F from scratch: must match bitwise */
    /* scoring */
    int eval_posts;            /* cap on retained / non-member posts scored per seed */
    int candidates;            /* sampled candidates per secret for exposure */
    int beam_width;            /* beam search width of the extraction attack (5) */
    double mink_k;             /* k of Min-K% and Min-K%++ */
    int quiet;                 /* no progress on stderr */
} ub_run_cfg;

/* The preset's documented defaults (bench/run.c). */
ub_status ub_run_defaults(ub_run_cfg *c, const char *preset, ub_err *e);

/* Run everything; writes DIR/results.h5 (atomically) and DIR/timings.h5. The CLI then draws
 * the plots (scripts/plots.py, when Python is there) and writes the report. */
ub_status ub_run(const ub_run_cfg *c, ub_err *e);

/* Read DIR/results.h5 and write DIR/report.md (what `unlearnbench report DIR` does). */
ub_status ub_run_report(const char *dir, ub_err *e);

/* ---- the grid of forget-set sizes x seeds (bench/run_grid.c) ---- */
enum { UB_GRID_MAX = 16 };
typedef struct ub_grid_size {
    long users;       /* F = this many users, or 0: */
    double frac;      /* this share of the members */
    char label[32];   /* "users_1", "frac_0.05": the size's directory under DIR */
} ub_grid_size;
/* Parse "1,1%,5%,0.1" (integers are user counts); returns the number of sizes or -1. */
int ub_grid_parse(const char *list, ub_grid_size *out, int cap, ub_err *e);
/* Run this process's tasks of the grid (task t = (size t / seeds, seed t % seeds); process r
 * of P runs t = r, r + P, ...; complete tasks are skipped), then, as the only process (P = 1)
 * or as MPI rank 0 after all ranks, merge each size's seeds into DIR/<label>/results.h5.
 * *merged = 1 when every size was merged (reports can then be written). */
ub_status ub_grid(const ub_run_cfg *c, int *merged, ub_err *e);
/* Write DIR/grid.md: the headline figures of every size side by side (from their results.h5). */
ub_status ub_grid_report(const ub_run_cfg *c, ub_err *e);

#endif

/* bench/engine/run.h: the benchmark (`unlearnbench run`), the stage that drives all the others.
 * Per seed s (seeds vary both the choice of users and the training seed):
 *   scenario/  split (members / non-members / excluded by policy), F by rule, secrets, probes
 *   engine/    original (all members), retrain (members without F) and retrain_ref (retrain
 *              with another training seed), cached by content hash under DIR/models/
 *   unlearn/   continued training without F (scored at log-spaced points up to its budget), SISA
 *              before and after the deletion, the approximate methods on copies of original
 *   eval/      per-post, per-secret and per-probe scores of every model; the metric table
 *   results/   DIR/results.h5 (bench/FORMAT.md) and DIR/timings.h5
 * then report/ writes report.md from results.h5 alone. */
#ifndef UB_RUN_H
#define UB_RUN_H

#include "eval.h"
#include "unlearn.h"

/* Where the corpus comes from. */
typedef struct ub_source_cfg {
    const char *corpus;      /* corpus file, or NULL: generate one (profile, seed) */
    const char *gen_profile; /* generator profile when no corpus is given */
    uint64_t corpus_seed;
    const char *generated;   /* a grid's tasks: the corpus already generated for all of them
                              * (without --corpus); not part of the configuration */
} ub_source_cfg;

/* How original, retrain and continued train. */
typedef struct ub_train_recipe {
    const char *model;       /* preset name of gpt_preset */
    long steps;              /* training steps of original and retrain */
    int batch;
    double lr, min_lr;
    long continued_steps;    /* budget of `continued` (the paper preset: the original's own) */
    int continued_points;    /* scored after budget/2^(P-1), ..., budget/2, budget steps */
} ub_train_recipe;

/* A grid of forget-set sizes x seeds (engine/grid.c). */
typedef struct ub_grid_cfg {
    const char *forget_sizes; /* "1,1%,5%,10%": N users, P% or a fraction of the members;
                               * NULL: the one size of the scenario */
    int task_index, task_count; /* this process's share of the grid's tasks (Slurm arrays);
                                 * under mpirun the MPI rank and size */
} ub_grid_cfg;

typedef struct ub_run_cfg {
    const char *preset;        /* "quick" or "paper": the defaults (ub_run_defaults) */
    int seeds;                 /* repetitions: seed0, seed0+1, ... */
    uint64_t seed0;
    int threads;               /* 0: the kernels' default (UB_THREADS, else all cores) */
    const char *tune;          /* kernel tunables "key=value,..." (kernels/tune.c), or NULL */
    ub_source_cfg source;
    ub_scenario_cfg scenario;
    ub_train_recipe train;
    const char *methods;       /* comma list of approximate methods, "all" or "none" */
    const char *method_params; /* "name:key=value,key=value;name2:..." overriding defaults */
    const char *quantize;      /* the quantization attack: bit widths "8,4" (NULL or "": off);
                                * original, retrain and every method rounded to each width
                                * (gpt_quantize_rtn) are scored as models "NAME@qB" */
    const char *relearn;       /* the relearning attack: steps of fine-tuning on F's users' fresh
                                * posts, "5,20" (NULL or "": off); original, retrain and every
                                * method relearned (ul_relearn) for each count N are scored as
                                * models "NAME@rlN" */
    int chain;                 /* chained deletion requests: F's users arrive as this many
                                * requests (by objection date, else seeded); every method
                                * starts each from its own previous output and SISA deletes
                                * each from refreshed checkpoints (engine/chain.c); 0: off */
    ub_sisa_cfg sisa;
    ub_score_cfg score;
    const char *out_dir;
    const char *cache_dir;     /* trained models by content hash; NULL: DIR/models */
    ub_grid_cfg grid;
} ub_run_cfg;

/* The quantization attack's widths of list ("8,4"; NULL or "": none) into bits; returns their
 * number, or -1 with a message in e. */
enum { UB_MAX_QUANT = 4 };
int ub_run_quant_bits(const char *list, int *bits, ub_err *e);
/* The relearning attack's step counts of list ("5,20"; NULL or "": none, each in 1..1000000,
 * ascending) into steps; returns their number, or -1 with a message in e. */
enum { UB_MAX_RELEARN = 4 };
int ub_run_relearn_steps(const char *list, int *steps, ub_err *e);
/* The preset's documented defaults (engine/config.c). */
ub_status ub_run_defaults(ub_run_cfg *c, const char *preset, ub_err *e);
/* The values a run cannot work with, as one message. */
ub_status ub_run_check(const ub_run_cfg *c, ub_err *e);
/* The configuration as INI lines, which `run --config` reads back. */
void ub_run_cfg_string(const ub_run_cfg *c, char *buf, size_t cap);

/* What the run tells while it works (NULL: nothing, as with --quiet). */
typedef struct ub_run_observer {
    ub_log log;                                   /* progress lines */
    void (*train_begin)(void *ctx, const char *label, long steps); /* a model's training */
    gpt_progress_fn train_step;                   /* after each of its steps */
    void (*train_end)(void *ctx);
    void *ctx;                                    /* for the three training callbacks */
} ub_run_observer;

/* Run everything with the kernel tunables tune (checked and applied here); writes
 * DIR/results.h5 (atomically) and DIR/timings.h5. The CLI then draws the plots
 * (scripts/plots.py, when Python is there) and writes the report. */
ub_status ub_run(const ub_run_cfg *c, const kn_tune *tune, const ub_run_observer *obs, ub_err *e);

/* Train the shadow models j = part, part + parts, ... of c (--shadows) into the model cache,
 * as a grid's processes do before their tasks, so that no two processes train the same one
 * (engine/run.c). Nothing when c has no shadows. */
ub_status ub_run_shadows_part(const ub_run_cfg *c, const kn_tune *tune,
                              const ub_run_observer *obs, int part, int parts, ub_err *e);

/* ---- the budget sweep (`unlearnbench sweep`, engine/sweep.c) ----
 * Every setting of every selected method's grid (ul_method.grid) on validation seeds that
 * leave out every user of the run's own seeds' F (the test F's), and the setting a rule picks:
 * retained perplexity within max_ppl x the original's, then the cheapest setting whose LOSS
 * AUC on the validation F is within auc_tol of the closest to retrain's. Writes DIR/sweep.h5
 * (bench/FORMAT.md), DIR/sweep.md and DIR/selected.txt (the selection as --method-params). */
typedef struct ub_sweep_cfg {
    int val_seeds;      /* validation seeds (2) */
    uint64_t val_seed0; /* the first (1001): must not be one of the run's seeds */
    double max_ppl;     /* the utility rule's bound (1.10) */
    double auc_tol;     /* AUC distances within this of the closest are ties (0.05) */
} ub_sweep_cfg;
ub_status ub_sweep(const ub_run_cfg *c, const ub_sweep_cfg *sw, const kn_tune *tune,
                   const ub_run_observer *obs, ub_err *e);

/* ---- the grid of forget-set sizes x seeds (engine/grid.c) ---- */
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
ub_status ub_grid(const ub_run_cfg *c, const kn_tune *tune, const ub_run_observer *obs,
                  int *merged, ub_err *e);

#endif

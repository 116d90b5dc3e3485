/* bench/results/results.h: the only code that knows the layout of results.h5 and timings.h5
 * (bench/FORMAT.md): writing a run's seeds and tables (results/write.c), reading them back for
 * reports (results/read.c), and merging one-seed files of a grid's tasks (results/merge.c). */
#ifndef UB_RESULTS_H
#define UB_RESULTS_H

#include <time.h>

#include "eval.h"

enum { RES_FORMAT_VERSION = 1, RES_MAX_CHAIN_ROWS = 64 };

/* Chained deletion requests of one seed (engine/chain.c): F's users in arrival order and their
 * request, and per row (original, retrain, sisa, then the methods) and request q the state after
 * requests 0..q: the LOSS attack's AUC on the posts of every user forgotten so far against the
 * non-members' posts, perplexity on the retained posts / original's, and the cumulative
 * FLOPs of the deletions (wall times go to the log: results.h5 stays byte-reproducible). */
typedef struct run_chain {
    int k, rows;
    size_t n_forget;
    int64_t *order;    /* (n_forget) F's users in arrival order */
    int32_t *request;  /* (n_forget) the request of order[i] */
    int dated;         /* users whose arrival is their objection date (the rest: seeded) */
    int64_t *n_posts;  /* (k) posts of the users forgotten after request q */
    double *auc, *ppl, *flops; /* (rows, k) */
} run_chain;
void run_chain_free(run_chain *c);

/* ---- writing ---- */
/* seed_<seed>/chain (bench/FORMAT.md): c with the row names of the methods. */
ub_status res_write_chain(hid_t file, uint64_t seed, const run_chain *c,
                          const char *const *method_names, ub_err *e);
/* Group seed_<seed>: the scenario (roles, F, matched non-members, the scored sets' posts, the
 * secrets and probes) and, per model res[0..n) (named by res[k].name), every per-post,
 * per-secret and per-probe score and the metric values. */
ub_status res_write_seed(hid_t file, uint64_t seed, const run_corpus *rc, const run_scenario *sc,
                         const secret_set *ss, const probe_set *ps, const model_result *res,
                         int n, ub_err *e);
/* seed_<seed>/bootstrap (B, n, ev_n_metrics): the user-bootstrap replicates of every metric of
 * the seed's models (ev_bootstrap), into the group res_write_seed made. */
ub_status res_write_boot(hid_t file, uint64_t seed, const double *boot, int B, int n,
                         ub_err *e);
/* The run's tables and provenance, at the root. */
typedef struct res_run {
    int seeds, models;
    const int64_t *seed;              /* (seeds) */
    const char *const *model_names;   /* (models) */
    const char *const *model_params;  /* (models) method hyperparameters, "" for the others */
    const double *metrics;            /* (seeds, models, ev_n_metrics) */
    const char *config;               /* INI text that `run --config` reads back */
    const char *corpus;               /* the corpus as given, or how it was generated */
    const char *corpus_sha256;
    int64_t threads;
} res_run;
ub_status res_write_run(hid_t file, const res_run *r, ub_err *e);
/* DIR/timings.h5: wall seconds (seeds, models), kept apart from the byte-reproducible
 * results.h5, and the run's wall time. Written atomically. */
ub_status res_write_timings(const char *path, const double *seconds, int seeds, int models,
                            double wall, ub_err *e);

/* ---- reading ---- */
typedef struct res_file {
    int S, M, K;                /* seeds, models, metrics */
    double *x;                  /* (S, M, K) */
    int64_t *seed;              /* (S) */
    char **model, **metric, **doc;
    char **params;              /* (M) each method's settings as it ran ("" for other models) */
    double *sec;                /* (S, M) from timings.h5, or NULL without one */
    double wall;                /* the run's wall seconds, or NaN */
    char config[4096], version[64], sha[65];
    int64_t threads;
    /* per seed, on average: */
    double n_set[N_SCORED];     /* posts of each scored set */
    double n_secrets, n_probes; /* F's secrets, knowledge probes about F's users */
    double n_probes_retained;   /* ... about the retained sample */
    double n_probes_calib;      /* calibration items (non-members' handles) */
    double n_probes_check;      /* ... of them with a true value (the leave-one-out check) */
    int64_t cal_handles;        /* calibration handles per phrase (0: not recorded) */
    double chance_top1[2][2];   /* [F, retained][city, special category]: the top-1 share of a
                                 * model without knowledge, the mean of 1/values (NaN: none) */
    int n_ins;                  /* distinct insertion counts of F's secrets (at most 8) */
    int64_t ins[8];             /* those counts, ascending */
    double n_secrets_ins[8];    /* F's secrets inserted ins[i] times */
    double n_users_f;           /* users of F */
    int64_t candidates;         /* sampled candidates per secret */
    int64_t shadows, shadow_in; /* shadow models per seed and how many of them trained on each
                                 * pool user (0: no shadows) */
    /* the intervals' material (absent from files written before them: NULL, B = 0) */
    double *lo, *hi;            /* (K) the range of each metric's values (else -inf, inf) */
    int8_t *resampled;          /* (K) 1: post-level, the user bootstrap resamples it */
    int B;                      /* user-bootstrap replicates per seed (0: none stored) */
    double *boot;               /* (S, B, M, K) */
    /* chained deletion requests (seed_<s>/chain, `run --chain K`; chain_k 0 without them) */
    int chain_k, chain_rows;
    char **chain_model;         /* (chain_rows) */
    double *chain_auc, *chain_ppl, *chain_flops; /* (S, chain_rows, chain_k) */
    double *chain_posts;        /* (chain_k) F's posts of the users forgotten so far, per seed */
    double chain_users, chain_dated; /* F's users and those dated by objection, per seed */
} res_file;
/* Read DIR/results.h5 (and DIR/timings.h5 when present). */
ub_status res_load(const char *dir, res_file *f, ub_err *e);
void res_free(res_file *f);
/* Index of the model / metric called name, or -1. */
int res_model(const res_file *f, const char *name);
int res_metric(const res_file *f, const char *name);
/* Metric k of model m in seed s. */
static inline double res_value(const res_file *f, int s, int m, int k) {
    return f->x[((size_t)s * f->M + m) * f->K + k];
}
/* Metric k of model m in bootstrap replicate b of seed s (needs f->B > 0). */
static inline double res_boot(const res_file *f, int s, int b, int m, int k) {
    return f->boot[(((size_t)s * f->B + b) * f->M + m) * f->K + k];
}

/* ---- merging one-seed files (a grid's tasks, a run's finished seeds) ---- */
/* Merge DIR/seed_<s>/{results,timings}.h5 of the given seeds into OUT/results.h5 and
 * OUT/timings.h5, under the configuration text config. */
ub_status res_merge(const char *dir, const char *out, const int64_t *seeds, int n_seeds,
                    const char *config, ub_err *e);

/* ---- the manifest (results/manifest.c): DIR/manifest.json (bench/FORMAT.md) ---- */
typedef struct res_manifest_info {
    const char *command;   /* the command line as run */
    const char *binary;    /* the binary's path (/proc/self/exe) */
    const char *corpus;    /* the corpus file read (in DIR, or absolute) */
    const char *cache_dir; /* the model cache: every checkpoint in it is listed */
    int threads;
    const int64_t *seeds;
    int n_seeds;
    time_t start, end;     /* wall clock */
} res_manifest_info;
/* Hash results.h5, timings.h5, config.ini, report.md, the corpus, plots/ and the model cache
 * (paths inside DIR relative to it, others absolute) into DIR/manifest.json, atomically. */
ub_status res_manifest_write(const char *dir, const res_manifest_info *m, ub_err *e);

enum { RES_MANIFEST_MAX_SEEDS = 1024 };
typedef struct res_manifest_item {
    char path[4096]; /* as recorded: relative to DIR, or absolute */
    char sha256[65];
    int64_t bytes;
} res_manifest_item;
typedef struct res_manifest {
    res_manifest_item binary;
    int threads, n_seeds;
    int64_t seeds[RES_MANIFEST_MAX_SEEDS];
    res_manifest_item *items;
    size_t n;
} res_manifest;
ub_status res_manifest_read(const char *dir, res_manifest *m, ub_err *e);
/* The regular files of dir (not recursive, no *.tmp), sorted by name, whose names end in one of
 * exts (a NULL-terminated list; NULL: any); *n their number; NULL with *n = 0 when dir does not
 * exist. Free with res_list_free. */
char **res_list_dir(const char *dir, const char *const *exts, size_t *n);
void res_list_free(char **v, size_t n);
void res_manifest_free(res_manifest *m);

/* ---- comparing two results.h5 (results/compare.c) ---- */
/* Is seed s's evidence in file b the same as in a: every dataset and attribute under /seed_<s>
 * byte for byte (names, types, shapes, values), and s's rows of `metrics` (a's row of s against
 * b's row of s; model and metric names must match)? *n_diff counts the differences; the first
 * few are described in diff (cap bytes, one per line). */
ub_status res_compare_seed(const char *a, const char *b, int64_t s, int *n_diff, char *diff,
                           size_t cap, ub_err *e);
/* The same seed's metrics within tolerances (another binary or thread count: bytes may
 * differ): a bounded metric within tol_range x its range's width, an unbounded one within
 * tol_rel x the larger magnitude (NaN equals NaN). */
ub_status res_compare_metrics(const char *a, const char *b, int64_t s, double tol_range,
                              double tol_rel, int *n_diff, char *diff, size_t cap, ub_err *e);

#endif

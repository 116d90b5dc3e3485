/* bench/cli/cmd_run.c: `unlearnbench run`, `unlearnbench sweep` and `unlearnbench report`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "results.h"
#include "run.h"

static void build_usage(char *u, size_t cap) {
    size_t n = (size_t)snprintf(
        u, cap,
        "run [--preset quick|paper] [--corpus FILE.h5] [--forget-users N | --forget-frac F]\n"
        "    [--forget-rule R] [--methods LIST] [--seeds N] [--threads N] [--out DIR] [options]\n\n"
        "The benchmark: for each seed, split the corpus (policy, non-members, forget set F),\n"
        "train `original` (all members) and `retrain` (without F) with the same seed and\n"
        "schedule (cached by content hash in DIR/models/), continue training original without F\n"
        "(`continued_N`), apply every unlearning method to original, score every model on F's\n"
        "posts, retained posts, non-members' posts, fresh posts and F's planted secrets, and\n"
        "write DIR/results.h5 (bench/FORMAT.md), DIR/timings.h5 and DIR/report.md. Without\n"
        "--corpus a corpus is generated into DIR/corpus.h5. With no options: the quick preset.\n\n"
        "methods (--methods all, none, or a comma list; hyperparameters:\n"
        "bench/unlearn/methods/README.md):\n");
    for (int i = 0; i < ul_n_methods && n < cap; i++)
        n += (size_t)snprintf(u + n, cap - n, "  %-20s %s\n", ul_methods[i]->name,
                              ul_methods[i]->summary);
    if (n < cap) n += (size_t)snprintf(u + n, cap - n, "\nmetrics (per seed and model):\n");
    for (int k = 0; k < ev_n_metrics && n < cap; k++)
        n += (size_t)snprintf(u + n, cap - n, "  %-24s %s\n", ev_metrics[k].name,
                              ev_metrics[k].doc);
}

/* Plots (optional: the benchmark never needs Python, the figures do) and report.md of a run
 * directory. */
static int plots_and_report(const char *dir, int quiet, int no_plots, int sweep) {
    char cmd[8400];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import h5py, matplotlib' >/dev/null 2>&1 && "
             "/usr/bin/python3 '%s/plots.py' '%s' >/dev/null 2>&1",
             ub_scripts_dir(), dir);
    int plots = !no_plots && system(cmd) == 0;
    if (!quiet && !no_plots)
        fprintf(stderr, plots ? "plots in %s/plots/\n"
                              : "no plots (needs /usr/bin/python3 with h5py and matplotlib: "
                                "scripts/plots.py %s)\n",
                dir);
    if (sweep) return 0; /* sweep.md is written with sweep.h5 */
    ub_err e = {0};
    if (ub_run_report(dir, &e)) return ub_report(&e);
    if (!quiet) fprintf(stderr, "report: %s/report.md\n", dir);
    return 0;
}

/* Progress on stderr: the run's lines, and a progress bar per trained model. */
typedef struct cli_observer {
    ub_run_observer o;
    ub_progress p;
    char label[80];
} cli_observer;
static void obs_line(void *ctx, const char *text) { fprintf(stderr, "%s\n", text); }
static void obs_begin(void *ctx, const char *label, long steps) {
    cli_observer *c = ctx;
    snprintf(c->label, sizeof c->label, "%s", label);
    ub_progress_init(&c->p, c->label, 0, steps);
}
static int obs_step(void *ctx, long step, long steps, float loss, double gn, double lr,
                    double tps) {
    ub_progress_step(&((cli_observer *)ctx)->p, step, steps, loss, tps);
    return 0;
}
static void obs_end(void *ctx) { ub_progress_done(&((cli_observer *)ctx)->p); }
static const ub_run_observer *cli_observer_init(cli_observer *c) {
    c->o = (ub_run_observer){{obs_line, c}, obs_begin, obs_step, obs_end, c};
    return &c->o;
}

static const char sweep_usage[] =
    "sweep [--preset quick|paper] [--methods LIST] [--val-seeds N] [--val-seed S] [--max-ppl X]\n"
    "      [--auc-tol D] [run's corpus, recipe and scenario options] [--out DIR]\n\n"
    "Each approximate method's budget, chosen without the test set: on validation seeds S, S+1,\n"
    "... (never the run's own seeds --seed .. --seed + --seeds - 1), whose splits leave out\n"
    "every user of those seeds' forget sets, the recipe trains original and retrain, and every\n"
    "setting of each method's grid (bench/unlearn/methods/README.md) is applied to original and\n"
    "scored: LOSS-attack AUC on the validation F, perplexity on retained posts. Rule: among the\n"
    "settings within --max-ppl x the original's perplexity, the cheapest whose AUC is within\n"
    "--auc-tol of the closest to retrain's (closer settings that cost more show no evidence of\n"
    "forgetting better at the validation's resolution).\n"
    "Writes DIR/sweep.h5 (bench/FORMAT.md), DIR/sweep.md, DIR/selected.txt (--method-params)\n"
    "and DIR/plots/sweep.png. A preset ships the selection for its corpus and recipe.\n";

/* DIR/manifest.json (results/manifest.c): what a regulator re-checks with `verify`. */
static int write_manifest(const ub_run_cfg *c, const kn_tune *tune, int argc, char **argv,
                          time_t t0) {
    char cmd[8192], bin[4096], corpus[4200], cache[4200];
    ub_cli_command_line(argc, argv, cmd, sizeof cmd);
    ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
    bin[n > 0 ? n : 0] = '\0';
    if (c->source.corpus) snprintf(corpus, sizeof corpus, "%s", c->source.corpus);
    else snprintf(corpus, sizeof corpus, "%s/corpus.h5", c->out_dir);
    if (c->cache_dir) snprintf(cache, sizeof cache, "%s", c->cache_dir);
    else snprintf(cache, sizeof cache, "%s/models", c->out_dir);
    int64_t *seeds = calloc((size_t)c->seeds + 1, sizeof *seeds);
    if (!seeds) return UB_EXIT_FAIL;
    for (int i = 0; i < c->seeds; i++) seeds[i] = (int64_t)(c->seed0 + (uint64_t)i);
    res_manifest_info m = {cmd, bin, corpus, cache, kn_tune_threads(tune), seeds, c->seeds, t0,
                           time(NULL)};
    ub_err e = {0};
    ub_status st = res_manifest_write(c->out_dir, &m, &e);
    free(seeds);
    return st ? ub_report(&e) : 0;
}

/* `run` (sweep 0) and `sweep` (1): one set of options, the run's. */
/* --dry-run: every check a run makes before its first step, then the configuration as text. */
static int check_only(const ub_run_cfg *c) {
    ub_err e = {0};
    const ul_method *ms[64];
    int nm = 0;
    ub_grid_size sz[UB_GRID_MAX];
    if (ub_run_check(c, &e)) return ub_report(&e);
    if (ul_n_methods > 63) return UB_EXIT_FAIL;
    if (ul_select(c->methods, ms, &nm, &e)) return ub_report(&e);
    if (c->grid.forget_sizes && ub_grid_parse(c->grid.forget_sizes, sz, UB_GRID_MAX, &e) < 0)
        return ub_report(&e);
    char cs[4096];
    ub_run_cfg_string(c, cs, sizeof cs);
    fputs(cs, stdout);
    return UB_EXIT_OK;
}

static int run_or_sweep(int argc, char **argv, int sweep) {
    time_t t0 = time(NULL);
    const char *preset = "quick";
    /* the preset must be known before the other defaults: look for it first */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--preset")) preset = argv[i + 1];
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--preset=", 9)) preset = argv[i] + 9;
    ub_err e = {0};
    ub_run_cfg c;
    if (ub_run_defaults(&c, preset, &e)) return ub_report(&e);
    const char *preset_opt = c.preset, *config = NULL;
    /* the preset's method settings (chosen by a sweep): a user's --method-params go on top */
    const char *shipped = c.method_params;
    if (sweep) c.method_params = NULL; /* a sweep starts from the methods' own defaults */
    ub_sweep_cfg sw = {2, 1001, 1.10, 0.05};
    int no_plots = 0, quiet = 0, dry_run = 0;
    ub_opt opts[] = {
        {"preset", OPT_STR, &preset_opt, "P", "quick (default) or paper"},
        {"corpus", OPT_STR, &c.source.corpus, "FILE", "corpus file (generated or imported)"},
        {"profile", OPT_STR, &c.source.gen_profile, "P", "generator profile without --corpus"},
        {"corpus-seed", OPT_U64, &c.source.corpus_seed, "S", "generator seed without --corpus (1)"},
        {"forget-rule", OPT_STR, &c.scenario.forget_rule, "R", "random, heavy, secrets, sensitive, objected"},
        {"forget-users", OPT_LONG, &c.scenario.forget_users, "N", "users in F"},
        {"forget-frac", OPT_DOUBLE, &c.scenario.forget_frac, "F", "share of members in F (0.1)"},
        {"forget-sizes", OPT_STR, &c.grid.forget_sizes, "LIST",
         "a grid of sizes of F, e.g. \"1,1%,5%,10%\" (paper preset): one run per size in "
         "DIR/<size>/, and DIR/grid.md"},
        {"task-index", OPT_INT, &c.grid.task_index, "I",
         "grid: run tasks I, I+N, ... of the grid only (Slurm arrays; mpirun sets it)"},
        {"task-count", OPT_INT, &c.grid.task_count, "N",
         "grid: processes sharing the tasks; re-run without it to merge"},
        {"nonmember-frac", OPT_DOUBLE, &c.scenario.nonmember_frac, "F", "share of users held out (quick 0.6, paper 0.2)"},
        {"all-posts", OPT_FLAG, &c.scenario.all_posts, NULL, "no policy: every corpus-proper post counts"},
        {"post-format", OPT_STR, &c.scenario.post_format, "F",
         "author: posts as \"HANDLE: text\" (default; knowledge probes need it), text: alone"},
        {"methods", OPT_STR, &c.methods, "LIST", "approximate methods: all, none, or a,b,c"},
        {"method-params", OPT_LIST, &c.method_params, "SPEC",
         "hyperparameters, e.g. \"npo:steps=20,lr=1e-4;kl:steps=10\" (may be repeated)"},
        {"seeds", OPT_INT, &c.seeds, "N", "repetitions (quick 5, paper 5)"},
        {"seed", OPT_U64, &c.seed0, "S", "first seed (1)"},
        {"split-seed", OPT_U64, &c.scenario.split_seed, "S",
         "one split (F, non-members) for every seed: seeds then vary the training only"},
        {"threads", OPT_INT, &c.threads, "N", "threads (default: UB_THREADS, else all cores)"},
        {"tune", OPT_STR, &c.tune, "K=V,...", UB_TUNE_HELP},
        {"out", OPT_STR, &c.out_dir, "DIR", "output directory (unlearnbench-out)"},
        {"cache", OPT_STR, &c.cache_dir, "DIR",
         "trained models by content hash (default DIR/models; `verify --use-cache` shares one)"},
        {"model", OPT_STR, &c.train.model, "P", "model preset (quick: tiny)"},
        {"steps", OPT_LONG, &c.train.steps, "N", "training steps of original and retrain"},
        {"batch", OPT_INT, &c.train.batch, "B", "windows per step"},
        {"lr", OPT_DOUBLE, &c.train.lr, "X", "peak learning rate"},
        {"min-lr", OPT_DOUBLE, &c.train.min_lr, "X", "final learning rate"},
        {"continued-steps", OPT_LONG, &c.train.continued_steps, "N",
         "budget of continued (quick 200, paper 4000: the original's own)"},
        {"continued-points", OPT_INT, &c.train.continued_points, "P",
         "continued is scored after budget/2^(P-1), ..., budget/2, budget steps (quick 3, "
         "paper 7)"},
        {"sisa-shards", OPT_INT, &c.sisa.shards, "S", "SISA shards (4)"},
        {"sisa-slices", OPT_INT, &c.sisa.slices, "R", "SISA slices per shard (4)"},
        {"sisa-check", OPT_FLAG, &c.sisa.check, NULL,
         "verify: SISA after deletion == SISA trained without F"},
        {"eval-posts", OPT_INT, &c.scenario.eval_posts, "N",
         "cap on scored retained posts and non-members' fresh posts (quick 100)"},
        {"nonmember-posts", OPT_INT, &c.scenario.nonmember_posts, "N",
         "cap on scored non-member posts (quick 500; default: --eval-posts when that is given)"},
        {"candidates", OPT_INT, &c.scenario.candidates, "N", "sampled candidates per secret (exposure)"},
        {"mink-k", OPT_DOUBLE, &c.score.mink_k, "K", "k of Min-K% and Min-K%++ (0.2)"},
        {"beam-width", OPT_INT, &c.score.beam_width, "W", "beam search width of the extraction attack (5)"},
        {"enum-budget", OPT_LONG, &c.score.enum_budget, "N",
         "exact-rank search of secrets with <= 1e7 values: forward rows per secret before it "
         "keeps the sampled rank (1536; 0: off)"},
        {"quantize", OPT_STR, &c.quantize, "BITS",
         "quantization attack: score original, retrain and every method rounded to these "
         "widths too, e.g. 8,4 (models NAME@q8, NAME@q4; off by default)"},
        {"relearn", OPT_STR, &c.relearn, "STEPS",
         "relearning attack: fine-tune original, retrain and every method this many steps on "
         "F's users' fresh posts and score them too, e.g. 5,20 (models NAME@rl5, NAME@rl20; "
         "off by default, paper 5,20)"},
        {"chain", OPT_INT, &c.chain, "K",
         "chained deletion requests: F's users arrive as K requests (by objection date, else "
         "seeded); every method starts each from its own previous output, SISA deletes each "
         "from refreshed checkpoints; the state after each request is measured (off by "
         "default, paper 5)"},
        {"shadows", OPT_INT, &c.score.shadows, "K",
         "LiRA: K shadow models, each on a share of the users the policy admits (the members' "
         "share), trained once per corpus and recipe and scored in every seed (quick 8, paper "
         "64; 0: no LiRA rows)"},
        {"ulira", OPT_FLAG, &c.score.ulira, NULL,
         "U-LiRA and per-user epsilon: apply every method to every shadow model, its own F "
         "users as the forget set (needs --shadows; paper preset: on)"},
        {"bootstrap", OPT_INT, &c.score.boot, "B",
         "user-bootstrap replicates per seed behind the report's intervals (200; 0: over seeds only)"},
        {"quiet", OPT_FLAG, &quiet, NULL, "no progress output"},
        {"no-plots", OPT_FLAG, &no_plots, NULL, "skip the plots (scripts/plots.py DIR draws them later)"},
        {"config", OPT_STR, &config, "FILE", "read options from an INI file"},
        {"dry-run", OPT_FLAG, &dry_run, NULL,
         "check the options (and the config file) as a run would, print the configuration it "
         "would run, and exit"},
        {"val-seeds", OPT_INT, &sw.val_seeds, "N", "validation seeds (2)"},
        {"val-seed", OPT_U64, &sw.val_seed0, "S", "the first validation seed (1001)"},
        {"max-ppl", OPT_DOUBLE, &sw.max_ppl, "X",
         "the rule's utility bound: retained perplexity <= X times the original's (1.10)"},
        {"auc-tol", OPT_DOUBLE, &sw.auc_tol, "D",
         "the rule's ties: settings whose AUC is within D of the closest to retrain's count as "
         "equally close, and the cheapest of them is chosen (0.05)"},
        {0}};
    if (!sweep) /* the sweep's own options end the table */
        memset(&opts[sizeof opts / sizeof opts[0] - 5], 0, sizeof opts[0]);
    static char usage[16384];
    if (sweep) snprintf(usage, sizeof usage, "%s", sweep_usage);
    else build_usage(usage, sizeof usage);
    int rc = ub_opts_parse(sweep ? "sweep" : "run", usage, opts, argc, argv, NULL, 0, NULL);
    if (rc >= 0) return rc;
    char joined[8192], canon[8192];
    if (!sweep && shipped && c.method_params != shipped) {
        snprintf(joined, sizeof joined, "%s;%s", shipped, c.method_params);
        c.method_params = joined;
    }
    /* one canonical text: a config read back (shipped settings and all) gives the same run */
    if (c.method_params) {
        if (ul_params_canonical(c.method_params, canon, sizeof canon, &e)) return ub_report(&e);
        c.method_params = canon;
    }
    if (strcmp(preset_opt, c.preset)) { /* given in a config file only */
        fprintf(stderr, "unlearnbench run: give --preset on the command line\n");
        return UB_EXIT_USAGE;
    }
    int one_size = ub_opt_given(opts, "forget-frac") || ub_opt_given(opts, "forget-users");
    if (ub_opt_given(opts, "forget-frac") && ub_opt_given(opts, "forget-users")) {
        fprintf(stderr, "unlearnbench run: --forget-users and --forget-frac exclude each other\n");
        return UB_EXIT_USAGE;
    }
    if (one_size && ub_opt_given(opts, "forget-sizes")) {
        fprintf(stderr, "unlearnbench run: --forget-sizes and --forget-users/--forget-frac "
                        "exclude each other\n");
        return UB_EXIT_USAGE;
    }
    /* --eval-posts alone caps the non-members too, as it did before they had their own cap */
    if (ub_opt_given(opts, "eval-posts") && !ub_opt_given(opts, "nonmember-posts"))
        c.scenario.nonmember_posts = c.scenario.eval_posts;
    if (one_size) c.grid.forget_sizes = NULL; /* one size given: not the preset's grid */
    kn_tune tune;
    if ((rc = ub_cli_tune(&tune, c.threads, c.tune))) return rc;
    if (dry_run) return check_only(&c);
    cli_observer ob;
    const ub_run_observer *obs = quiet ? NULL : cli_observer_init(&ob);
    if (sweep) {
        if (ub_sweep(&c, &sw, &tune, obs, &e)) return ub_report(&e);
        return plots_and_report(c.out_dir, quiet, no_plots, 1);
    }
    int grid = c.grid.forget_sizes || c.grid.task_count > 1 || getenv("OMPI_COMM_WORLD_SIZE");
    if (!grid) {
        if (ub_run(&c, &tune, obs, &e)) return ub_report(&e);
        int rc2 = plots_and_report(c.out_dir, quiet, no_plots, 0);
        if (!rc2) rc2 = write_manifest(&c, &tune, argc, argv, t0);
        if (!rc2 && !quiet) fprintf(stderr, "manifest: %s/manifest.json\n", c.out_dir);
        return rc2;
    }
    if (!c.grid.forget_sizes) { /* distributed seeds of one size */
        static char one[64];
        if (c.scenario.forget_users > 0) snprintf(one, sizeof one, "%ld", c.scenario.forget_users);
        else snprintf(one, sizeof one, "%.17g", c.scenario.forget_frac);
        c.grid.forget_sizes = one;
    }
    int merged = 0;
    if (ub_grid(&c, &tune, obs, &merged, &e)) return ub_report(&e);
    if (!merged) return 0; /* another process (MPI rank 0, or a final run) merges */
    ub_grid_size sz[UB_GRID_MAX];
    const char *labels[UB_GRID_MAX];
    int ns = ub_grid_parse(c.grid.forget_sizes, sz, UB_GRID_MAX, &e);
    for (int i = 0; i < ns; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", c.out_dir, sz[i].label);
        labels[i] = sz[i].label;
        int rc2 = plots_and_report(dir, quiet, no_plots, 0);
        if (rc2) return rc2;
    }
    if (ub_grid_report(c.out_dir, c.grid.forget_sizes, labels, ns, &e)) return ub_report(&e);
    if (!quiet) fprintf(stderr, "grid: %s/grid.md\n", c.out_dir);
    return 0;
}

int ub_cmd_run(int argc, char **argv) { return run_or_sweep(argc, argv, 0); }
int ub_cmd_sweep(int argc, char **argv) { return run_or_sweep(argc, argv, 1); }

int ub_cmd_report(int argc, char **argv) {
    static const char usage[] = "report DIR\n\nRegenerate DIR/report.md from DIR/results.h5 "
                                "(and DIR/timings.h5 when present).\n";
    const char *pos[1] = {0};
    int npos = 0;
    ub_opt opts[] = {{0}};
    int rc = ub_opts_parse("report", usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1) {
        fprintf(stderr, "unlearnbench report: need the run's directory\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    if (ub_run_report(pos[0], &e)) return ub_report(&e);
    printf("wrote %s/report.md\n", pos[0]);
    return 0;
}

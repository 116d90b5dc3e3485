/* bench/cli/cli.c: `unlearnbench <command>`, git-style. */
#include <stdio.h>
#include <string.h>

#include "perf.h"
#include "cli.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} ub_command;

static const ub_command commands[] = {
    {"run", ub_cmd_run, "the benchmark: train, delete, unlearn, measure (default: quick preset)"},
    {"sweep", ub_cmd_sweep, "choose each method's budget on validation users (not the test F)"},
    {"verify", ub_cmd_verify, "re-check a run: every file's SHA-256, one seed re-run to the byte"},
    {"report", ub_cmd_report, "regenerate a run's report.md from its results.h5"},
    {"corpus", ub_cmd_corpus, "generate, import, inspect a social-media corpus (HDF5)"},
    {"train", ub_cmd_train, "train a GPT-2-style model on a token file, resumable"},
    {"score", ub_cmd_score, "per-token losses of a checkpoint on a token file"},
    {"tokens", ub_cmd_tokens, "turn a text file into a token file (bytes, vocab 256)"},
    {"bench", ub_cmd_bench, "measure speed: `bench kernels`, `bench train`, `bench corpus`"},
    {0}};

static void usage(FILE *f) {
    fprintf(f, "usage: unlearnbench <command> [options]\n\n"
               "Measures how much of deleted users' data stays in a trained language model.\n\n"
               "commands:\n");
    for (const ub_command *c = commands; c->name; c++) fprintf(f, "  %-8s %s\n", c->name, c->summary);
    fprintf(f, "  %-8s %s\n  %-8s %s\n\n"
               "`unlearnbench <command> --help` describes each command's options.\n",
            "help", "this text, or `help <command>`", "version", "print the version");
}

static const char bench_usage[] =
    "usage: unlearnbench bench <kernels|train|corpus> [options]\n\n"
    "  kernels  GFLOP/s of every kernel at the presets' shapes, next to this machine's sgemm\n"
    "  train    training tokens/s and achieved GFLOP/s per preset (--vs-torch: PyTorch too)\n"
    "  corpus   corpus generation posts/s, BPE training and encoding MB/s\n";

int ub_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(bench_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? UB_EXIT_USAGE : UB_EXIT_OK;
    }
    if (!strcmp(argv[1], "kernels")) return ub_cmd_bench_kernels(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return ub_cmd_bench_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "corpus")) return ub_cmd_bench_corpus(argc - 1, argv + 1);
    fprintf(stderr, "unlearnbench bench: unknown benchmark '%s' (kernels, train, corpus)\n", argv[1]);
    return UB_EXIT_USAGE;
}

int ub_cli_main(int argc, char **argv) {
    ub_h5_quiet();
    if (argc < 2) {
        fprintf(stderr, "unlearnbench: no command given (usage: unlearnbench <command>; see "
                        "`unlearnbench help`)\n");
        return UB_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        if (argc > 2) {
            for (const ub_command *c = commands; c->name; c++)
                if (!strcmp(c->name, argv[2])) {
                    char *args[] = {argv[2], "--help", NULL};
                    return c->fn(2, args);
                }
            fprintf(stderr, "unlearnbench: unknown command '%s'\n", argv[2]);
            return UB_EXIT_USAGE;
        }
        usage(stdout);
        return UB_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("unlearnbench %s\n", UB_VERSION);
        return UB_EXIT_OK;
    }
    for (const ub_command *c = commands; c->name; c++)
        if (!strcmp(c->name, cmd)) return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "unlearnbench: unknown command '%s' (see `unlearnbench help`)\n", cmd);
    return UB_EXIT_USAGE;
}

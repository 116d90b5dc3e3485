/* bench/cli/cli.h: the `unlearnbench` command line: subcommands and the option parser they share.
 * Only this layer prints messages and chooses exit codes; libraries return ub_status. */
#ifndef UB_CLI_H
#define UB_CLI_H

#include "kernels.h"
#include "ub.h"

/* Exit codes: 0 success, 1 failure while working (bad input file, I/O, diverged training),
 * 2 bad usage (unknown option or command, malformed config). */
enum { UB_EXIT_OK = 0, UB_EXIT_FAIL = 1, UB_EXIT_USAGE = 2 };

/* OPT_LIST: a string that may be given several times (in a config file, or on the command line,
 * which replaces the file's): the values are joined with ';'. */
typedef enum { OPT_INT, OPT_LONG, OPT_U64, OPT_DOUBLE, OPT_STR, OPT_FLAG, OPT_LIST } ub_opt_type;
typedef struct ub_opt {
    const char *name;    /* long option without dashes, e.g. "steps"; also the config-file key */
    ub_opt_type type;
    void *ptr;           /* int*, long*, uint64_t*, double*, const char**, int* (flag) */
    const char *metavar; /* "N", "FILE", ...; NULL for flags */
    const char *help;
    int set;             /* filled in: 1 if given in the config file, 2 on the command line */
} ub_opt;

/* Parse argv[1..] (argv[0] is the command name). Options "--name value" or "--name=value";
 * "--config FILE" (if an option named "config" is in the table) reads an INI file whose keys
 * are option names ('_' or '-'), sections ignored; command-line values override it.
 * Positional arguments go to pos[0..max_pos). Returns -1 to proceed, or an exit code to return
 * now (0 after --help, 2 after a usage error, whose one-line message is already printed). */
int ub_opts_parse(const char *cmd, const char *usage, ub_opt *opts, int argc, char **argv,
                  const char **pos, int max_pos, int *npos);
/* Did the user give option `name`? */
int ub_opt_given(const ub_opt *opts, const char *name);
/* Print "unlearnbench: <msg>" on one line to stderr and return UB_EXIT_FAIL (or USAGE for
 * UB_EARG). */
int ub_report(const ub_err *e);
/* The defaults, then --tune "key=value,..." (kn_tune fields, kernels/tune.c), then --threads N
 * (0 keeps the default); validated and applied. Prints one line and returns 2 on a bad value. */
int ub_cli_tune(kn_tune *t, int threads, const char *spec);
#define UB_TUNE_HELP "kernel tunables, e.g. pass_rows=512,gemm=blas (kernels/tune.c)"
/* "unlearnbench" and argv[0..argc) as one shell line (arguments quoted where they need it). */
void ub_cli_command_line(int argc, char **argv, char *out, size_t cap);
/* Directory of scripts/ (env UB_SCRIPTS, else the source tree this binary was built from). */
const char *ub_scripts_dir(void);

/* Progress display: a redrawn bar on a TTY, plain lines (every `every` steps) otherwise. */
typedef struct ub_progress {
    const char *label;
    double t_start;
    long every;
    int tty;
    long first_step; /* step at start (resume): ETA counts only steps run here */
} ub_progress;
void ub_progress_init(ub_progress *p, const char *label, long first_step, long steps);
void ub_progress_step(ub_progress *p, long step, long steps, float loss, double tokens_per_s);
void ub_progress_done(ub_progress *p);

/* The whole command line: argv[1] is the command (cli.c); main() calls it, and so do the fuzz
 * targets of the configuration reader (tests/fuzz/). */
int ub_cli_main(int argc, char **argv);
int ub_cmd_train(int argc, char **argv);
int ub_cmd_score(int argc, char **argv);
int ub_cmd_tokens(int argc, char **argv);
int ub_cmd_bench(int argc, char **argv);
int ub_cmd_bench_train(int argc, char **argv);
int ub_cmd_corpus(int argc, char **argv);
int ub_cmd_run(int argc, char **argv);
int ub_cmd_sweep(int argc, char **argv);
int ub_cmd_verify(int argc, char **argv);
int ub_cmd_report(int argc, char **argv);

#endif

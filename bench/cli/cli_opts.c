/* bench/cli/cli_opts.c: option parsing, config files, progress display, shared CLI helpers. */
#include "cli.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef UB_SOURCE_DIR
#define UB_SOURCE_DIR "."
#endif

static ub_opt *find_opt(ub_opt *opts, const char *name, size_t len) {
    for (ub_opt *o = opts; o->name; o++) {
        if (strlen(o->name) != len) continue;
        size_t i = 0;
        for (; i < len; i++) { /* '-' and '_' are the same in option names */
            char a = o->name[i] == '_' ? '-' : o->name[i];
            char b = name[i] == '_' ? '-' : name[i];
            if (a != b) break;
        }
        if (i == len) return o;
    }
    return NULL;
}

/* Store a textual value; returns 0 or -1 with msg set. */
/* Joined OPT_LIST values, kept until exit like the config file's strings. */
static char *joined[64];
static int n_joined;

/* origin: 1 config file, 2 command line */
static int set_value(ub_opt *o, const char *v, char *msg, size_t mlen, int origin) {
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case OPT_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < -2147483647L || x > 2147483647L) goto bad;
        *(int *)o->ptr = (int)x;
        break;
    }
    case OPT_LONG: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end) goto bad;
        *(long *)o->ptr = x;
        break;
    }
    case OPT_U64: {
        if (*v == '-') goto bad;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end) goto bad;
        *(uint64_t *)o->ptr = (uint64_t)x;
        break;
    }
    case OPT_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || end == v || *end) goto bad;
        *(double *)o->ptr = x;
        break;
    }
    case OPT_STR:
        *(const char **)o->ptr = v;
        break;
    case OPT_LIST:
        if (o->set == origin && *(const char **)o->ptr) { /* again from the same source: join */
            const char *old = *(const char **)o->ptr;
            size_t n = strlen(old) + strlen(v) + 2;
            char *j = n_joined < 64 ? malloc(n) : NULL;
            if (!j) {
                snprintf(msg, mlen, "--%s: too many values", o->name);
                return -1;
            }
            snprintf(j, n, "%s;%s", old, v);
            joined[n_joined++] = j;
            *(const char **)o->ptr = j;
        } else {
            *(const char **)o->ptr = v;
        }
        break;
    case OPT_FLAG:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) *(int *)o->ptr = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) *(int *)o->ptr = 0;
        else goto bad;
        break;
    }
    o->set = origin;
    return 0;
bad:
    snprintf(msg, mlen, "bad value '%s' for %s (expected %s)", v, o->name,
             o->type == OPT_DOUBLE ? "a number" : o->type == OPT_FLAG ? "true or false"
                                                                   : "an integer");
    return -1;
}

static void print_help(const char *cmd, const char *usage, const ub_opt *opts) {
    printf("usage: unlearnbench %s\n\n%s\noptions:\n", cmd, usage);
    for (const ub_opt *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "--help", "show this help");
}

typedef struct ini_ctx {
    ub_opt *opts;
    const char *file;
    char msg[512];
    int line;
    char *strings[256]; /* config values that string options point to (kept until exit) */
    int nstrings;
} ini_ctx;

static int ini_cb(void *user, const char *section, const char *name, const char *value
#if INI_HANDLER_LINENO
                  , int lineno
#endif
) {
    ini_ctx *c = user;
    (void)section;
    if (c->msg[0]) return 0;
    ub_opt *o = find_opt(c->opts, name, strlen(name));
    if (!o || !strcmp(o->name, "config")) {
        snprintf(c->msg, sizeof c->msg, "unknown key '%s'", name);
        return 0;
    }
    const char *v = value;
    if (o->type == OPT_STR || o->type == OPT_LIST) {
        if (c->nstrings == 256) {
            snprintf(c->msg, sizeof c->msg, "too many string values");
            return 0;
        }
        v = c->strings[c->nstrings++] = strdup(value);
    }
    return set_value(o, v, c->msg, sizeof c->msg, 1) == 0;
}

int ub_opts_parse(const char *cmd, const char *usage, ub_opt *opts, int argc, char **argv,
                  const char **pos, int max_pos, int *npos) {
    int np = 0;
    char msg[512] = "";
    for (ub_opt *o = opts; o->name; o++) o->set = 0;
    /* The config file first, so that the command line overrides it. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help(cmd, usage, opts);
            return UB_EXIT_OK;
        }
        const char *cfg = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc) cfg = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9)) cfg = argv[i] + 9;
        if (!cfg || !find_opt(opts, "config", 6)) continue;
        static ini_ctx c; /* string values must outlive parsing */
        for (int k = 0; k < c.nstrings; k++) free(c.strings[k]); /* an earlier parse's, in
                                                                    * one process (fuzzing) */
        memset(&c, 0, sizeof c);
        c.opts = opts;
        c.file = cfg;
        /* inih reads at most INI_MAX_LINE bytes of a line and drops the rest silently: refuse
         * such a line instead of running with half a value */
        FILE *f = fopen(cfg, "r");
        if (f) {
            char line[INI_MAX_LINE + 2];
            int ln = 0, longl = 0;
            while (!longl && fgets(line, sizeof line, f)) {
                ln++;
                size_t n = strlen(line);
                longl = n >= INI_MAX_LINE - 1 && line[n - 1] != '\n';
            }
            fclose(f);
            if (longl) {
                fprintf(stderr, "unlearnbench %s: %s:%d: line longer than %d bytes; give a long "
                        "list as several lines of the same key\n", cmd, cfg, ln, INI_MAX_LINE - 2);
                return UB_EXIT_USAGE;
            }
        }
        int rc = ini_parse(cfg, ini_cb, &c);
        if (rc == -1) {
            fprintf(stderr, "unlearnbench %s: %s: %s\n", cmd, cfg, strerror(errno));
            return UB_EXIT_USAGE;
        }
        if (rc != 0) {
            fprintf(stderr, "unlearnbench %s: %s:%d: %s\n", cmd, cfg, rc,
                    c.msg[0] ? c.msg : "malformed line");
            return UB_EXIT_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (np == max_pos) {
                fprintf(stderr, "unlearnbench %s: unexpected argument '%s' (see --help)\n", cmd, a);
                return UB_EXIT_USAGE;
            }
            pos[np++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        ub_opt *o = find_opt(opts, name, len);
        if (!o) {
            fprintf(stderr, "unlearnbench %s: unknown option '%.*s' (see --help)\n", cmd,
                    (int)(len + 2), a);
            return UB_EXIT_USAGE;
        }
        const char *v;
        if (o->type == OPT_FLAG && !eq) {
            v = "1";
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "unlearnbench %s: option --%s needs a value\n", cmd, o->name);
            return UB_EXIT_USAGE;
        }
        if (set_value(o, v, msg, sizeof msg, 2)) {
            fprintf(stderr, "unlearnbench %s: %s\n", cmd, msg);
            return UB_EXIT_USAGE;
        }
    }
    if (npos) *npos = np;
    return -1; /* proceed */
}

int ub_opt_given(const ub_opt *opts, const char *name) {
    for (const ub_opt *o = opts; o->name; o++)
        if (!strcmp(o->name, name)) return o->set;
    return 0;
}

int ub_report(const ub_err *e) {
    fprintf(stderr, "unlearnbench: %s\n", e->msg[0] ? e->msg : ub_status_str(e->code));
    return e->code == UB_EARG ? UB_EXIT_USAGE : UB_EXIT_FAIL;
}

/* "key=value,key=value" over the kn_tune fields (kernels/tune.c documents each). */
static int apply_tune_spec(kn_tune *t, const char *spec) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            fprintf(stderr, "unlearnbench: --tune: '%s' is not key=value\n", tok);
            return -1;
        }
        *eq = '\0';
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "gemm")) {
            if (!strcmp(v, "panels")) t->gemm = KN_GEMM_OMP_PANELS;
            else if (!strcmp(v, "blas")) t->gemm = KN_GEMM_BLAS_THREADS;
            else {
                fprintf(stderr, "unlearnbench: --tune: gemm must be panels or blas, not '%s'\n", v);
                return -1;
            }
            continue;
        }
        int *field = !strcmp(k, "threads")         ? &t->threads
                     : !strcmp(k, "gemm_min_rows") ? &t->gemm_min_rows
                     : !strcmp(k, "attn_ts")       ? &t->attn_ts
                     : !strcmp(k, "par_min")       ? &t->par_min
                     : !strcmp(k, "pass_rows")     ? &t->pass_rows
                     : !strcmp(k, "replicas")      ? &t->replicas
                                                   : NULL;
        char *end;
        long x = strtol(v, &end, 10);
        if (!field) {
            fprintf(stderr, "unlearnbench: --tune: unknown tunable '%s' (threads, gemm, "
                            "gemm_min_rows, attn_ts, par_min, pass_rows, replicas)\n", k);
            return -1;
        }
        if (end == v || *end || x < -2147483647L || x > 2147483647L) {
            fprintf(stderr, "unlearnbench: --tune: %s needs an integer, not '%s'\n", k, v);
            return -1;
        }
        *field = (int)x;
    }
    return 0;
}

int ub_cli_tune(kn_tune *t, int threads, const char *spec) {
    kn_tune_default(t);
    if (spec && apply_tune_spec(t, spec)) return UB_EXIT_USAGE;
    if (threads) t->threads = threads;
    char msg[256];
    if (kn_tune_check(t, msg, sizeof msg)) {
        fprintf(stderr, "unlearnbench: %s\n", msg);
        return UB_EXIT_USAGE;
    }
    kn_tune_apply(t);
    return 0;
}

void ub_cli_command_line(int argc, char **argv, char *out, size_t cap) {
    size_t n = (size_t)snprintf(out, cap, "unlearnbench");
    for (int i = 0; i < argc && n < cap; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *p = a; *p && plain; p++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           "-_./=:,%+@", *p) != NULL;
        if (plain) {
            n += (size_t)snprintf(out + n, cap - n, " %s", a);
            continue;
        }
        n += (size_t)snprintf(out + n, cap - n, " '");
        for (const char *p = a; *p && n + 5 < cap; p++) /* ' as '\'' */
            n += *p == '\'' ? (size_t)snprintf(out + n, cap - n, "'\\''")
                            : (size_t)snprintf(out + n, cap - n, "%c", *p);
        if (n < cap) n += (size_t)snprintf(out + n, cap - n, "'");
    }
}

const char *ub_scripts_dir(void) {
    const char *env = getenv("UB_SCRIPTS");
    return env && *env ? env : UB_SOURCE_DIR "/scripts";
}

/* ---- progress ---- */
void ub_progress_init(ub_progress *p, const char *label, long first_step, long steps) {
    p->label = label;
    p->t_start = ub_now();
    p->tty = isatty(STDERR_FILENO);
    p->first_step = first_step;
    long left = steps - first_step;
    p->every = left >= 20 ? left / 20 : 1; /* about 20 plain lines per run */
}

static void fmt_time(double s, char *buf, size_t n) {
    if (s < 0 || s != s) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

void ub_progress_step(ub_progress *p, long step, long steps, float loss, double tokens_per_s) {
    double el = ub_now() - p->t_start;
    long done = step - p->first_step;
    double eta = done > 0 ? el / done * (steps - step) : 0;
    char e1[32], e2[32];
    fmt_time(el, e1, sizeof e1);
    fmt_time(eta, e2, sizeof e2);
    if (p->tty) {
        int width = 24, fill = steps ? (int)((double)step / steps * width) : width;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r%s [%s] %ld/%ld loss %.4f %.0f tok/s elapsed %s ETA %s  ", p->label,
                bar, step, steps, loss, tokens_per_s, e1, e2);
        fflush(stderr);
    } else if (step % p->every == 0 || step == steps) {
        fprintf(stderr, "%s step %ld/%ld loss %.4f %.0f tok/s elapsed %s ETA %s\n", p->label,
                step, steps, loss, tokens_per_s, e1, e2);
    }
}

void ub_progress_done(ub_progress *p) {
    if (p->tty) fputc('\n', stderr);
}

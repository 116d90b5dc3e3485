/* bench/cli/cmd_verify.c: `unlearnbench verify DIR`: re-check a run's evidence without trusting
 * it. Every file of DIR/manifest.json against its SHA-256, then one seed run again from the
 * recorded configuration (DIR/config.ini) into DIR/verify/seed_<s>/, with a fresh model cache
 * unless --use-cache: the same binary and thread count must give the same bytes (the seed's
 * group and metrics in results.h5, and every checkpoint it retrained); another binary or
 * thread count is compared on the metrics within stated tolerances instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "results.h"

static const double TOL_RANGE = 0.05, TOL_REL = 0.10;

typedef struct tally {
    int pass, fail;
} tally;

static void item(tally *t, int ok, const char *what, const char *detail) {
    printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", what, detail && *detail ? ": " : "",
           detail ? detail : "");
    if (ok) t->pass++;
    else t->fail++;
}

/* The path of a manifest entry: relative ones are inside DIR. */
static void resolve(const char *dir, const char *p, char *out, size_t cap) {
    if (p[0] == '/') snprintf(out, cap, "%s", p);
    else snprintf(out, cap, "%s/%s", dir, p);
}

/* Every file against its hash. */
static void check_files(const char *dir, const res_manifest *m, tally *t) {
    for (size_t i = 0; i < m->n; i++) {
        char full[8400], hex[65], msg[512];
        resolve(dir, m->items[i].path, full, sizeof full);
        ub_err e = {0};
        if (ub_sha256_file(full, hex, &e)) {
            item(t, 0, m->items[i].path, e.msg);
            continue;
        }
        int ok = !strcmp(hex, m->items[i].sha256);
        if (ok) snprintf(msg, sizeof msg, "sha256 %.16s...", hex);
        else snprintf(msg, sizeof msg, "sha256 differs: manifest %.16s..., file now %.16s... "
                      "(the file changed after the run)", m->items[i].sha256, hex);
        item(t, ok, m->items[i].path, msg);
    }
}

/* Is path (a file name in the rerun's cache) in the manifest, and with which hash? */
static const res_manifest_item *find_name(const res_manifest *m, const char *name) {
    size_t ln = strlen(name);
    for (size_t i = 0; i < m->n; i++) {
        size_t lp = strlen(m->items[i].path);
        if (lp >= ln && !strcmp(m->items[i].path + lp - ln, name) &&
            (lp == ln || m->items[i].path[lp - ln - 1] == '/'))
            return &m->items[i];
    }
    return NULL;
}

static int quote_ok(const char *s) { return !strchr(s, '\''); }

int ub_cmd_verify(int argc, char **argv) {
    static const char usage[] =
        "verify DIR [--seed S] [--no-rerun] [--use-cache] [--threads N]\n\n"
        "Re-check a run without trusting it: every file in DIR/manifest.json (results, timings,\n"
        "configuration, report, plots, corpus, every checkpoint) against its SHA-256, then seed S\n"
        "(default: the run's first) run again from DIR/config.ini into DIR/verify/seed_S/ with a\n"
        "fresh model cache (--use-cache: the run's own, faster, and the training is then taken on\n"
        "trust of the checkpoints' hashes). With the run's binary and thread count the seed's\n"
        "evidence in results.h5 (its group, its metrics) and every retrained checkpoint must be\n"
        "identical bytes; with another binary or --threads the bytes may differ, and the metrics\n"
        "are compared within tolerances instead (5% of a bounded metric's range, 10% relative\n"
        "otherwise; costs not compared). Prints PASS/FAIL per item; exit status 0 only if all\n"
        "pass.\n";
    const char *pos[1] = {0};
    int npos = 0, no_rerun = 0, use_cache = 0, threads = 0;
    uint64_t seed = 0;
    ub_opt opts[] = {
        {"seed", OPT_U64, &seed, "S", "the seed to run again (default: the run's first)"},
        {"no-rerun", OPT_FLAG, &no_rerun, NULL, "check the hashes only"},
        {"use-cache", OPT_FLAG, &use_cache, NULL, "re-run with the run's model cache"},
        {"threads", OPT_INT, &threads, "N", "threads of the re-run (default: the run's)"},
        {0}};
    int rc = ub_opts_parse("verify", usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1) {
        fprintf(stderr, "unlearnbench verify: need the run's directory\n");
        return UB_EXIT_USAGE;
    }
    const char *dir = pos[0];
    ub_err e = {0};
    res_manifest *m = calloc(1, sizeof *m);
    if (!m) return UB_EXIT_FAIL;
    if (res_manifest_read(dir, m, &e)) {
        free(m);
        return ub_report(&e);
    }
    tally t = {0, 0};
    char bin[4096], hex[65], msg[4600];
    ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
    bin[n > 0 ? n : 0] = '\0';
    int same_bin = !ub_sha256_file(bin, hex, &e) && !strcmp(hex, m->binary.sha256);
    printf("%s binary: %s (%s)\n", same_bin ? "PASS" : "NOTE",
           same_bin ? "this binary is the run's" : "another binary than the run's: bytes may "
                                                 "differ, metrics are compared within tolerances",
           m->binary.path);
    check_files(dir, m, &t);
    if (!no_rerun) {
        if (!seed) seed = (uint64_t)m->seeds[0];
        int known = 0;
        for (int i = 0; i < m->n_seeds; i++) known |= (uint64_t)m->seeds[i] == seed;
        int th = threads ? threads : m->threads;
        int exact = same_bin && th == m->threads;
        char vdir[4200], cache[4300], cmd[32768], res_a[4300], res_b[4400];
        snprintf(vdir, sizeof vdir, "%s/verify/seed_%llu", dir, (unsigned long long)seed);
        if (use_cache) snprintf(cache, sizeof cache, "%s/models", dir);
        else snprintf(cache, sizeof cache, "%s/models", vdir);
        if (!known) {
            item(&t, 0, "re-run", "the seed is not one of the run's");
        } else if (!quote_ok(dir) || !quote_ok(bin)) {
            item(&t, 0, "re-run", "the directory's path holds a quote");
        } else {
            char preset[64] = "quick", cfgp[4300], line[256];
            snprintf(cfgp, sizeof cfgp, "%s/config.ini", dir);
            FILE *cf = fopen(cfgp, "r"); /* run wants --preset on its command line */
            if (cf && fgets(line, sizeof line, cf) && !strncmp(line, "preset = ", 9))
                snprintf(preset, sizeof preset, "%.*s", (int)strcspn(line + 9, "\n' "), line + 9);
            if (cf) fclose(cf);
            snprintf(cmd, sizeof cmd,
                     "mkdir -p '%s' && '%s' run --preset '%s' --config '%s' --seeds 1 --seed %llu "
                     "--threads %d --out '%s' --cache '%s' --quiet --no-plots > '%s/log' 2>&1",
                     vdir, bin, preset, cfgp, (unsigned long long)seed, th, vdir, cache, vdir);
            printf("re-running seed %llu (%s, %d threads): %s/log\n", (unsigned long long)seed,
                   exact ? "identical bytes expected" : "metrics within tolerances", th, vdir);
            fflush(stdout);
            int r = system(cmd);
            snprintf(res_a, sizeof res_a, "%s/results.h5", dir);
            snprintf(res_b, sizeof res_b, "%s/results.h5", vdir);
            if (r != 0) {
                snprintf(msg, sizeof msg, "the run failed (see %s/log)", vdir);
                item(&t, 0, "re-run", msg);
            } else {
                int nd = 0;
                char diff[2048];
                ub_status st = exact ? res_compare_seed(res_a, res_b, (int64_t)seed, &nd, diff,
                                                        sizeof diff, &e)
                                     : res_compare_metrics(res_a, res_b, (int64_t)seed, TOL_RANGE,
                                                           TOL_REL, &nd, diff, sizeof diff, &e);
                snprintf(msg, sizeof msg, "seed %llu %s", (unsigned long long)seed,
                         exact ? "(its group and metrics, byte for byte)"
                               : "(metrics within tolerances)");
                if (st) item(&t, 0, "results.h5 re-run", e.msg);
                else if (nd) {
                    char m2[7000];
                    snprintf(m2, sizeof m2, "%s: %d difference%s\n%s", msg, nd, nd > 1 ? "s" : "",
                             diff);
                    item(&t, 0, "results.h5 re-run", m2);
                } else item(&t, 1, "results.h5 re-run", msg);
                /* every checkpoint trained anew must be the manifest's, bit for bit */
                size_t nc = 0;
                static const char *const h5[] = {".h5", NULL};
                char **names = !use_cache && exact ? res_list_dir(cache, h5, &nc) : NULL;
                for (size_t i = 0; i < nc; i++) {
                    char full[8400], what[700];
                    snprintf(full, sizeof full, "%s/%s", cache, names[i]);
                    const res_manifest_item *it = find_name(m, names[i]);
                    int ok = it && !ub_sha256_file(full, hex, &e) && !strcmp(hex, it->sha256);
                    snprintf(what, sizeof what, "checkpoint %s", names[i]);
                    item(&t, ok, what, !it ? "retrained, but not in the manifest"
                                       : ok ? "retrained, identical bytes"
                                            : "retrained, bytes differ");
                }
                res_list_free(names, nc);
            }
        }
    }
    printf("verify: %d passed, %d failed\n", t.pass, t.fail);
    res_manifest_free(m);
    free(m);
    return t.fail ? UB_EXIT_FAIL : UB_EXIT_OK;
}

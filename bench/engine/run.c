/* bench/engine/run.c: `unlearnbench run`: the corpus, the model slots, the seeds, the run's
 * tables in results.h5. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_private.h"
#include "results.h"

ub_status run_mkdir_p(const char *dir, ub_err *e) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        char ch = *p;
        if (ch == '/' || ch == '\0') {
            *p = '\0';
            struct stat sb;
            if (mkdir(buf, 0755) && (stat(buf, &sb) || !S_ISDIR(sb.st_mode)))
                return ub_fail(e, UB_EIO, "cannot create directory %s", buf);
            *p = ch;
        }
        if (!ch) break;
    }
    return UB_OK;
}

ub_status run_generate_corpus(const ub_source_cfg *src, int threads, const char *path,
                              ub_err *e) {
    corpus gc;
    corpus_gen_cfg g;
    corpus_init(&gc);
    ub_status st = corpus_gen_defaults(&g, src->gen_profile, e);
    g.seed = src->corpus_seed;
    if (!st) st = corpus_generate(&gc, &g, e);
    if (!st) st = corpus_save(&gc, path, 258, threads, e);
    corpus_free(&gc);
    return st;
}

/* The model slots' names (engine_private.h). */
static void name_models(run_state *rs) {
    const ub_run_cfg *cfg = rs->cfg;
    rs->n_cont = cfg->train.continued_points;
    rs->n_models = run_n_slots(rs);
    snprintf(rs->names[RUN_ORIG], 48, "original");
    snprintf(rs->names[RUN_RET], 48, "retrain");
    snprintf(rs->names[RUN_REF], 48, "retrain_ref");
    for (int k = 0; k < rs->n_cont; k++)
        snprintf(rs->names[RUN_CONTINUED + k], 48, "continued_%ld",
                 run_continued_steps(cfg->train.continued_steps, rs->n_cont, k));
    snprintf(rs->names[run_slot_sisa_full(rs)], 48, "sisa_full");
    snprintf(rs->names[run_slot_sisa(rs)], 48, "sisa");
    for (int k = 0; k < rs->n_methods; k++)
        snprintf(rs->names[run_slot_method(rs, k)], 48, "%s", rs->methods[k]->name);
    for (int q = 0; q < rs->n_q; q++)
        for (int b = 0; b < run_n_qbase(rs); b++) {
            char base[48];
            memcpy(base, rs->names[b < 2 ? b : run_slot_method(rs, b - 2)], sizeof base);
            snprintf(rs->names[run_slot_quant(rs, q, b)], 48, "%.36s@q%d", base, rs->qbits[q]);
        }
    for (int p = 0; p < rs->n_rl; p++)
        for (int b = 0; b < run_n_qbase(rs); b++) {
            char base[48];
            memcpy(base, rs->names[b < 2 ? b : run_slot_method(rs, b - 2)], sizeof base);
            snprintf(rs->names[run_slot_relearn(rs, p, b)], 48, "%.36s@rl%d", base,
                     rs->rl_steps[p]);
        }
}

/* The corpus: given, generated once for a grid, or generated into DIR (deterministic, so a
 * re-run regenerates the same bytes); then loaded and encoded. */
ub_status run_open_corpus(run_state *rs, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    char path[4200];
    ub_status st = UB_OK;
    if (cfg->source.corpus) snprintf(path, sizeof path, "%s", cfg->source.corpus);
    else if (cfg->source.generated) snprintf(path, sizeof path, "%s", cfg->source.generated);
    else {
        snprintf(path, sizeof path, "%s/corpus.h5", cfg->out_dir);
        st = run_generate_corpus(&cfg->source, cfg->threads, path, e);
    }
    if (!st)
        st = run_corpus_open(&rs->rc, path, !strcmp(cfg->scenario.post_format, "author"),
                             cfg->threads, e);
    return st;
}

/* One seed's tables and provenance (seed index si), then its file is complete; the binary's
 * SHA-256 says which build made it (a resumed run keeps only its own build's seeds). */
static ub_status write_tables(const run_state *rs, ub_h5out *o, int si, const char *bin,
                              ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    char cs[4096];
    ub_run_cfg_string(cfg, cs, sizeof cs);
    const char *mn[RUN_MAX_MODELS], *mp[RUN_MAX_MODELS];
    /* a method's settings as it ran: its defaults with the run's method-params on top */
    char (*eff)[1024] = ub_malloc(RUN_MAX_MODELS * sizeof *eff, "method settings", e);
    if (!eff) return UB_ENOMEM;
    for (int k = 0; k < rs->n_models; k++) {
        mn[k] = rs->names[k];
        int first = run_slot_method(rs, 0), last = run_slot_method(rs, rs->n_methods);
        if (k >= first && k < last)
            ul_effective_params(rs->methods[k - first], cfg->method_params, eff[k], sizeof eff[k]);
        mp[k] = k < first || k >= last ? "" : eff[k];
    }
    int64_t seed = (int64_t)(cfg->seed0 + (uint64_t)si);
    res_run r = {1, rs->n_models, &seed, mn, mp,
                 rs->metrics + (size_t)si * rs->n_models * ev_n_metrics, cs,
                 cfg->source.corpus ? cfg->source.corpus
                                    : "corpus.h5 (generated in the output directory, or a grid's)",
                 rs->rc.sha256, kn_tune_threads(&rs->tune)};
    ub_status st = res_write_run(o->file, &r, e);
    if (!st) st = ub_h5_attr_str(o->file, "binary_sha256", bin, e);
    free(eff);
    return st;
}

int run_attrs_equal(const char *path, const char *const *names, const char *const *want, int n,
                    ub_err *e) {
    hid_t f;
    if (ub_h5_open(&f, path, e)) return -1;
    char have[4096];
    int r = 1;
    for (int i = 0; r == 1 && i < n; i++)
        r = ub_h5_get_str(f, names[i], path, have, sizeof have, e) ? -1 : !strcmp(have, want[i]);
    H5Fclose(f);
    return r;
}

/* DIR/seeds/seed_S/results.h5 (with its timings.h5, written first) is a finished seed of this
 * very run: same configuration, same binary. */
static int seed_done(const char *sdir, const char *cfg_text, const char *bin) {
    char path[4400];
    snprintf(path, sizeof path, "%s/timings.h5", sdir);
    ub_err le = {0};
    hid_t f;
    if (ub_h5_open(&f, path, &le)) return 0;
    H5Fclose(f);
    snprintf(path, sizeof path, "%s/results.h5", sdir);
    const char *names[2] = {"config", "binary_sha256"}, *want[2] = {cfg_text, bin};
    return run_attrs_equal(path, names, want, 2, &le) == 1;
}

/* Every seed into DIR/seeds/seed_S/ (kept from an earlier, killed run of the same command and
 * binary, else computed), then merged into DIR/results.h5 and DIR/timings.h5; the seed files
 * go once the merge is complete. A run killed at any moment and started again with the same
 * command therefore ends with the same bytes. */
static ub_status run_seeds(run_state *rs, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    char cs[4096], bin[65], base[4200], sdir[4300], path[4400];
    ub_run_cfg_string(cfg, cs, sizeof cs);
    ub_err le = {0};
    if (ub_sha256_file("/proc/self/exe", bin, &le)) snprintf(bin, sizeof bin, "unknown");
    snprintf(base, sizeof base, "%s/seeds", cfg->out_dir);
    int64_t *seeds = ub_calloc((size_t)cfg->seeds, sizeof(int64_t), "seeds", e);
    if (!seeds) return UB_ENOMEM;
    ub_status st = UB_OK;
    for (int si = 0; !st && si < cfg->seeds; si++) {
        seeds[si] = (int64_t)(cfg->seed0 + (uint64_t)si);
        snprintf(sdir, sizeof sdir, "%s/seed_%lld", base, (long long)seeds[si]);
        if (strcmp(bin, "unknown") && seed_done(sdir, cs, bin)) {
            ub_logf(rs->log, "seed %lld: complete from an earlier run of this command, kept",
                    (long long)seeds[si]);
            continue;
        }
        double t0 = ub_now();
        ub_h5out o;
        st = run_mkdir_p(sdir, e);
        snprintf(path, sizeof path, "%s/results.h5", sdir);
        if (!st) st = ub_h5_create(&o, path, e);
        if (st) break;
        st = run_seed(rs, si, o.file, e);
        if (!st) st = write_tables(rs, &o, si, bin, e);
        snprintf(path, sizeof path, "%s/timings.h5", sdir);
        if (!st)
            st = res_write_timings(path, rs->seconds + (size_t)si * rs->n_models, 1,
                                   rs->n_models, ub_now() - t0, e);
        if (!st) st = ub_h5_commit(&o, e);
        else ub_h5_abort(&o);
    }
    if (!st) st = res_merge(base, cfg->out_dir, seeds, cfg->seeds, cs, e);
    for (int si = 0; !st && si < cfg->seeds; si++) {
        snprintf(sdir, sizeof sdir, "%s/seed_%lld", base, (long long)seeds[si]);
        snprintf(path, sizeof path, "%s/results.h5", sdir);
        remove(path);
        snprintf(path, sizeof path, "%s/timings.h5", sdir);
        remove(path);
        rmdir(sdir);
    }
    if (!st) rmdir(base);
    free(seeds);
    return st;
}

/* DIR/config.ini: the configuration results.h5 holds, as a file `run --config` reads and the
 * manifest hashes. */
static ub_status write_config_ini(const ub_run_cfg *cfg, ub_err *e) {
    char path[4200], tmp[4300], cs[4096];
    ub_run_cfg_string(cfg, cs, sizeof cs);
    snprintf(path, sizeof path, "%s/config.ini", cfg->out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) return ub_fail(e, UB_EIO, "cannot write %s", tmp);
    int bad = fputs(cs, o) < 0;
    bad |= fclose(o) != 0;
    if (bad || rename(tmp, path)) {
        remove(tmp);
        return ub_fail(e, UB_EIO, "cannot write %s", path);
    }
    return UB_OK;
}

/* Remove DIR's temporary files of this host whose process is gone (a run killed while writing
 * them, ub_tmp_is_stale); a live process's, or another host's (a grid task sharing the cache),
 * stay. */
static void remove_stale_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[4608];
    while ((de = readdir(d))) {
        if (!ub_tmp_is_stale(de->d_name)) continue;
        snprintf(path, sizeof path, "%.4300s/%s", dir, de->d_name);
        remove(path);
    }
    closedir(d);
}

ub_status run_begin(run_state *rs, const char *what, int out_dir, ub_err *e) {
    char msg[256], path[4200];
    const ub_run_cfg *cfg = rs->cfg;
    if (kn_tune_check(&rs->tune, msg, sizeof msg)) return ub_fail(e, UB_EARG, "%s: %s", what, msg);
    kn_tune_apply(&rs->tune);
    ub_status st = ub_run_check(cfg, e);
    if (!st && out_dir) st = run_mkdir_p(cfg->out_dir, e);
    if (cfg->cache_dir) snprintf(path, sizeof path, "%s", cfg->cache_dir);
    else snprintf(path, sizeof path, "%s/models", cfg->out_dir);
    if (!st) st = run_mkdir_p(path, e);
    if (!st) remove_stale_tmp(path);
    if (!st && out_dir) {
        remove_stale_tmp(cfg->out_dir);
        char seeds[4300];
        for (int si = 0; si < cfg->seeds; si++) {
            snprintf(seeds, sizeof seeds, "%s/seeds/seed_%llu", cfg->out_dir,
                     (unsigned long long)(cfg->seed0 + (uint64_t)si));
            remove_stale_tmp(seeds);
        }
    }
    return st;
}

ub_status ub_run_shadows_part(const ub_run_cfg *cfg, const kn_tune *tune,
                              const ub_run_observer *obs, int part, int parts, ub_err *e) {
    int K = cfg->score.shadows;
    if (K <= 0 || part >= K) return UB_OK;
    run_state rs = {.cfg = cfg, .obs = obs, .log = obs ? &obs->log : NULL, .tune = *tune};
    ub_status st = run_begin(&rs, "run", 0, e);
    if (!st) st = run_open_corpus(&rs, e);
    /* the design depends on the split's sizes and the policy only: any seed's scenario serves */
    run_scenario sc;
    memset(&sc, 0, sizeof sc);
    uint64_t split_seed = cfg->scenario.split_seed ? cfg->scenario.split_seed : cfg->seed0;
    if (!st) st = run_scenario_make(&sc, &rs.rc, &cfg->scenario, split_seed, e);
    gpt_config mc;
    gpt_train_cfg tc;
    int defb;
    if (!st) st = gpt_preset(cfg->train.model, &mc, &defb, e);
    mc.vocab_size = rs.rc.bpe.vocab_size;
    run_train_cfg(&cfg->train, &mc, cfg->seed0, &tc);
    if (!st) st = run_shadow_design(&rs, &sc, e);
    uint8_t *user_in = st ? NULL : ub_malloc(rs.rc.c.n_users + 1, "shadow users", e);
    if (!st && !user_in) st = UB_ENOMEM;
    for (int j = part; !st && j < K; j += parts) {
        gpt_model m = {0};
        gpt_train_cfg t2;
        double secs = 0;
        st = run_shadow_model(&rs, &sc, j, &mc, &tc, user_in, &m, &t2, &secs, e);
        if (!st)
            ub_logf(rs.log, "shadow %d of %d: %s", j + 1, K,
                    isfinite(secs) ? "trained" : "in the cache already");
        gpt_free(&m);
    }
    free(user_in);
    run_scenario_free(&sc);
    run_corpus_free(&rs.rc);
    return st;
}

ub_status ub_run(const ub_run_cfg *cfg, const kn_tune *tune, const ub_run_observer *obs,
                 ub_err *e) {
    run_state rs = {.cfg = cfg, .obs = obs, .log = obs ? &obs->log : NULL, .tune = *tune};
    double t_start = ub_now();
    ub_status st = run_begin(&rs, "run", 1, e);
    rs.methods = ub_calloc((size_t)ul_n_methods + 1, sizeof *rs.methods, "methods", e);
    if (!st && !rs.methods) st = UB_ENOMEM;
    if (!st) st = ul_select(cfg->methods, rs.methods, &rs.n_methods, e);
    rs.n_cont = cfg->train.continued_points;
    if (!st) rs.n_q = ub_run_quant_bits(cfg->quantize, rs.qbits, e);
    if (!st && rs.n_q < 0) st = e->code;
    if (!st) rs.n_rl = ub_run_relearn_steps(cfg->relearn, rs.rl_steps, e);
    if (!st && rs.n_rl < 0) st = e->code;
    if (!st && run_n_slots(&rs) > RUN_MAX_MODELS)
        st = ub_fail(e, UB_EARG, "run: more than %d models", RUN_MAX_MODELS);
    if (!st) st = run_open_corpus(&rs, e);
    if (!st) {
        name_models(&rs);
        rs.metrics = ub_calloc((size_t)cfg->seeds * rs.n_models * ev_n_metrics, sizeof(double),
                               "metrics", e);
        rs.seconds = ub_calloc((size_t)cfg->seeds * rs.n_models, sizeof(double), "timings", e);
        if (!rs.metrics || !rs.seconds) st = UB_ENOMEM;
    }
    if (!st) st = run_seeds(&rs, e);
    if (!st) st = write_config_ini(cfg, e);
    if (!st) {
        double wall = ub_now() - t_start;
        ub_logf(rs.log, "run finished in %.0f s (scoring and metrics %.0f s, %.0f%%): %s/results.h5",
                wall, rs.score_seconds, 100 * rs.score_seconds / wall, cfg->out_dir);
        const double *ph = rs.score_phase;
        ub_logf(rs.log, "  scoring: posts %.1f s, secrets' candidates %.1f s, exact ranks %.1f s, "
                "extraction %.1f s, knowledge probes %.1f s, metrics and bootstrap %.1f s, "
                "shadows on the targets %.1f s", ph[EV_T_POSTS], ph[EV_T_CANDIDATES],
                ph[EV_T_EXACT], ph[EV_T_EXTRACT], ph[EV_T_PROBES], rs.measure_seconds,
                rs.shadow_score_seconds);
    }
    free(rs.methods);
    free(rs.metrics);
    free(rs.seconds);
    run_corpus_free(&rs.rc);
    return st;
}

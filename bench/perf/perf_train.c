/* bench/perf/perf_train.c: `unlearnbench bench train`: training throughput per preset, achieved
 * GFLOP/s, this machine's sgemm ceiling at the model's own GEMM shapes, and (--vs-torch)
 * PyTorch's throughput on the same presets measured in the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"
#include "cli.h"
#include "gpt.h"

typedef struct {
    int M, N, K, transB;
    double count; /* how many times per training step */
} gemm_shape;

/* The GEMMs of one training step (forward, then dinp and dW of each backward). dW's
 * transposed-A GEMM is measured as the plain (K x N) product of the same size. */
static int model_gemms(const gpt_config *c, int BT, gemm_shape *g) {
    int C = c->n_embd, V = c->vocab_size, n = 0;
    int io[4][2] = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}}; /* (in, out) per layer matmul */
    for (int i = 0; i < 4; i++) {
        int in = io[i][0], out = io[i][1];
        g[n++] = (gemm_shape){BT, out, in, 0, c->n_layer}; /* forward */
        g[n++] = (gemm_shape){BT, in, out, 1, c->n_layer}; /* dinp = dout @ W^T */
        g[n++] = (gemm_shape){in, out, BT, 0, c->n_layer}; /* dW = inp^T @ dout */
    }
    g[n++] = (gemm_shape){BT, V, C, 1, 1}; /* logits = h @ wte^T */
    g[n++] = (gemm_shape){BT, C, V, 0, 1}; /* dh = dlogits @ wte */
    g[n++] = (gemm_shape){V, C, BT, 0, 1}; /* dwte = dlogits^T @ h */
    return n;
}

/* FLOP-weighted harmonic mean of the best sgemm GFLOP/s (OpenBLAS threads or our panels) over
 * the model's GEMM shapes: the rate a step would reach if it were nothing but these GEMMs. */
static double gemm_ceiling(const gpt_config *c, int BT, const kn_tune *tune, double secs) {
    gemm_shape g[16];
    int n = model_gemms(c, BT, g);
    double flops = 0, time = 0;
    for (int i = 0; i < n; i++) {
        kn_tune a = *tune, b = *tune;
        a.gemm = KN_GEMM_OMP_PANELS;
        b.gemm = KN_GEMM_BLAS_THREADS;
        kn_tune_apply(&b);
        double gb = ub_bench_sgemm(g[i].M, g[i].N, g[i].K, g[i].transB, &b, secs);
        kn_tune_apply(&a);
        double ga = ub_bench_sgemm(g[i].M, g[i].N, g[i].K, g[i].transB, &a, secs);
        double best = ga > gb ? ga : gb;
        double f = 2.0 * g[i].M * g[i].N * g[i].K * g[i].count;
        flops += f;
        time += f / (best * 1e9);
    }
    kn_tune_apply((kn_tune *)tune);
    return flops / time / 1e9;
}

/* Run scripts/torch_reference.py --bench for one preset; returns tokens/s or -1. */
static double torch_tokens_per_s(const char *preset, int threads, int batch, double seconds) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s/torch_reference.py' --bench --presets %s --threads 1 "
             "--blas-threads %d --batch %d --seconds %g 2>/dev/null",
             ub_scripts_dir(), preset, threads, batch, seconds);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[4096];
    double tps = -1;
    while (fgets(line, sizeof line, p)) {
        const char *k = strstr(line, "\"tokens_per_s\":");
        if (line[0] == '{' && k) tps = strtod(k + 15, NULL);
    }
    int rc = pclose(p);
    return rc == 0 ? tps : -1;
}

/* Where one step's time goes: forward and backward milliseconds per kernel kind. */
static void print_profile(const gpt_model *m, long steps, double el, const char *name) {
    printf("\n  %s, ms per step (wall time measured around each kernel call):\n", name);
    printf("  | kernel | forward | backward | share |\n  |---|---|---|---|\n");
    double tot = 0;
    for (int k = 0; k < GPT_P_COUNT; k++) tot += m->prof.sec[0][k] + m->prof.sec[1][k];
    for (int k = 0; k < GPT_P_COUNT; k++) {
        double f = m->prof.sec[0][k] * 1e3 / steps, b = m->prof.sec[1][k] * 1e3 / steps;
        printf("  | %s | %.2f | %.2f | %.1f%% |\n", gpt_prof_names[k], f, b,
               100.0 * (m->prof.sec[0][k] + m->prof.sec[1][k]) / tot);
    }
    printf("  | (sum of kernels / whole step) | %.2f | of %.2f | |\n\n", tot * 1e3 / steps,
           el * 1e3 / steps);
}

/* Scoring's forward-only tokens/s (gpt_score_tokens: the per-token scores every metric starts
 * from) on B*8 random sequences of T+1 tokens, for at least `seconds`: the cost of evaluation
 * next to training's (ideally about 3x training's tokens/s, a forward being a third of a step's
 * work). Returns -1 on error (in e). */
static double score_tokens_per_s(gpt_model *m, int B, int T, double seconds, ub_err *e) {
    size_t n = (size_t)B * 8, len = (size_t)T + 1;
    int32_t *ids = malloc(n * len * sizeof *ids);
    size_t *off = malloc((n + 1) * sizeof *off);
    if (!ids || !off) {
        free(ids), free(off);
        ub_fail(e, UB_ENOMEM, "out of memory");
        return -1;
    }
    ub_rng r;
    ub_rng_init(&r, 11, 0);
    for (size_t i = 0; i < n * len; i++) ids[i] = (int32_t)ub_rng_below(&r, (uint64_t)m->cfg.vocab_size);
    for (size_t i = 0; i <= n; i++) off[i] = i * len;
    gpt_seqs q = {ids, off, n};
    double t0 = 0, el = 0, tok = 0;
    for (int it = 0; el < seconds || it < 3; it++) {
        if (it == 1) t0 = ub_now(); /* one warm-up pass */
        gpt_token_scores t;
        if (gpt_score_tokens(&m, 1, NULL, &q, &t, e)) {
            tok = -1;
            break;
        }
        gpt_token_scores_free(&t);
        if (it >= 1) tok += (double)n * T, el = ub_now() - t0;
    }
    free(ids), free(off);
    return tok < 0 ? -1 : tok / el;
}

static const char usage[] =
    "bench train [--preset tiny|small|medium|all] [options]\n\n"
    "Times full training steps (forward, backward, clipping, AdamW) on random tokens and\n"
    "prints tokens/s, achieved GFLOP/s (6 x params x tokens + 12 x layers x ctx x n_embd x\n"
    "tokens), this machine's sgemm ceiling at the model's own GEMM shapes (measured now, the\n"
    "better of OpenBLAS threads and our panels per shape), and the fraction of it reached;\n"
    "then scoring's forward-only tokens/s (the per-token scores every metric starts from) and\n"
    "its ratio to training's (a forward is about a third of a step's work: ideally about 3).\n"
    "--vs-torch also runs scripts/torch_reference.py on the same presets, one after the\n"
    "other, so the ratio is measured on the same machine at the same time.\n";

int ub_cmd_bench_train(int argc, char **argv) {
    const char *preset = "all";
    const char *tune_spec = NULL;
    int threads = 0, batch = 0, vs_torch = 0, profile = 0;
    double seconds = 8.0, gemm_secs = 0.25;
    ub_opt opts[] = {
        {"preset", OPT_STR, &preset, "NAME", "tiny, small, medium or all (default all)"},
        {"seconds", OPT_DOUBLE, &seconds, "S", "time at least S seconds of steps (default 8)"},
        {"batch", OPT_INT, &batch, "B", "batch (default: the preset's 64/32/16)"},
        {"tune", OPT_STR, &tune_spec, "K=V,...", UB_TUNE_HELP},
        {"threads", OPT_INT, &threads, "N", "threads (default: all cores)"},
        {"gemm-seconds", OPT_DOUBLE, &gemm_secs, "S", "time per sgemm ceiling shape (0.25)"},
        {"vs-torch", OPT_FLAG, &vs_torch, NULL, "measure PyTorch on the same presets too"},
        {"profile", OPT_FLAG, &profile, NULL, "also print where a step's time goes, per kernel"},
        {0}};
    int rc = ub_opts_parse("bench train", usage, opts, argc, argv, NULL, 0, NULL);
    if (rc >= 0) return rc;
    kn_tune tune;
    if ((rc = ub_cli_tune(&tune, threads, tune_spec))) return rc;
    const char *names[3] = {"tiny", "small", "medium"};
    int lo = 0, hi = 3;
    if (strcmp(preset, "all") != 0) {
        for (lo = 0; lo < 3 && strcmp(names[lo], preset); lo++) {}
        if (lo == 3) {
            fprintf(stderr, "unlearnbench bench train: unknown preset '%s' (%s, all)\n", preset,
                    gpt_preset_names());
            return UB_EXIT_USAGE;
        }
        hi = lo + 1;
    }
    char ts[256];
    kn_tune_str(&tune, ts, sizeof ts);
    printf("# bench train (%s)\n\n", ts);
    printf("| preset | params | batch x ctx | tokens/s | GFLOP/s | sgemm ceiling GFLOP/s | "
           "%% of ceiling | scoring tokens/s | scoring / training |%s\n",
           vs_torch ? " PyTorch tokens/s | PyTorch GFLOP/s | ratio |" : "");
    printf("|---|---|---|---|---|---|---|---|---|%s\n", vs_torch ? "---|---|---|" : "");
    fflush(stdout);
    for (int pi = lo; pi < hi; pi++) {
        ub_err e = {0};
        gpt_config c;
        int B;
        gpt_preset(names[pi], &c, &B, &e);
        if (batch) B = batch;
        int T = c.n_ctx;
        gpt_model m;
        if (gpt_build(&m, &c, &tune, &e)) return ub_report(&e);
        gpt_init_gpt2(&m, 1);
        int *in = malloc((size_t)B * (T + 1) * sizeof(int)), *tg = malloc((size_t)B * T * sizeof(int));
        if (!in || !tg) {
            fprintf(stderr, "unlearnbench: out of memory\n");
            return UB_EXIT_FAIL;
        }
        ub_rng r;
        ub_rng_init(&r, 7, 0);
        for (int i = 0; i < B * T; i++) {
            in[i] = (int)ub_rng_below(&r, (uint64_t)c.vocab_size);
            tg[i] = (int)ub_rng_below(&r, (uint64_t)c.vocab_size);
        }
        gpt_adamw h = {1e-4, 0.9, 0.95, 1e-8, 0.1};
        long steps = 0;
        double t0 = 0, el = 0;
        for (int it = 0;; it++) {
            if (it == 2) { /* two warm-up steps: allocation, page faults */
                t0 = ub_now();
                memset(&m.prof, 0, sizeof m.prof);
                m.prof.on = profile;
            }
            gpt_zero_grad(&m);
            double loss;
            if (gpt_forward_backward(&m, in, tg, B, T, 1.0f, &loss, &e)) return ub_report(&e);
            gpt_clip_grad(&m, 1.0);
            if (gpt_adamw_step(&m, &h, &e)) return ub_report(&e);
            if (it >= 2) {
                steps++;
                el = ub_now() - t0;
                if (el >= seconds && steps >= 3) break;
            }
        }
        double tps = (double)steps * B * T / el;
        double gf = gpt_train_flops(&c, m.n_params, T, tps) / 1e9;
        double ceil = gemm_ceiling(&c, B * T, &tune, gemm_secs);
        double sps = score_tokens_per_s(&m, B, T, seconds / 2, &e);
        if (sps < 0) return ub_report(&e);
        printf("| %s | %.2f M | %d x %d | %.0f | %.1f | %.1f | %.0f%% | %.0f | %.2f |", names[pi],
               m.n_params / 1e6, B, T, tps, gf, ceil, 100.0 * gf / ceil, sps, sps / tps);
        if (vs_torch) {
            double tt = torch_tokens_per_s(names[pi], tune.threads, B, seconds);
            if (tt > 0)
                printf(" %.0f | %.1f | %.2fx |", tt, gpt_train_flops(&c, m.n_params, T, tt) / 1e9,
                       tps / tt);
            else
                printf(" unavailable (needs /usr/bin/python3 with torch) | | |");
        }
        printf("\n");
        if (profile) print_profile(&m, steps, el, names[pi]);
        fflush(stdout);
        free(in);
        free(tg);
        gpt_free(&m);
    }
    return 0;
}

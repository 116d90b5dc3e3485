/* bench/cli/cmd_train.c: `unlearnbench train`, `score` and `tokens`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "corpus.h"
#include "gpt.h"

static int progress_cb(void *ctx, long step, long steps, float loss, double norm, double lr,
                       double tps) {
    ub_progress_step(ctx, step, steps, loss, tps);
    return 0;
}

/* ---- train ------------------------------------------------------------------------------ */
static const char train_usage[] =
    "train --tokens FILE.h5 --out CKPT.h5 [--preset NAME | shape options] [options]\n\n"
    "Train a GPT-2-style model on a token file (an HDF5 file with a 1-D int32 /tokens; see\n"
    "`unlearnbench tokens`). Writes a resumable checkpoint (models/FORMAT.md) atomically.\n"
    "With --resume, an existing CKPT.h5 continues exactly where it stopped: hyperparameters\n"
    "come from the checkpoint, and the final file is bitwise identical to an uninterrupted\n"
    "run with the same thread count. Shape options override the preset; --config FILE reads\n"
    "the same options from an INI file (key = value, sections ignored).\n";

int ub_cmd_train(int argc, char **argv) {
    const char *preset = "tiny", *tokens = NULL, *out = NULL, *config = NULL;
    const char *tune_spec = NULL;
    int resume = 0, threads = 0;
    gpt_config mc = {0};
    gpt_train_cfg c;
    gpt_train_defaults(&c);
    ub_opt opts[] = {
        {"preset", OPT_STR, &preset, "NAME", "model shape: tiny, small, medium (default tiny)"},
        {"tokens", OPT_STR, &tokens, "FILE", "token file to train on (required)"},
        {"out", OPT_STR, &out, "FILE", "checkpoint to write (required)"},
        {"resume", OPT_FLAG, &resume, NULL, "continue from --out if it exists"},
        {"steps", OPT_LONG, &c.steps, "N", "optimizer steps (default 1000)"},
        {"seed", OPT_U64, &c.seed, "S", "seed for init and data order (default 1337)"},
        {"batch", OPT_INT, &c.batch, "B", "windows per micro-batch (default: the preset's)"},
        {"accum", OPT_INT, &c.accum, "A", "micro-batches per step (default 1)"},
        {"ctx", OPT_INT, &c.ctx, "T", "window length (default n_ctx)"},
        {"lr", OPT_DOUBLE, &c.lr, "X", "peak learning rate (default 1e-3)"},
        {"min-lr", OPT_DOUBLE, &c.min_lr, "X", "final learning rate of the cosine (default 1e-4)"},
        {"warmup", OPT_LONG, &c.warmup, "N", "linear warm-up steps (default 2% of steps)"},
        {"grad-clip", OPT_DOUBLE, &c.grad_clip, "X", "global gradient-norm clip, 0 = off (1.0)"},
        {"weight-decay", OPT_DOUBLE, &c.weight_decay, "X", "AdamW decay on matrices (0.1)"},
        {"beta1", OPT_DOUBLE, &c.beta1, "X", "AdamW beta1 (0.9)"},
        {"beta2", OPT_DOUBLE, &c.beta2, "X", "AdamW beta2 (0.95)"},
        {"ckpt-every", OPT_LONG, &c.ckpt_every, "N", "also checkpoint every N steps (0 = end only)"},
        {"n-layer", OPT_INT, &mc.n_layer, "N", "override the preset's n_layer"},
        {"n-embd", OPT_INT, &mc.n_embd, "N", "override n_embd"},
        {"n-head", OPT_INT, &mc.n_head, "N", "override n_head"},
        {"n-ctx", OPT_INT, &mc.n_ctx, "N", "override n_ctx"},
        {"vocab-size", OPT_INT, &mc.vocab_size, "N",
         "vocabulary (default: the token file's; needed if it has none)"},
        {"tune", OPT_STR, &tune_spec, "K=V,...", UB_TUNE_HELP},
        {"threads", OPT_INT, &threads, "N", "threads for OpenMP and sgemm (default: all cores)"},
        {"config", OPT_STR, &config, "FILE", "read options from an INI file"},
        {0}};
    int rc = ub_opts_parse("train", train_usage, opts, argc, argv, NULL, 0, NULL);
    if (rc >= 0) return rc;
    if (!tokens || !out) {
        fprintf(stderr, "unlearnbench train: --tokens and --out are required (see --help)\n");
        return UB_EXIT_USAGE;
    }
    kn_tune tune;
    if ((rc = ub_cli_tune(&tune, threads, tune_spec))) return rc;
    ub_err e = {0};
    corpus_tokens tok;
    /* A token file without vocab_size takes --vocab-size as its vocabulary (ids checked). */
    if (corpus_tokens_load_vocab(&tok, tokens, mc.vocab_size, &e)) return ub_report(&e);

    gpt_model m;
    gpt_train_state s = {0};
    int resumed = 0;
    if (resume && access(out, F_OK) == 0) {
        gpt_train_cfg saved;
        int has_train = 0;
        if (gpt_load(out, &m, &tune, &saved, &s, &has_train, &e)) goto fail;
        if (!has_train) {
            ub_fail(&e, UB_EFORMAT, "%s: checkpoint has no training state to resume", out);
            gpt_free(&m);
            goto fail;
        }
        if (strcmp(s.tokens_sha256, tok.sha256) != 0) {
            ub_fail(&e, UB_EARG, "%s was trained on other tokens than %s (sha256 differs)", out,
                    tokens);
            goto fail_model;
        }
        /* Hyperparameters come from the checkpoint; a conflicting flag is an error, not a
         * silent change of schedule. */
        struct { const char *opt; double given, saved; } chk[] = {
            {"steps", (double)c.steps, (double)saved.steps}, {"seed", (double)c.seed, (double)saved.seed},
            {"batch", c.batch, saved.batch}, {"accum", c.accum, saved.accum},
            {"ctx", c.ctx, saved.ctx}, {"lr", c.lr, saved.lr}, {"min-lr", c.min_lr, saved.min_lr},
            {"warmup", (double)c.warmup, (double)saved.warmup},
            {"grad-clip", c.grad_clip, saved.grad_clip}};
        for (size_t i = 0; i < sizeof chk / sizeof chk[0]; i++)
            if (ub_opt_given(opts, chk[i].opt) && chk[i].given != chk[i].saved) {
                ub_fail(&e, UB_EARG, "--%s %g differs from the checkpoint's %g (%s); resume "
                        "keeps the checkpoint's hyperparameters", chk[i].opt, chk[i].given,
                        chk[i].saved, out);
                goto fail_model;
            }
        c = saved;
        resumed = 1;
        fprintf(stderr, "resuming %s at step %ld/%ld\n", out, s.step, c.steps);
    } else {
        int def_batch = 0;
        gpt_config base;
        if (gpt_preset(preset, &base, &def_batch, &e)) goto fail;
        if (mc.n_layer) base.n_layer = mc.n_layer;
        if (mc.n_embd) base.n_embd = mc.n_embd;
        if (mc.n_head) base.n_head = mc.n_head;
        if (mc.n_ctx) base.n_ctx = mc.n_ctx;
        /* The data's tokenizer decides the vocabulary (a corpus has bytes + BOS/EOS + merges);
         * --vocab-size may only enlarge it. */
        base.vocab_size = mc.vocab_size ? mc.vocab_size : tok.vocab_size;
        if (!c.batch) c.batch = def_batch;
        if (!c.ctx) c.ctx = base.n_ctx;
        if (!ub_opt_given(opts, "warmup")) c.warmup = c.steps / 50 > 0 ? c.steps / 50 : 1;
        if (c.warmup > c.steps) c.warmup = c.steps;
        if (gpt_build(&m, &base, &tune, &e)) goto fail;
        if (gpt_train_check(&c, &m.cfg, &e)) goto fail_model;
        gpt_init_gpt2(&m, c.seed);
        if (gpt_train_state_init(&s, &c, &tok, &e)) goto fail_model;
    }
    if (tok.vocab_size > m.cfg.vocab_size) {
        ub_fail(&e, UB_EARG, "%s has vocabulary %d but the model only %d", tokens, tok.vocab_size,
                m.cfg.vocab_size);
        goto fail_model;
    }
    char ts[256];
    kn_tune_str(&tune, ts, sizeof ts);
    fprintf(stderr, "model: %d layers, n_embd %d, %d heads, n_ctx %d, vocab %d, %zu params; "
            "batch %d x %d x accum %d; %s\n", m.cfg.n_layer, m.cfg.n_embd, m.cfg.n_head,
            m.cfg.n_ctx, m.cfg.vocab_size, m.n_params, c.batch, c.ctx, c.accum, ts);
    ub_progress p;
    ub_progress_init(&p, "train", s.step, c.steps);
    long start = s.step;
    double t0 = ub_now();
    ub_status st = gpt_train(&m, &tok, &c, &s, out, progress_cb, &p, &e);
    ub_progress_done(&p);
    if (st) goto fail_model;
    double dt = ub_now() - t0;
    double toks = (double)(s.step - start) * c.batch * c.ctx * c.accum;
    printf("trained %ld steps%s: final loss %.4f, %.0f tokens/s, %.1f s; wrote %s\n",
           s.step - start, resumed ? " (resumed)" : "", s.step ? s.loss[s.step - 1] : 0.0,
           dt > 0 ? toks / dt : 0.0, dt, out);
    gpt_train_state_free(&s);
    gpt_free(&m);
    corpus_tokens_free(&tok);
    return 0;
fail_model:
    gpt_train_state_free(&s);
    gpt_free(&m);
fail:
    corpus_tokens_free(&tok);
    return ub_report(&e);
}

/* ---- score ------------------------------------------------------------------------------ */
static const char score_usage[] =
    "score --model CKPT.h5 --tokens FILE.h5 --out SCORES.h5 [options]\n\n"
    "Per-token losses of a model on a token file. The stream is cut into N windows of ctx+1\n"
    "tokens (stride ctx, like training). Writes /tokens (int32 [N, ctx+1]) and /loss (float32\n"
    "[N, ctx]: natural-log loss of predicting token t+1 from tokens 0..t), so anyone can\n"
    "recompute them from the checkpoint alone (scripts/check_score.py does).\n";

int ub_cmd_score(int argc, char **argv) {
    const char *model = NULL, *tokens = NULL, *out = NULL;
    const char *tune_spec = NULL;
    int threads = 0, ctx = 0, batch = 16;
    ub_opt opts[] = {
        {"model", OPT_STR, &model, "FILE", "checkpoint (required)"},
        {"tokens", OPT_STR, &tokens, "FILE", "token file (required)"},
        {"out", OPT_STR, &out, "FILE", "scores file to write (required)"},
        {"ctx", OPT_INT, &ctx, "T", "window length (default the model's n_ctx)"},
        {"batch", OPT_INT, &batch, "B", "windows per forward pass (default 16)"},
        {"tune", OPT_STR, &tune_spec, "K=V,...", UB_TUNE_HELP},
        {"threads", OPT_INT, &threads, "N", "threads (default: all cores)"},
        {0}};
    int rc = ub_opts_parse("score", score_usage, opts, argc, argv, NULL, 0, NULL);
    if (rc >= 0) return rc;
    if (!model || !tokens || !out) {
        fprintf(stderr, "unlearnbench score: --model, --tokens and --out are required\n");
        return UB_EXIT_USAGE;
    }
    if (batch < 1) {
        fprintf(stderr, "unlearnbench score: --batch must be >= 1\n");
        return UB_EXIT_USAGE;
    }
    kn_tune tune;
    if ((rc = ub_cli_tune(&tune, threads, tune_spec))) return rc;
    ub_err e = {0};
    gpt_model m;
    corpus_tokens tok = {0};
    int32_t *win = NULL;
    float *loss = NULL;
    if (gpt_load(model, &m, &tune, NULL, NULL, NULL, &e)) return ub_report(&e);
    ub_status st = corpus_tokens_load(&tok, tokens, &e);
    if (!st && tok.vocab_size > m.cfg.vocab_size)
        st = ub_fail(&e, UB_EARG, "%s has vocabulary %d but the model only %d", tokens,
                     tok.vocab_size, m.cfg.vocab_size);
    if (!ctx) ctx = m.cfg.n_ctx;
    if (!st && (ctx < 1 || ctx > m.cfg.n_ctx))
        st = ub_fail(&e, UB_EARG, "--ctx %d must be in [1, %d]", ctx, m.cfg.n_ctx);
    long N = st ? 0 : (long)((tok.n - 1) / (size_t)ctx);
    if (!st && N < 1)
        st = ub_fail(&e, UB_EARG, "%s: %zu tokens are fewer than one window of %d+1", tokens,
                     tok.n, ctx);
    if (!st) {
        win = ub_malloc((size_t)N * (ctx + 1) * sizeof(int32_t), "windows", &e);
        loss = ub_malloc((size_t)N * ctx * sizeof(float), "losses", &e);
        if (!win || !loss) st = UB_ENOMEM;
    }
    if (!st) {
        for (long n = 0; n < N; n++)
            memcpy(win + (size_t)n * (ctx + 1), tok.ids + (size_t)n * ctx,
                   (size_t)(ctx + 1) * sizeof(int32_t));
        st = gpt_score(&m, win, N, ctx, batch, loss, &e);
    }
    double sum = 0;
    for (long i = 0; !st && i < N * ctx; i++) sum += loss[i];
    if (!st) {
        ub_h5out o;
        st = ub_h5_create(&o, out, &e);
        hsize_t d1[2] = {(hsize_t)N, (hsize_t)ctx + 1}, d2[2] = {(hsize_t)N, (hsize_t)ctx};
        if (!st) st = ub_h5_write(o.file, "tokens", H5T_NATIVE_INT32, win, 2, d1, 1, &e);
        if (!st) st = ub_h5_write(o.file, "loss", H5T_NATIVE_FLOAT, loss, 2, d2, 0, &e);
        if (!st) st = ub_h5_attr_str(o.file, "model", model, &e);
        if (!st) st = ub_h5_attr_str(o.file, "tokens_sha256", tok.sha256, &e);
        if (!st) st = ub_h5_attr_f64(o.file, "mean_loss", sum / ((double)N * ctx), &e);
        if (!st) st = ub_h5_commit(&o, &e);
        else ub_h5_abort(&o);
    }
    if (!st)
        printf("scored %ld windows x %d tokens: mean loss %.4f nats (perplexity %.3f); wrote %s\n",
               N, ctx, sum / ((double)N * ctx), exp(sum / ((double)N * ctx)), out);
    free(win);
    free(loss);
    corpus_tokens_free(&tok);
    gpt_free(&m);
    return st ? ub_report(&e) : 0;
}

/* ---- tokens ----------------------------------------------------------------------------- */
static const char tokens_usage[] =
    "tokens FILE.txt --out FILE.h5\n\n"
    "The toy input: the bytes of a text file as a token stream (vocab 256), the format that\n"
    "`train` and `score` read.\n";

int ub_cmd_tokens(int argc, char **argv) {
    const char *out = NULL, *pos[1] = {0};
    int npos = 0;
    ub_opt opts[] = {{"out", OPT_STR, &out, "FILE", "token file to write (required)"}, {0}};
    int rc = ub_opts_parse("tokens", tokens_usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1 || !out) {
        fprintf(stderr, "unlearnbench tokens: need a text file and --out (see --help)\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    size_t n = 0;
    if (corpus_tokens_from_text(pos[0], out, &n, &e)) return ub_report(&e);
    printf("wrote %zu tokens (bytes) to %s\n", n, out);
    return 0;
}

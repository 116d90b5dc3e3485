/* tests/test_train_text.c: a tiny-shape model trained for 600 steps on real English
 * text (licence texts that every Debian system ships in /usr/share/common-licenses) must reach a
 * loss on a *different*, held-out text clearly below that text's cross-entropy under the
 * unigram byte distribution of the training text (add-one smoothed): the best a model without
 * context could do. Usage: test_train_text HELDOUT TRAIN1 [TRAIN2 ...] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "ubtest.h"

static size_t read_append(const char *path, int32_t **buf, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    *buf = realloc(*buf, (n + (size_t)len + 1) * sizeof(int32_t)); /* one allocation per file */
    int c;
    while ((c = fgetc(f)) != EOF && len-- > 0) (*buf)[n++] = c;
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s HELDOUT TRAIN...\n", argv[0]);
        return 2;
    }
    ub_h5_quiet();
    int32_t *train = NULL, *held = NULL;
    size_t n_train = 0, n_held = read_append(argv[1], &held, 0);
    for (int i = 2; i < argc; i++) n_train = read_append(argv[i], &train, n_train);
    corpus_tokens tok = {train, n_train, 256, ""};
    ub_sha256_hex(train, n_train * sizeof(int32_t), tok.sha256);

    /* Unigram baseline: cross-entropy of the held-out bytes under the smoothed training
     * distribution, in nats per byte. */
    double counts[256];
    for (int i = 0; i < 256; i++) counts[i] = 1.0;
    for (size_t i = 0; i < n_train; i++) counts[train[i]] += 1.0;
    double unigram = 0;
    for (size_t i = 1; i < n_held; i++) unigram -= log(counts[held[i]] / (n_train + 256.0));
    unigram /= (double)(n_held - 1);

    kn_tune tu;
    kn_tune_default(&tu);
    kn_tune_apply(&tu);
    ub_err e = {0};
    gpt_config c;
    gpt_preset("tiny", &c, NULL, &e);
    gpt_model m;
    UB_CHECK(gpt_build(&m, &c, &tu, &e) == UB_OK);
    gpt_train_cfg tc;
    gpt_train_defaults(&tc);
    /* the sanitizer build (UB_TEST_SANITIZE) runs the same code for 30 steps and checks only
     * that the loss falls: the bound below is the Release build's to check */
    int sanitize = getenv("UB_TEST_SANITIZE") != NULL;
    tc.steps = sanitize ? 30 : 600;
    tc.batch = 16;
    tc.ctx = 64;
    tc.warmup = 10;
    tc.lr = 3e-3;
    tc.min_lr = 3e-4;
    tc.seed = 1337;
    gpt_init_gpt2(&m, tc.seed);
    gpt_train_state s;
    gpt_train_state_init(&s, &tc, &tok, &e);
    double t0 = ub_now();
    UB_CHECK(gpt_train(&m, &tok, &tc, &s, NULL, NULL, NULL, &e) == UB_OK);
    double dt = ub_now() - t0;

    long N = (long)((n_held - 1) / 64);
    float *loss = malloc((size_t)N * 64 * sizeof(float));
    int32_t *win = malloc((size_t)N * 65 * sizeof(int32_t));
    for (long i = 0; i < N; i++) memcpy(win + i * 65, held + i * 64, 65 * sizeof(int32_t));
    UB_CHECK(gpt_score(&m, win, N, 64, 16, loss, &e) == UB_OK);
    double sum = 0;
    for (long i = 0; i < N * 64; i++) sum += loss[i];
    double heldout = sum / ((double)N * 64);
    printf("trained on %zu bytes for %ld steps in %.1f s: train loss %.3f -> %.3f; held-out "
           "(%zu bytes) loss %.3f nats vs unigram %.3f nats\n", n_train, tc.steps, dt, s.loss[0],
           s.loss[tc.steps - 1], n_held, heldout, unigram);
    /* "Clearly below": at least 20% fewer nats than the context-free baseline. Seeds 1337, 2
     * and 3 reach about 0.58x unigram at 600 steps; seed 1 leaves the early plateau later and
     * reaches 0.75x, so the bound holds with margin for any of them. */
    if (!sanitize)
        UB_CHECK_MSG(heldout < 0.80 * unigram, "held-out loss %.3f is not clearly below unigram "
                     "%.3f", heldout, unigram);
    UB_CHECK(s.loss[tc.steps - 1] < s.loss[0]);
    free(loss);
    free(win);
    gpt_train_state_free(&s);
    gpt_free(&m);
    free(train);
    free(held);
    UB_TEST_END();
}

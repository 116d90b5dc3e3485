/* tests/test_quant.c: round-to-nearest weight quantization (models/gpt_quant.c): every matrix
 * row lands on its symmetric grid within half a step, biases and layer norms stay, a second
 * rounding changes nothing, and 8 bits keep the model's loss while 4 bits move it more. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "ubtest.h"

enum { V = 40, B = 4 };

static void build(gpt_model *m) {
    gpt_config c;
    int b;
    ub_err e = {0};
    UB_CHECK(gpt_preset("micro", &c, &b, &e) == UB_OK);
    c.vocab_size = V;
    kn_tune tu;
    kn_tune_default(&tu);
    tu.threads = 1;
    UB_CHECK(gpt_build(m, &c, &tu, &e) == UB_OK);
    gpt_init_gpt2(m, 3);
}

static float loss_of(gpt_model *m, const int *in, const int *tg, int T) {
    ub_err e = {0};
    UB_CHECK(gpt_forward(m, in, tg, B, T, &e) == UB_OK);
    return m->mean_loss;
}

int main(void) {
    gpt_model m = {0}, q = {0};
    build(&m);
    build(&q);
    int T = m.cfg.n_ctx, in[B * 64], tg[B * 64];
    ub_rng r;
    ub_rng_init(&r, 5, 1);
    for (int i = 0; i < B * T; i++) in[i] = (int)ub_rng_below(&r, V), tg[i] = (int)ub_rng_below(&r, V);
    float base = loss_of(&m, in, tg, T);
    ub_err e = {0};
    UB_CHECK(gpt_quantize_rtn(&q, 1, &e) == UB_EARG && strstr(e.msg, "2..16"));
    float dl[2];
    int bits[2] = {8, 4};
    for (int k = 0; k < 2; k++) {
        memcpy(q.params_mem, m.params_mem, m.n_params * sizeof(float));
        UB_CHECK(gpt_quantize_rtn(&q, bits[k], &e) == UB_OK);
        double qmax = ldexp(1.0, bits[k] - 1) - 1.0;
        int off_grid = 0, too_far = 0, moved_other = 0, rows = 0;
        for (int t = 0; t < m.n_tensors; t++) {
            const gpt_tensor *g = &m.tensors[t];
            const float *a = m.params_mem + g->offset, *b = q.params_mem + g->offset;
            if (!g->decay || g->rank != 2) {
                moved_other += memcmp(a, b, g->numel * sizeof(float)) != 0;
                continue;
            }
            for (size_t i = 0; i < g->dims[0]; i++, rows++) {
                double amax = 0;
                for (size_t j = 0; j < g->dims[1]; j++) amax = fmax(amax, fabs(a[i * g->dims[1] + j]));
                double s = amax / qmax;
                for (size_t j = 0; j < g->dims[1]; j++) {
                    double x = a[i * g->dims[1] + j], y = b[i * g->dims[1] + j];
                    too_far += fabs(x - y) > 0.5 * s * (1 + 1e-5);
                    off_grid += fabs(y / s - nearbyint(y / s)) > 1e-3 || fabs(y / s) > qmax + 1e-3;
                }
            }
        }
        UB_CHECK(rows > 0);
        UB_CHECK_MSG(off_grid == 0 && too_far == 0, "%d bits: %d values off the grid, %d moved "
                     "more than half a step", bits[k], off_grid, too_far);
        UB_CHECK_MSG(moved_other == 0, "%d tensors outside the matrices changed", moved_other);
        /* idempotent: a grid point rounds to itself */
        float *once = malloc(m.n_params * sizeof(float));
        UB_CHECK(once != NULL);
        memcpy(once, q.params_mem, m.n_params * sizeof(float));
        UB_CHECK(gpt_quantize_rtn(&q, bits[k], &e) == UB_OK);
        UB_CHECK(!memcmp(once, q.params_mem, m.n_params * sizeof(float)));
        free(once);
        dl[k] = fabsf(loss_of(&q, in, tg, T) - base);
    }
    UB_CHECK_MSG(dl[0] < 0.01f, "8-bit rounding moved the loss by %g", dl[0]);
    UB_CHECK_MSG(dl[1] > dl[0], "4 bits (%g) should move the loss more than 8 (%g)", dl[1], dl[0]);
    /* a non-finite weight is named, not rounded */
    memcpy(q.params_mem, m.params_mem, m.n_params * sizeof(float));
    q.params.wte[3] = NAN;
    e = (ub_err){0};
    ub_status qs = gpt_quantize_rtn(&q, 8, &e);
    UB_CHECK_MSG(qs != UB_OK && strstr(e.msg, "wte"), "status %d: %s", (int)qs, e.msg);
    gpt_free(&m);
    gpt_free(&q);
    UB_TEST_END();
}

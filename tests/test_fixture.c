/* tests/test_fixture.c: the model against PyTorch. tests/fixtures/gpt_ref.h5 (made once by
 * scripts/make_fixture.py, in float64) holds a small model's weights, a batch, and PyTorch's
 * logits, per-token losses, mean loss, every gradient, the gradient norm and the parameters after
 * three AdamW steps with clipping. We load it through our own checkpoint reader and compare
 * tensor by tensor, printing the largest difference of each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "ubtest.h"

static const char *fixture;

/* max |a-b| / (atol + rtol*max|b|) style report; returns the max abs difference. */
static double compare(const char *what, const float *a, const float *b, size_t n, double atol,
                      double rtol) {
    double maxd = 0, maxb = 0;
    size_t where = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > maxd || d != d) {
            maxd = d;
            where = i;
        }
        if (fabs(b[i]) > maxb) maxb = fabs(b[i]);
    }
    int ok = maxd <= atol + rtol * maxb;
    printf("%-36s max |diff| %.3e (max |ref| %.3e) %s\n", what, maxd, maxb, ok ? "ok" : "FAIL");
    UB_CHECK_MSG(ok, "%s: element %zu: ours %.9g, torch %.9g", what, where, a[where], b[where]);
    return maxd;
}

static float *read_f32(hid_t f, const char *name, size_t n) {
    ub_err e = {0};
    float *buf = malloc(n * sizeof(float));
    if (ub_h5_read(f, name, fixture, H5T_NATIVE_FLOAT, buf, -1, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    return buf;
}

static double read_f64(hid_t f, const char *name) {
    ub_err e = {0};
    double v = 0;
    if (ub_h5_read(f, name, fixture, H5T_NATIVE_DOUBLE, &v, 0, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv) {
    fixture = argc > 1 ? argv[1] : "tests/fixtures/gpt_ref.h5";
    ub_h5_quiet();
    kn_tune tune;
    kn_tune_default(&tune);
    kn_tune_apply(&tune);
    ub_err e = {0};
    gpt_model m;
    if (gpt_load(fixture, &m, &tune, NULL, NULL, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    hid_t f;
    if (ub_h5_open(&f, fixture, &e)) return 1;
    hid_t ref = H5Gopen2(f, "ref", H5P_DEFAULT);
    int64_t B, T, steps;
    double lr, b1, b2, eps, wd, clip;
    ub_h5_get_i64(ref, "B", fixture, &B, &e);
    ub_h5_get_i64(ref, "T", fixture, &T, &e);
    ub_h5_get_i64(ref, "adam_steps", fixture, &steps, &e);
    ub_h5_get_f64(ref, "lr", fixture, &lr, &e);
    ub_h5_get_f64(ref, "beta1", fixture, &b1, &e);
    ub_h5_get_f64(ref, "beta2", fixture, &b2, &e);
    ub_h5_get_f64(ref, "eps", fixture, &eps, &e);
    ub_h5_get_f64(ref, "weight_decay", fixture, &wd, &e);
    ub_h5_get_f64(ref, "grad_clip", fixture, &clip, &e);
    if (e.code) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    size_t BT = (size_t)(B * T), V = (size_t)m.cfg.vocab_size;
    int *inputs = malloc(BT * sizeof(int)), *targets = malloc(BT * sizeof(int));
    ub_h5_read(ref, "inputs", fixture, H5T_NATIVE_INT32, inputs, 2, NULL, &e);
    ub_h5_read(ref, "targets", fixture, H5T_NATIVE_INT32, targets, 2, NULL, &e);
    float *logits = read_f32(ref, "logits", BT * V);
    float *losses = read_f32(ref, "losses", BT);
    double loss = read_f64(ref, "loss"), grad_norm = read_f64(ref, "grad_norm");
    printf("fixture %s: %d layers, n_embd %d, B=%lld T=%lld V=%zu, %zu params\n", fixture,
           m.cfg.n_layer, m.cfg.n_embd, (long long)B, (long long)T, V, m.n_params);

    /* Logits: a forward without targets leaves them in acts.probs. */
    UB_CHECK(gpt_forward(&m, inputs, NULL, (int)B, (int)T, &e) == UB_OK);
    compare("logits", m.acts.probs, logits, BT * V, 1e-5, 1e-4);
    UB_CHECK(gpt_forward(&m, inputs, targets, (int)B, (int)T, &e) == UB_OK);
    compare("per-token losses", m.acts.losses, losses, BT, 1e-5, 1e-5);
    UB_CHECK_CLOSE(m.mean_loss, loss, 1e-5, 1e-5);
    gpt_zero_grad(&m);
    UB_CHECK(gpt_backward(&m, 1.0f, &e) == UB_OK);
    char name[128];
    for (int i = 0; i < m.n_tensors; i++) {
        const gpt_tensor *t = &m.tensors[i];
        snprintf(name, sizeof name, "grads/%s", t->name);
        float *g = read_f32(ref, name, t->numel);
        compare(name, m.grads_mem + t->offset, g, t->numel, 1e-6, 2e-4);
        free(g);
    }
    double norm = gpt_clip_grad(&m, 0.0);
    UB_CHECK_CLOSE(norm, grad_norm, 1e-6, 1e-4);

    /* Three AdamW steps with clipping on the same batch, as the fixture did. */
    float *step_losses = malloc((size_t)steps * sizeof(float));
    double *ref_step = malloc((size_t)steps * sizeof(double));
    ub_h5_read(ref, "step_losses", fixture, H5T_NATIVE_DOUBLE, ref_step, 1, NULL, &e);
    gpt_adamw h = {lr, b1, b2, eps, wd};
    for (int s = 0; s < steps; s++) {
        gpt_zero_grad(&m);
        UB_CHECK(gpt_forward(&m, inputs, targets, (int)B, (int)T, &e) == UB_OK);
        step_losses[s] = m.mean_loss;
        UB_CHECK(gpt_backward(&m, 1.0f, &e) == UB_OK);
        gpt_clip_grad(&m, clip);
        UB_CHECK(gpt_adamw_step(&m, &h, &e) == UB_OK);
        UB_CHECK_CLOSE(step_losses[s], ref_step[s], 1e-5, 1e-5);
    }
    for (int i = 0; i < m.n_tensors; i++) {
        const gpt_tensor *t = &m.tensors[i];
        snprintf(name, sizeof name, "after/%s", t->name);
        float *p = read_f32(ref, name, t->numel);
        /* Adam normalises each update to about lr, so an error shows up at the scale of lr. */
        compare(name, m.params_mem + t->offset, p, t->numel, lr * 1e-2, 1e-5);
        free(p);
    }
    H5Gclose(ref);
    H5Fclose(f);
    free(step_losses);
    free(ref_step);
    free(inputs);
    free(targets);
    free(logits);
    free(losses);
    gpt_free(&m);
    UB_TEST_END();
}

/* kernels/adamw.c: AdamW update, deterministic sum of squares, scaling, global-norm clipping. */
#include "kn_private.h"

/* p, g, m, v (n); t >= 1. The order of operations follows torch.optim.AdamW (single-tensor
 * path of PyTorch 1.13): the scalars are computed in double as Python does and rounded to
 * float where PyTorch passes them to a float kernel. */
void kn_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                     float beta1, float beta2, float eps, float weight_decay, long t,
                     const kn_tune *tune) {
    double bc1 = 1.0 - pow((double)beta1, (double)t);
    double bc2 = 1.0 - pow((double)beta2, (double)t);
    float decay = (float)(1.0 - (double)lr * weight_decay);     /* p.mul_(1 - lr*wd) */
    float a1 = (float)(1.0 - beta1), a2 = (float)(1.0 - beta2);
    float step = (float)((double)lr / bc1);                       /* step_size */
    float bc2s = (float)sqrt(bc2);
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float pi = p[i] * decay;
        float mi = m[i] * beta1 + a1 * gi;               /* exp_avg.mul_(b1).add_(g, 1-b1) */
        float vi = v[i] * beta2 + a2 * gi * gi;          /* exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2) */
        float denom = sqrtf(vi) / bc2s + eps;
        p[i] = pi + (-step * mi) / denom;                /* addcdiv_(m, denom, value=-step) */
        m[i] = mi;
        v[i] = vi;
    }
}

/* x (n). Fixed chunks (KN_REDUCE_CHUNKS) summed in double, combined in chunk order. */
double kn_sumsq(const float *x, size_t n, const kn_tune *tune) {
    double part[KN_REDUCE_CHUNKS];
    size_t chunk = (n + KN_REDUCE_CHUNKS - 1) / KN_REDUCE_CHUNKS;
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, n))
    for (int c = 0; c < KN_REDUCE_CHUNKS; c++) {
        size_t i0 = c * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (size_t i = i0; i < i1; i++) s += (double)x[i] * x[i];
        part[c] = s;
    }
    double tot = 0.0;
    for (int c = 0; c < KN_REDUCE_CHUNKS; c++) tot += part[c];
    return tot;
}

/* x (n) *= s */
void kn_scale(float *x, float s, size_t n, const kn_tune *tune) {
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

/* g (n). As torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), applied only when
 * it is below 1. A NaN/Inf norm is returned and leaves g untouched (coef < 1 is false for NaN;
 * for Inf coef is 0 and would wipe the gradient, so it is skipped too). */
double kn_clip_grad_norm(float *g, size_t n, double max_norm, const kn_tune *tune) {
    double norm = sqrt(kn_sumsq(g, n, tune));
    double coef = max_norm / (norm + 1e-6);
    if (isfinite(norm) && coef < 1.0) kn_scale(g, (float)coef, n, tune);
    return norm;
}

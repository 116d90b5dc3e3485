/* bench/unlearn/methods/newton.c: one influence-function / Newton removal step (Koh and Liang 2017,
 * "Understanding Black-box Predictions via Influence Functions"; Guo et al. 2020, "Certified
 * Data Removal from Machine Learning Models").
 *
 * For theta* = argmin (1/n) sum_i l_i, dropping the n_F points of F moves the minimiser by
 *   delta ~ (n_F / n_R) H^-1 g_F,
 * g_F = the gradient of the mean loss on F, H = the Hessian of the mean loss on the retained
 * posts (n_F, n_R: token counts). Here H + damping*I is solved against g_F by conjugate
 * gradient, `steps` iterations, each one Hessian-vector product by central finite differences of
 * gradients on FIXED retained batches (hvp_batches of them, drawn once, so every product uses
 * the same H):
 *   Hv ~ (g(theta + eps v) - g(theta - eps v)) / (2 eps),  eps = 1e-3 (1 + ||theta||) / ||v||,
 * with the CG vectors and dot products in double. g_F averages grad_batches batches of F.
 *
 * This is the "one Newton step" family, and its assumptions do not hold here: the loss of a
 * transformer is not convex, the original is not an exact minimiser (training stopped early, with
 * weight decay), and H is indefinite. So (1) when CG meets a direction of non-positive curvature
 * it takes that direction with the curvature's absolute value (saddle-free style) and stops; (2)
 * the step is result = theta + scale * delta with ||scale * delta|| capped at cap * ||theta||
 * (the raw influence step can be huge along near-flat directions, where only the damping bounds
 * it). cost.steps counts Hessian-vector products. */
#include "ul_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct newton {
    ul_run *r;
    gpt_model *m;
    float *theta0;     /* (n) the original parameters */
    double theta_norm; /* ||theta0|| */
    int K;             /* fixed retained batches */
    int *in, *tg;      /* (K, B, T) */
    double damping;
    double *gp; /* (n) g(theta + eps v) */
} newton;

static double dot(const double *a, const double *b, size_t n) {
    double s = 0; /* serial: a fixed summation order whatever the thread count */
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* m's gradients = the gradient of the mean loss over the K fixed retained batches at m's
 * current parameters. */
static ub_status retained_grad(newton *nw, long it, ub_err *e) {
    ul_run *r = nw->r;
    size_t BT = (size_t)r->B * r->T;
    gpt_zero_grad(nw->m);
    for (int k = 0; k < nw->K; k++) {
        double loss;
        ub_status st = ul_fb(r, nw->m, nw->in + k * BT, nw->tg + k * BT, 1.0f / (float)nw->K, it,
                             "retained loss", &loss, e);
        if (st) return st;
    }
    return UB_OK;
}

/* out (n) = (H + damping I) v for v (n); m's parameters are theta0 again afterwards. */
static ub_status hvp(newton *nw, const double *v, double *out, long it, ub_err *e) {
    gpt_model *m = nw->m;
    size_t n = m->n_params;
    double vn = sqrt(dot(v, v, n));
    if (vn == 0) {
        memset(out, 0, n * sizeof(double));
        return UB_OK;
    }
    double eps = 1e-3 * (1.0 + nw->theta_norm) / vn;
    for (size_t i = 0; i < n; i++)
        m->params_mem[i] = (float)(nw->theta0[i] + eps * v[i]);
    ub_status st = retained_grad(nw, it, e);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        nw->gp[i] = m->grads_mem[i];
    for (size_t i = 0; i < n; i++)
        m->params_mem[i] = (float)(nw->theta0[i] - eps * v[i]);
    st = retained_grad(nw, it, e);
    if (st) return st;
    memcpy(m->params_mem, nw->theta0, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        out[i] = (nw->gp[i] - m->grads_mem[i]) / (2 * eps) + nw->damping * v[i];
    return UB_OK;
}

/* x (n) ~ (H + damping I)^-1 b by CG from x = 0, b given in r (n, overwritten: the residual);
 * p, Ap (n) scratch. *iters = Hessian-vector products taken. */
static ub_status cg(newton *nw, double *x, double *r, double *p, double *Ap, long *iters,
                    ub_err *e) {
    size_t n = nw->m->n_params;
    memset(x, 0, n * sizeof(double));
    memcpy(p, r, n * sizeof(double));
    double rs = dot(r, r, n), bnorm = sqrt(rs);
    *iters = 0;
    for (long it = 0; it < nw->r->steps && rs > 0; it++) {
        ub_status st = hvp(nw, p, Ap, it, e);
        if (st) return st;
        ++*iters;
        double pAp = dot(p, Ap, n);
        st = ul_check_finite(nw->r->name, it + 1, "curvature p'Hp", pAp, e);
        if (st) return st;
        if (pAp <= 0) {
            /* Non-positive curvature: the quadratic model has no minimum along p. Step with
             * |curvature| (saddle-free) and stop. */
            if (pAp < 0)
                for (size_t i = 0; i < n; i++)
                    x[i] += rs / -pAp * p[i];
            break;
        }
        double a = rs / pAp;
        for (size_t i = 0; i < n; i++) {
            x[i] += a * p[i];
            r[i] -= a * Ap[i];
        }
        double rs_new = dot(r, r, n);
        if (sqrt(rs_new) <= 1e-4 * bnorm) break;
        double beta = rs_new / rs;
        for (size_t i = 0; i < n; i++)
            p[i] = r[i] + beta * p[i];
        rs = rs_new;
    }
    return UB_OK;
}

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    newton nw = {0};
    long hvp_batches = 0, grad_batches = 0;
    double scale = 0, cap = 0;
    double *x = NULL, *res = NULL, *p = NULL, *Ap = NULL; /* (n) each */
    size_t n = m->n_params;
    ub_status st = ul_run_init(&r, &ul_newton, m, c, cost, e);
    if (!st) st = ul_param_long(&r.p, "hvp_batches", 1, 1 << 16, UL_OWN_LONG, &hvp_batches, e);
    if (!st) st = ul_param_long(&r.p, "grad_batches", 1, 1 << 16, UL_OWN_LONG, &grad_batches, e);
    if (!st) st = ul_param_f64(&r.p, "damping", 0, 1e6, UL_OWN, &nw.damping, e);
    if (!st) st = ul_param_f64(&r.p, "scale", 0, 1e6, UL_OWN, &scale, e);
    if (!st) st = ul_param_f64(&r.p, "cap", 0, 10, UL_OWN, &cap, e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    if (!st)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    size_t BT = (size_t)r.B * r.T;
    if (!st) {
        nw.r = &r;
        nw.m = m;
        nw.K = (int)hvp_batches;
        nw.theta0 = ub_malloc(n * sizeof(float), "Newton: parameters", e);
        nw.gp = ub_malloc(n * sizeof(double), "Newton: gradient", e);
        nw.in = ub_malloc((size_t)nw.K * BT * sizeof(int), "Newton: retained batches", e);
        nw.tg = ub_malloc((size_t)nw.K * BT * sizeof(int), "Newton: retained batches", e);
        x = ub_malloc(n * sizeof(double), "Newton: CG vectors", e);
        res = ub_malloc(n * sizeof(double), "Newton: CG vectors", e);
        p = ub_malloc(n * sizeof(double), "Newton: CG vectors", e);
        Ap = ub_malloc(n * sizeof(double), "Newton: CG vectors", e);
        if (!nw.theta0 || !nw.gp || !nw.in || !nw.tg || !x || !res || !p || !Ap) st = UB_ENOMEM;
        cost->extra_bytes +=
            n * (sizeof(float) + 5 * sizeof(double)) + 2 * (size_t)nw.K * BT * sizeof(int);
    }
    if (!st) {
        memcpy(nw.theta0, m->params_mem, n * sizeof(float));
        double s2 = 0;
        for (size_t i = 0; i < n; i++)
            s2 += (double)nw.theta0[i] * nw.theta0[i];
        nw.theta_norm = sqrt(s2);
        for (int k = 0; k < nw.K; k++)
            ul_sampler_next(&rs, r.B, nw.in + k * BT, nw.tg + k * BT, NULL);
        /* g_F: the mean gradient over grad_batches batches of F, into the CG residual. */
        gpt_zero_grad(m);
        for (long k = 0; !st && k < grad_batches; k++) {
            double loss;
            ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
            st = ul_fb(&r, m, r.inputs, r.targets, 1.0f / (float)grad_batches, 0, "forget loss",
                       &loss, e);
        }
    }
    long iters = 0;
    if (!st) {
        for (size_t i = 0; i < n; i++)
            res[i] = m->grads_mem[i];
        st = cg(&nw, x, res, p, Ap, &iters, e);
    }
    if (!st) {
        double ratio = (double)ul_posts_tokens(c->forget) / (double)ul_posts_tokens(c->retain);
        double dn = scale * ratio * sqrt(dot(x, x, n)), limit = cap * nw.theta_norm;
        double f = scale * ratio * (dn > limit ? limit / dn : 1.0);
        for (size_t i = 0; i < n; i++)
            m->params_mem[i] = (float)(nw.theta0[i] + f * x[i]);
        cost->steps = iters;
        st = ul_check_params(r.name, iters, m, e);
    }
    free(nw.theta0);
    free(nw.gp);
    free(nw.in);
    free(nw.tg);
    free(x);
    free(res);
    free(p);
    free(Ap);
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_newton = {
    "newton",
    "one influence-function Newton step (Koh & Liang 2017; Guo et al. 2020), CG + capped norm",
    "steps=10,batch=train,hvp_batches=2,grad_batches=4,damping=0.5,scale=1,cap=0.01",
    apply,
    "scale=0.25|0.5|1|2;cap=0.001|0.003|0.01|0.03",
};

/* bench/unlearn/methods/relabel.c: replace what F says by something else and train on that
 * ("relabeling": the "I don't know" answers of TOFU's IdkPO, Maini et al. 2024, and random
 * labels as in Graves et al. 2021's amnesiac unlearning).
 *
 *   mode=idk:    min_theta E_{y in idk(F)}[L(y; theta)] + retain_weight * E_R[L]: descent on the
 *                neutral answer in place of each of F's posts, "HANDLE: I don't want to talk
 *                about this." (ul_ctx.idk, encoded by the run's tokenizer), so that after the
 *                user's handle the model says that instead (TOFU's IdkPO data used as text);
 *   mode=random: min_theta E_{x in F}[L(x, y'(x); theta)] + retain_weight * E_R[L], each text
 *                target of F's posts (the post boundaries, BOS/EOS targets, keep their labels)
 *                replaced by a uniformly random id among those that occur in the forget or
 *                retained posts (not the whole vocabulary: unused ids would teach nothing but
 *                noise), drawn afresh every step. */
#include "ul_private.h"

#include <stdlib.h>
#include <string.h>

/* Index of the post holding stream position j: the last i with off[i] <= j. */
static size_t post_of(const ul_posts *p, size_t j) {
    size_t lo = 0, hi = p->n; /* off[lo] <= j < off[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->off[mid] <= j)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The distinct ids of both sets, ascending: ids (count) into used (vocab). */
static int collect_used(const ul_posts *f, const ul_posts *r, int V, int *used) {
    unsigned char *seen = calloc((size_t)V, 1);
    if (!seen) return -1;
    const ul_posts *sets[2] = {f, r};
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < ul_posts_tokens(sets[k]); j++)
            if (sets[k]->ids[j] >= 0 && sets[k]->ids[j] < V) seen[sets[k]->ids[j]] = 1;
    int n = 0;
    for (int v = 0; v < V; v++)
        if (seen[v]) used[n++] = v;
    free(seen);
    return n;
}

/* Replace the text targets of the batch (B, T) whose windows start at starts (B) by random
 * used ids. */
static void relabel(const ul_posts *f, const int *used, int n_used, ub_rng *rng, int B, int T,
                    const size_t *starts, int *targets) {
    for (int b = 0; b < B; b++) {
        size_t i = post_of(f, starts[b] + 1);
        for (int t = 0; t < T; t++) {
            int *y = &targets[b * T + t];
            size_t j = starts[b] + (size_t)t + 1; /* stream index of the target */
            if (*y < 0) continue;
            while (i + 1 < f->n && f->off[i + 1] <= j)
                i++;
            /* Post i is BOS text EOS: positions off[i] and off[i+1]-1 are the boundaries. */
            if (j == f->off[i] || j + 1 == f->off[i + 1]) continue;
            *y = used[ub_rng_below(rng, (uint64_t)n_used)];
        }
    }
}

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    double rw = 0;
    int mode = 0, n_used = 0;
    int *used = NULL;
    size_t *starts = NULL;
    static const char *const modes[] = {"idk", "random", NULL};
    ub_status st = ul_run_init(&r, &ul_relabel, m, c, cost, e);
    if (!st) st = ul_param_choice(&r.p, "mode", modes, &mode, e);
    if (!st) st = ul_param_f64(&r.p, "retain_weight", 0, 1e6, UL_OWN, &rw, e);
    if (!st && mode == 0 && (!c->idk || c->idk->n == 0))
        st = ub_fail(e, UB_EARG, "method relabel: mode=idk needs the neutral answers (ul_ctx.idk)");
    if (!st)
        st = ul_sampler_init(&fs, mode == 0 ? c->idk : c->forget, r.T, c->seed, UL_STREAM_FORGET,
                             r.name, mode == 0 ? "neutral answers" : "forget", e);
    if (!st && rw > 0)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    if (!st) {
        starts = ub_malloc((size_t)r.B * sizeof(size_t), "window starts", e);
        used = ub_malloc((size_t)m->cfg.vocab_size * sizeof(int), "used ids", e);
        if (!starts || !used) st = UB_ENOMEM;
    }
    if (!st && mode == 1 &&
        (n_used = collect_used(c->forget, c->retain, m->cfg.vocab_size, used)) <= 0)
        st = ub_fail(e, UB_ENOMEM, "method relabel: out of memory for the used-id table");
    for (long s = 0; !st && s < r.steps; s++) {
        double lf, lr;
        ub_rng rng;
        ub_rng_init(&rng, c->seed, UL_STREAM_LABELS + (uint64_t)s);
        gpt_zero_grad(m);
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, starts);
        if (mode == 1) relabel(c->forget, used, n_used, &rng, r.B, r.T, starts, r.targets);
        st = ul_fb(&r, m, r.inputs, r.targets, 1.0f, s,
                   mode == 0 ? "neutral answers' loss" : "relabeled forget loss", &lf, e);
        if (!st && rw > 0) {
            ul_sampler_next(&rs, r.B, r.inputs2, r.targets2, NULL);
            st = ul_fb(&r, m, r.inputs2, r.targets2, (float)rw, s, "retained loss", &lr, e);
        }
        if (!st) st = ul_step(&r, m, s, e);
    }
    free(starts);
    free(used);
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_relabel = {
    "relabel",
    "train on a neutral answer in place of each post of F (idk) or on F with random targets",
    "steps=40,lr=1e-5,batch=train,mode=idk,retain_weight=1",
    apply,
    "lr=1e-4|3e-4|1e-3;steps=80|160;retain_weight=1|5",
};

/* bench/unlearn/methods/common.c: hyperparameters, batches, the AdamW loop pieces, finiteness checks and
 * cost accounting that the method files share (ul_private.h). */
#include "ul_private.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- hyperparameters -------------------------------------------------------------------- */
static int find_key(const ul_params *p, const char *key) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->key[i], key) == 0) return i;
    return -1;
}

/* Copy s[0..n) into dst (cap bytes) without surrounding blanks; 0 if it does not fit. */
static int copy_trimmed(char *dst, size_t cap, const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= cap) return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

/* List the known keys into buf, for the unknown-key message. */
static void known_keys(const ul_params *p, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->n && len + 1 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", p->key[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
}

/* Apply "k=v,k=v" to p. defaults = 1: new keys are added (the method's own list); 0: every key
 * must exist already and may be given once. Empty items (",,", a trailing comma) are skipped. */
static ub_status parse_into(ul_params *p, const char *s, int defaults, int *given, ub_err *e) {
    const char *item = s;
    while (item && *item) {
        const char *end = strchr(item, ',');
        size_t n = end ? (size_t)(end - item) : strlen(item);
        const char *eq = memchr(item, '=', n);
        char key[UL_KEY_LEN], val[UL_VAL_LEN];
        size_t kn = eq ? (size_t)(eq - item) : n;
        int key_ok = copy_trimmed(key, sizeof key, item, kn);
        if (!key_ok) snprintf(key, sizeof key, "%.*s...", (int)(sizeof key - 4), item);
        int blank = 1;
        for (size_t i = 0; i < n; i++)
            blank &= isspace((unsigned char)item[i]) != 0;
        if (!blank) {
            if (!key_ok || key[0] == '\0')
                return ub_fail(e, UB_EARG, "method %s: hyperparameter '%.*s' has no key", p->method,
                               (int)n, item);
            int k = find_key(p, key);
            if (!defaults && k < 0) {
                char known[512];
                known_keys(p, known, sizeof known);
                return ub_fail(e, UB_EARG, "method %s: unknown hyperparameter '%s' (known: %s)",
                               p->method, key, known);
            }
            if (!eq)
                return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' needs a value (%s=...)",
                               p->method, key, key);
            if (!copy_trimmed(val, sizeof val, eq + 1, n - kn - 1))
                return ub_fail(e, UB_EARG, "method %s: value of hyperparameter '%s' is too long",
                               p->method, key);
            if (val[0] == '\0')
                return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' has an empty value",
                               p->method, key);
            if (defaults) {
                if (k >= 0 || p->n >= UL_MAX_PARAMS)
                    return ub_fail(e, UB_EINTERNAL,
                                   "method %s: default hyperparameter '%s' repeated or too many",
                                   p->method, key);
                k = p->n++;
                memcpy(p->key[k], key, sizeof key);
            } else {
                if (given[k])
                    return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' given twice",
                                   p->method, key);
                given[k] = 1;
            }
            memcpy(p->val[k], val, sizeof val);
        }
        item = end ? end + 1 : NULL;
    }
    return UB_OK;
}

ub_status ul_params_parse(ul_params *p, const ul_method *meth, const char *user, ub_err *e) {
    memset(p, 0, sizeof *p);
    p->method = meth->name;
    ub_status st = parse_into(p, meth->params, 1, NULL, e);
    if (!st) st = parse_into(p, UL_COMMON_PARAMS, 1, NULL, e);
    int given[UL_MAX_PARAMS] = {0};
    if (!st && user) st = parse_into(p, user, 0, given, e);
    return st;
}

const char *ul_param_raw(const ul_params *p, const char *key) {
    int k = find_key(p, key);
    return k < 0 ? NULL : p->val[k];
}

static ub_status param_value(const ul_params *p, const char *key, const char **v, ub_err *e) {
    *v = ul_param_raw(p, key);
    if (!*v)
        return ub_fail(e, UB_EINTERNAL, "method %s: hyperparameter '%s' has no default", p->method,
                       key);
    return UB_OK;
}

ub_status ul_param_f64(const ul_params *p, const char *key, double lo, double hi, double inherit,
                       double *out, ub_err *e) {
    const char *v;
    ub_status st = param_value(p, key, &v, e);
    if (st) return st;
    double x = inherit;
    if (strcmp(v, "train") == 0 && isnan(inherit))
        return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' has no 'train' setting",
                       p->method, key);
    if (strcmp(v, "train") != 0) {
        char *end;
        errno = 0;
        x = strtod(v, &end);
        if (end == v || *end != '\0' || errno == ERANGE || !isfinite(x))
            return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s': '%s' is not a number",
                           p->method, key, v);
    }
    if (!(x >= lo && x <= hi))
        return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' = %g is outside [%g, %g]",
                       p->method, key, x, lo, hi);
    *out = x;
    return UB_OK;
}

ub_status ul_param_long(const ul_params *p, const char *key, long lo, long hi, long inherit,
                        long *out, ub_err *e) {
    const char *v;
    ub_status st = param_value(p, key, &v, e);
    if (st) return st;
    long x = inherit;
    if (strcmp(v, "train") == 0 && inherit == UL_OWN_LONG)
        return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' has no 'train' setting",
                       p->method, key);
    if (strcmp(v, "train") != 0) {
        char *end;
        errno = 0;
        x = strtol(v, &end, 10);
        if (end == v || *end != '\0' || errno == ERANGE)
            return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s': '%s' is not an integer",
                           p->method, key, v);
    }
    if (x < lo || x > hi)
        return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s' = %ld is outside [%ld, %ld]",
                       p->method, key, x, lo, hi);
    *out = x;
    return UB_OK;
}

ub_status ul_param_choice(const ul_params *p, const char *key, const char *const *choices, int *out,
                          ub_err *e) {
    const char *v;
    ub_status st = param_value(p, key, &v, e);
    if (st) return st;
    char list[256] = "";
    size_t len = 0;
    for (int i = 0; choices[i]; i++) {
        if (strcmp(v, choices[i]) == 0) {
            *out = i;
            return UB_OK;
        }
        int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", choices[i]);
        if (w > 0 && (size_t)w < sizeof list - len) len += (size_t)w;
    }
    return ub_fail(e, UB_EARG, "method %s: hyperparameter '%s': '%s' is not one of %s", p->method,
                   key, v, list);
}

/* ---- batches ---------------------------------------------------------------------------- */
size_t ul_posts_tokens(const ul_posts *p) {
    return p && p->n ? p->off[p->n] : 0;
}

static void sampler_shuffle(ul_sampler *s) {
    for (long i = 0; i < s->n_win; i++)
        s->perm[i] = i;
    ub_rng r;
    ub_rng_init(&r, s->seed, s->stream + (uint64_t)s->epoch);
    ub_rng_shuffle(&r, s->perm, s->n_win);
}

ub_status ul_sampler_init(ul_sampler *s, const ul_posts *posts, int T, uint64_t seed,
                          uint64_t stream, const char *method, const char *what, ub_err *e) {
    memset(s, 0, sizeof *s);
    s->posts = posts;
    s->n_tok = ul_posts_tokens(posts);
    s->T = T;
    s->seed = seed;
    s->stream = stream;
    if (s->n_tok < 2)
        return ub_fail(e, UB_EARG, "method %s: the %s posts have %zu tokens (needs at least 2)",
                       method, what, s->n_tok);
    size_t n_pred = s->n_tok - 1; /* tokens that can be targets */
    s->n_win = n_pred <= (size_t)T ? 1 : (long)((n_pred + (size_t)T - 1) / (size_t)T);
    s->perm = ub_malloc((size_t)s->n_win * sizeof(int64_t), "window order", e);
    if (!s->perm) return UB_ENOMEM;
    sampler_shuffle(s);
    return UB_OK;
}

void ul_sampler_next(ul_sampler *s, int B, int *inputs, int *targets, size_t *starts) {
    int T = s->T;
    const int32_t *ids = s->posts->ids;
    size_t n_pred = s->n_tok - 1;
    for (int b = 0; b < B; b++) {
        if (s->pos >= s->n_win) {
            s->epoch++;
            s->pos = 0;
            sampler_shuffle(s);
        }
        size_t w = (size_t)s->perm[s->pos++];
        size_t start = 0;
        if (n_pred > (size_t)T) {
            start = w * (size_t)T;
            if (start + (size_t)T > n_pred) start = n_pred - (size_t)T; /* the last window */
        }
        for (int t = 0; t < T; t++) {
            size_t j = start + (size_t)t;
            int in_range = j < n_pred;
            inputs[b * T + t] = in_range ? ids[j] : 0;
            targets[b * T + t] = in_range ? ids[j + 1] : -1;
        }
        if (starts) starts[b] = start;
    }
}

void ul_sampler_free(ul_sampler *s) {
    free(s->perm);
    s->perm = NULL;
}

/* ---- a method run ----------------------------------------------------------------------- */
ub_status ul_run_init(ul_run *r, const ul_method *meth, gpt_model *m, const ul_ctx *c,
                      ul_cost *cost, ub_err *e) {
    memset(r, 0, sizeof *r);
    memset(cost, 0, sizeof *cost);
    r->name = meth->name;
    r->c = c;
    r->cost = cost;
    if (!c || !c->train || !c->original || !c->forget || !c->retain)
        return ub_fail(e, UB_EARG,
                       "method %s: the context lacks the original, its training "
                       "config or a posts set",
                       meth->name);
    if (c->original->n_params != m->n_params ||
        memcmp(&c->original->cfg, &m->cfg, sizeof m->cfg) != 0)
        return ub_fail(e, UB_EARG, "method %s: the model is not shaped like the original",
                       meth->name);
    ub_status st = ul_params_parse(&r->p, meth, c->params, e);
    if (st) return st;
    const gpt_train_cfg *tc = c->train;
    long B, T;
    int sched;
    static const char *const scheds[] = {"const", "linear", NULL};
    int T_train = tc->ctx > 0 ? tc->ctx : m->cfg.n_ctx;
    double wd;
    /* A method without an optimizer (newton) has no lr key. */
    int has_lr = ul_param_raw(&r->p, "lr") != NULL;
    if ((st = ul_param_long(&r->p, "steps", 1, 100000000L, UL_OWN_LONG, &r->steps, e)) ||
        (has_lr && (st = ul_param_f64(&r->p, "lr", 0, 1, tc->lr, &r->lr, e))) ||
        (st = ul_param_long(&r->p, "batch", 1, 1L << 20, tc->batch, &B, e)) ||
        (st = ul_param_long(&r->p, "ctx", 1, m->cfg.n_ctx, T_train, &T, e)) ||
        (st = ul_param_f64(&r->p, "clip", 0, 1e30, tc->grad_clip, &r->clip, e)) ||
        (st = ul_param_f64(&r->p, "wd", 0, 1e3, tc->weight_decay, &wd, e)) ||
        (st = ul_param_choice(&r->p, "sched", scheds, &sched, e)))
        return st;
    if (has_lr && !(r->lr > 0))
        return ub_fail(e, UB_EARG, "method %s: hyperparameter 'lr' must be > 0", meth->name);
    r->B = (int)B;
    r->T = (int)T;
    r->sched = (ul_sched)sched;
    r->h = (gpt_adamw){r->lr, tc->beta1, tc->beta2, tc->eps, wd};
    /* Fresh optimizer state: the method's AdamW starts from zero moments. */
    gpt_zero_grad(m);
    if (m->m_mem) memset(m->m_mem, 0, m->n_params * sizeof(float));
    if (m->v_mem) memset(m->v_mem, 0, m->n_params * sizeof(float));
    m->adam_step = 0;
    size_t BT = (size_t)r->B * (size_t)r->T;
    r->inputs = ub_malloc(BT * sizeof(int), "method batch", e);
    r->targets = ub_malloc(BT * sizeof(int), "method batch", e);
    r->inputs2 = ub_malloc(BT * sizeof(int), "method batch", e);
    r->targets2 = ub_malloc(BT * sizeof(int), "method batch", e);
    if (!r->inputs || !r->targets || !r->inputs2 || !r->targets2) return UB_ENOMEM;
    /* The scratch batches; the model's own buffers are the baseline ul_cost excludes. */
    r->cost->extra_bytes = 4 * BT * sizeof(int);
    return UB_OK;
}

void ul_run_free(ul_run *r) {
    free(r->inputs);
    free(r->targets);
    free(r->inputs2);
    free(r->targets2);
    r->inputs = r->targets = r->inputs2 = r->targets2 = NULL;
}

double ul_lr_at(const ul_run *r, long step) {
    if (r->sched == UL_SCHED_LINEAR) return r->lr * (1.0 - (double)step / (double)r->steps);
    return r->lr;
}

ub_status ul_check_finite(const char *method, long step, const char *what, double v, ub_err *e) {
    if (isfinite(v)) return UB_OK;
    return ub_fail(e, UB_ENUMERIC, "method %s: step %ld: %s is %s (diverged)", method, step, what,
                   isnan(v) ? "NaN" : "Inf");
}

ub_status ul_check_params(const char *method, long step, const gpt_model *m, ub_err *e) {
    for (int i = 0; i < m->n_tensors; i++) {
        const float *p = m->params_mem + m->tensors[i].offset;
        for (size_t j = 0; j < m->tensors[i].numel; j++)
            if (!isfinite(p[j]))
                return ub_fail(e, UB_ENUMERIC,
                               "method %s: step %ld: parameter tensor %s is not finite "
                               "(diverged)",
                               method, step, m->tensors[i].name);
    }
    return UB_OK;
}

ub_status ul_fb(ul_run *r, gpt_model *m, const int *inputs, const int *targets, float scale,
                long step, const char *what, double *loss, ub_err *e) {
    ub_status st = gpt_forward_backward(m, inputs, targets, r->B, r->T, scale, loss, e);
    if (st) return st;
    ul_cost_train(r->cost, m, r->T, (double)r->B * r->T);
    return ul_check_finite(r->name, step + 1, what, *loss, e);
}

ub_status ul_step(ul_run *r, gpt_model *m, long step, ub_err *e) {
    double norm = gpt_clip_grad(m, r->clip);
    if (!isfinite(norm)) {
        const char *bad = gpt_nonfinite_grad(m);
        return ub_fail(e, UB_ENUMERIC, "method %s: step %ld: gradient of tensor %s is not finite",
                       r->name, step + 1, bad ? bad : "?");
    }
    r->h.lr = ul_lr_at(r, step);
    ub_status st = gpt_adamw_step(m, &r->h, e);
    if (st) return st;
    r->cost->steps++;
    return ul_check_params(r->name, step + 1, m, e);
}

/* ---- cost ------------------------------------------------------------------------------- */
void ul_cost_train(ul_cost *c, const gpt_model *m, int T, double tokens) {
    c->tokens += tokens;
    c->flops += gpt_train_flops(&m->cfg, m->n_params, T, tokens);
}

void ul_cost_forward(ul_cost *c, const gpt_model *m, int T, double tokens) {
    c->tokens += tokens;
    c->flops += gpt_train_flops(&m->cfg, m->n_params, T, tokens) / 3.0;
}

size_t ul_forward_model_bytes(const gpt_config *cfg, size_t n_params, int B, int T) {
    /* Floats per position as models/gpt.c allocates them: per layer 16C + 4 (ln1, qkv, atty,
     * residual2, ln2, fch, fch_gelu, residual3, the LayerNorm statistics) plus the (T) attention
     * row per head; once 2C + V + 3 (encoded, lnf, probs, losses); scratch 14C + 1 plus one
     * attention map; two int ids. */
    size_t C = (size_t)cfg->n_embd, L = (size_t)cfg->n_layer, V = (size_t)cfg->vocab_size;
    size_t NH = (size_t)cfg->n_head, BT = (size_t)B * (size_t)T;
    size_t att = BT * NH * (size_t)T;
    size_t floats = L * (BT * (16 * C + 4) + att) + BT * (2 * C + V + 3) + BT * (14 * C + 1) + att;
    return (n_params + floats) * sizeof(float) + 2 * BT * sizeof(int);
}

/* ---- models ----------------------------------------------------------------------------- */
ub_status ul_copy_model(gpt_model *dst, const gpt_model *src, ub_err *e) {
    ub_status st = gpt_build(dst, &src->cfg, &src->tune, e);
    if (st) return st;
    memcpy(dst->params_mem, src->params_mem, src->n_params * sizeof(float));
    return UB_OK;
}

ub_status ul_ref_forward(ul_run *r, gpt_model *ref, const int *inputs, const int *targets,
                         ub_err *e) {
    ub_status st = gpt_forward(ref, inputs, targets, r->B, r->T, e);
    if (st) return st;
    ul_cost_forward(r->cost, ref, r->T, (double)r->B * r->T);
    return UB_OK;
}

void ul_post_rows(const ul_posts *p, const size_t *which, int B, int T, int *inputs,
                  int *targets) {
    for (int b = 0; b < B; b++) {
        size_t i = which[b], a = p->off[i], len = p->off[i + 1] - a;
        size_t n = len > 1 ? len - 1 : 0;
        if (n > (size_t)T) n = (size_t)T;
        for (int t = 0; t < T; t++) {
            inputs[b * T + t] = (size_t)t < n ? p->ids[a + (size_t)t] : 0;
            targets[b * T + t] = (size_t)t < n ? p->ids[a + (size_t)t + 1] : -1;
        }
    }
}

ub_status ul_train_on(ul_run *r, gpt_model *m, const ul_posts *posts, uint64_t seed,
                      uint64_t stream, const char *which, float scale, const char *what,
                      ub_err *e) {
    ul_sampler smp = {0};
    ub_status st = ul_sampler_init(&smp, posts, r->T, seed, stream, r->name, which, e);
    for (long s = 0; !st && s < r->steps; s++) {
        double loss;
        ul_sampler_next(&smp, r->B, r->inputs, r->targets, NULL);
        gpt_zero_grad(m);
        st = ul_fb(r, m, r->inputs, r->targets, scale, s, what, &loss, e);
        if (!st) st = ul_step(r, m, s, e);
    }
    ul_sampler_free(&smp);
    return st;
}

/* datasets/splits.c: training set under a policy, members and non-members, forget sets. */
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

void corpus_policy_default(corpus_policy *p) {
    p->public_only = 1;
    p->adults_only = 1;
    p->honour_objection = 1;
    p->before_cutoff = 1;
}

static int user_admitted(const corpus_policy *p, const corpus_user *u) {
    if (p->adults_only && u->is_adult != 1) return 0;
    if (p->honour_objection && u->objection == CORPUS_OBJ_BEFORE) return 0;
    return 1;
}

static int post_admitted(const corpus_policy *p, const corpus *c, const corpus_post *q) {
    if (q->fresh) return 0;
    if (p->public_only && q->visibility != CORPUS_VIS_PUBLIC) return 0;
    if (p->before_cutoff && c->cutoff_time > 0 && q->time >= c->cutoff_time) return 0;
    return user_admitted(p, &c->users[q->user]);
}

ub_status corpus_split_make(corpus_split *s, const corpus *c, const corpus_policy *p,
                            double nonmember_frac, uint64_t seed, ub_err *e) {
    memset(s, 0, sizeof *s);
    if (!(nonmember_frac >= 0 && nonmember_frac < 1))
        return ub_fail(e, UB_EARG, "non-member fraction %g must be in [0, 1)", nonmember_frac);
    s->role = ub_malloc(c->n_users ? c->n_users : 1, "user roles", e);
    s->eligible = ub_calloc(c->n_posts ? c->n_posts : 1, 1, "eligible posts", e);
    size_t *count = ub_calloc(c->n_users ? c->n_users : 1, sizeof *count, "post counts", e);
    int64_t *cand = ub_malloc((c->n_users ? c->n_users : 1) * sizeof *cand, "candidates", e);
    if (!s->role || !s->eligible || !count || !cand) {
        free(count);
        free(cand);
        corpus_split_free(s);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < c->n_posts; i++)
        if (post_admitted(p, c, &c->posts[i])) {
            s->eligible[i] = 1;
            count[c->posts[i].user]++;
        }
    int64_t n_cand = 0;
    for (size_t u = 0; u < c->n_users; u++) {
        s->role[u] = count[u] ? CORPUS_ROLE_MEMBER : CORPUS_ROLE_EXCLUDED;
        if (count[u]) cand[n_cand++] = (int64_t)u;
    }
    /* Non-members: a seeded shuffle of the users with eligible posts, the first share held out:
     * the same population, never trained on (their eligible posts stay marked, as the
     * non-member side of membership inference). */
    ub_rng r;
    ub_rng_init(&r, seed, 0x5b117000ull);
    ub_rng_shuffle(&r, cand, n_cand);
    int64_t n_non = (int64_t)(nonmember_frac * (double)n_cand + 0.5);
    for (int64_t i = 0; i < n_non; i++) s->role[cand[i]] = CORPUS_ROLE_NONMEMBER;
    for (size_t u = 0; u < c->n_users; u++) {
        s->n_members += s->role[u] == CORPUS_ROLE_MEMBER;
        s->n_nonmembers += s->role[u] == CORPUS_ROLE_NONMEMBER;
        s->n_excluded += s->role[u] == CORPUS_ROLE_EXCLUDED;
    }
    free(count);
    free(cand);
    return UB_OK;
}

void corpus_split_free(corpus_split *s) {
    free(s->role);
    free(s->eligible);
    memset(s, 0, sizeof *s);
}

static const char *rule_names[] = {"random", "heavy", "secrets", "sensitive", "objected"};

int corpus_forget_rule_parse(const char *name) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, rule_names[i])) return i;
    return -1;
}

const char *corpus_forget_rule_name(corpus_forget_rule r) {
    return r >= 0 && r < 5 ? rule_names[r] : "?";
}

typedef struct ranked {
    int64_t user;
    size_t posts;
    uint64_t tie; /* seeded, so equal post counts are ordered reproducibly but not by index */
} ranked;

static int by_posts_desc(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->posts != y->posts) return x->posts < y->posts ? 1 : -1;
    return x->tie < y->tie ? -1 : x->tie > y->tie;
}

static int by_index(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ub_status corpus_forget_set(const corpus *c, const corpus_split *s, corpus_forget_rule rule,
                            size_t n, uint64_t seed, int64_t **users, size_t *n_out, ub_err *e) {
    *users = NULL;
    *n_out = 0;
    if (rule < 0 || rule > CORPUS_FORGET_OBJECTED)
        return ub_fail(e, UB_EARG, "unknown forget rule %d", (int)rule);
    ranked *cand = ub_calloc(c->n_users ? c->n_users : 1, sizeof *cand, "forget candidates", e);
    size_t *count = ub_calloc(c->n_users ? c->n_users : 1, sizeof *count, "post counts", e);
    uint8_t *has_secret = ub_calloc(c->n_users ? c->n_users : 1, 1, "secret owners", e);
    if (!cand || !count || !has_secret) {
        free(cand);
        free(count);
        free(has_secret);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < c->n_posts; i++)
        if (s->eligible[i]) count[c->posts[i].user]++; /* only members are candidates below */
    for (size_t i = 0; i < c->n_secrets; i++)
        if (c->secrets[i].inserted > 0) has_secret[c->secrets[i].user] = 1;
    ub_rng r;
    ub_rng_init(&r, seed, 0xf0e9e7ull);
    size_t m = 0;
    for (size_t u = 0; u < c->n_users; u++) {
        uint64_t tie = ub_rng_u64(&r); /* drawn for every user: stable across rules */
        if (s->role[u] != CORPUS_ROLE_MEMBER) continue;
        const corpus_user *x = &c->users[u];
        int ok = rule == CORPUS_FORGET_RANDOM || rule == CORPUS_FORGET_HEAVY ||
                 (rule == CORPUS_FORGET_SECRETS && has_secret[u]) ||
                 (rule == CORPUS_FORGET_SENSITIVE && x->sensitive_kind != CORPUS_SENS_NONE) ||
                 (rule == CORPUS_FORGET_OBJECTED && x->objection == CORPUS_OBJ_AFTER);
        if (ok) cand[m++] = (ranked){(int64_t)u, rule == CORPUS_FORGET_HEAVY ? count[u] : 0, tie};
    }
    /* heavy: most posts first; the others: all post counts equal, so the seeded tie order is a
     * uniform random draw. */
    qsort(cand, m, sizeof *cand, by_posts_desc);
    size_t k = n < m ? n : m;
    int64_t *out = ub_malloc((k ? k : 1) * sizeof *out, "forget set", e);
    ub_status st = out ? UB_OK : UB_ENOMEM;
    for (size_t i = 0; out && i < k; i++) out[i] = cand[i].user;
    if (out) qsort(out, k, sizeof *out, by_index);
    free(cand);
    free(count);
    free(has_secret);
    if (!st) {
        *users = out;
        *n_out = k;
    }
    return st;
}

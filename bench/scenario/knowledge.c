/* bench/scenario/knowledge.c: the knowledge probes of a seed: what the corpus says about a user
 * (home city, special-category attribute) as a cloze after the user's handle, for F's users, for
 * a seeded sample of retained members, and the same phrases after the handles of non-members
 * (the calibration items). eval/probes.c asks the models. */
#include <stdlib.h>
#include <string.h>

#include "scenario_private.h"

/* A phrase the probes use: one kind in one language, with its values. Users are asked in the
 * phrasing of their language, and the city phrase tells that language (lang). */
typedef struct form {
    int kind;
    char lang[96];
    corpus_probe p;
} form;

/* The user's probes, and in lang the phrase of their city probe ("" when they have none). */
static int user_probes(const corpus *c, int64_t u, corpus_probe pr[2], char lang[96]) {
    int np = corpus_user_probes(c, u, pr);
    lang[0] = '\0';
    for (int q = 0; q < np; q++)
        if (pr[q].kind == CORPUS_PROBE_CITY) snprintf(lang, 96, "%s", pr[q].before);
    return np;
}

void run_probes_free(probe_set *ps) {
    for (size_t i = 0; i < ps->n; i++) free(ps->ctx[i]), free(ps->ids[i]), free(ps->off[i]);
    free(ps->user), free(ps->group), free(ps->kind), free(ps->form), free(ps->truth);
    free(ps->n_values), free(ps->ctx), free(ps->n_ctx), free(ps->ids), free(ps->off);
    memset(ps, 0, sizeof *ps);
}

/* Append item: probe p asked after u's handle, in group g, of form f. */
static ub_status add_item(probe_set *ps, const run_corpus *rc, int64_t u, int g, int f,
                          const corpus_probe *p, int truth, ub_err *e) {
    size_t k = ps->n++;
    ps->user[k] = u, ps->group[k] = g, ps->kind[k] = p->kind, ps->form[k] = f;
    ps->truth[k] = truth, ps->n_values[k] = p->n_values;
    ps->ctx[k] = ub_malloc(RUN_MAX_PROMPT * sizeof(int32_t), "probe context", e);
    ps->ids[k] = ub_malloc((size_t)p->n_values * RUN_MAX_VALUE * sizeof(int32_t), "probe", e);
    ps->off[k] = ub_malloc(((size_t)p->n_values + 1) * sizeof(size_t), "probe", e);
    if (!ps->ctx[k] || !ps->ids[k] || !ps->off[k]) return UB_ENOMEM;
    char pre[RUN_MAX_PROMPT], val[RUN_MAX_VALUE], lead[4];
    run_split_space(p->before, pre, sizeof pre, lead);
    ps->n_ctx[k] = run_encode_prompt(rc, u, pre, ps->ctx[k], RUN_MAX_PROMPT);
    if (ps->n_ctx[k] < 0)
        return ub_fail(e, UB_EFORMAT, "probe of user %lld: context longer than %d bytes",
                       (long long)u, RUN_MAX_PROMPT);
    ps->off[k][0] = 0;
    for (int v = 0; v < p->n_values; v++) {
        snprintf(val, sizeof val, "%s%s%s", lead, p->values[v], p->after);
        size_t nt = 0;
        corpus_bpe_encode(&rc->bpe, val, strlen(val), ps->ids[k] + ps->off[k][v], &nt);
        ps->off[k][v + 1] = ps->off[k][v] + nt;
    }
    return UB_OK;
}

/* The probes about users[0..n) in group g; new forms go into fs. */
static ub_status ask_users(probe_set *ps, const run_corpus *rc, const int64_t *users, size_t n,
                           int g, form *fs, ub_err *e) {
    corpus_probe pr[2];
    char lang[96];
    ub_status st = UB_OK;
    for (size_t i = 0; !st && i < n; i++) {
        int np = user_probes(&rc->c, users[i], pr, lang);
        for (int q = 0; !st && q < np; q++) {
            int f = 0;
            while (f < ps->n_forms && (fs[f].kind != pr[q].kind || strcmp(fs[f].p.before,
                                                                          pr[q].before)))
                f++;
            if (f == ps->n_forms) {
                if (f == RUN_PROBE_MAX_FORMS)
                    return ub_fail(e, UB_EFORMAT, "probes: more than %d phrases",
                                   RUN_PROBE_MAX_FORMS);
                fs[f].kind = pr[q].kind, fs[f].p = pr[q];
                snprintf(fs[f].lang, sizeof fs[f].lang, "%s", lang);
                ps->n_forms++;
            }
            st = add_item(ps, rc, users[i], g, f, &pr[q], pr[q].truth, e);
        }
    }
    return st;
}

/* Up to k of the users u with take[u] and at least one probe, drawn with r (all when fewer),
 * in ascending order, into out (*got of them). */
static ub_status draw_users(const corpus *c, const uint8_t *take, size_t k, ub_rng *r,
                            int64_t *out, size_t *got, ub_err *e) {
    int64_t *all = ub_malloc((c->n_users + 1) * sizeof(int64_t), "probe users", e);
    if (!all) return UB_ENOMEM;
    size_t n = 0;
    corpus_probe pr[2];
    for (size_t u = 0; u < c->n_users; u++)
        if (take[u] && corpus_user_probes(c, (int64_t)u, pr) > 0) all[n++] = (int64_t)u;
    if (k > n) k = n;
    for (size_t i = 0; i < k; i++) { /* a partial Fisher-Yates: the first k of a shuffle */
        size_t j = i + (size_t)ub_rng_below(r, n - i);
        int64_t t = all[i];
        all[i] = all[j], all[j] = t;
    }
    for (size_t i = 1; i < k; i++) /* insertion sort: the order should not depend on the draw */
        for (size_t j = i; j > 0 && all[j - 1] > all[j]; j--) {
            int64_t t = all[j];
            all[j] = all[j - 1], all[j - 1] = t;
        }
    memcpy(out, all, k * sizeof(int64_t));
    *got = k;
    free(all);
    return UB_OK;
}

ub_status run_probes_make(probe_set *ps, const run_corpus *rc, const run_scenario *sc,
                          uint64_t seed, ub_err *e) {
    memset(ps, 0, sizeof *ps);
    const corpus *c = &rc->c;
    if (!rc->author) return UB_OK; /* without the handle in the text no probe can name a user */
    /* at most 2 probes per user of F and of the retained sample, RUN_PROBE_CAL per form */
    size_t nu = c->n_users;
    size_t cap = 4 * sc->n_forget + (size_t)RUN_PROBE_MAX_FORMS * RUN_PROBE_CAL + 1;
    ps->user = ub_calloc(cap, sizeof(int64_t), "probes", e);
    ps->group = ub_calloc(cap, sizeof(int), "probes", e);
    ps->kind = ub_calloc(cap, sizeof(int), "probes", e);
    ps->form = ub_calloc(cap, sizeof(int), "probes", e);
    ps->truth = ub_calloc(cap, sizeof(int), "probes", e);
    ps->n_values = ub_calloc(cap, sizeof(int), "probes", e);
    ps->ctx = ub_calloc(cap, sizeof(int32_t *), "probes", e);
    ps->n_ctx = ub_calloc(cap, sizeof(int), "probes", e);
    ps->ids = ub_calloc(cap, sizeof(int32_t *), "probes", e);
    ps->off = ub_calloc(cap, sizeof(size_t *), "probes", e);
    form *fs = ub_calloc(RUN_PROBE_MAX_FORMS, sizeof *fs, "probe phrases", e);
    uint8_t *take = ub_calloc(nu + 1, 1, "probe users", e);
    int64_t *users = ub_calloc(nu + 1, sizeof(int64_t), "probe users", e);
    ub_status st = ps->user && ps->group && ps->kind && ps->form && ps->truth && ps->n_values &&
                           ps->ctx && ps->n_ctx && ps->ids && ps->off && fs && take && users
                       ? UB_OK
                       : UB_ENOMEM;
    if (!st) st = ask_users(ps, rc, sc->forget_users, sc->n_forget, RUN_PROBE_F, fs, e);
    /* as many retained members as F has users: the collateral damage of a method */
    ub_rng r;
    ub_rng_init(&r, seed, 3000000);
    for (size_t u = 0; !st && u < nu; u++)
        take[u] = sc->split.role[u] == CORPUS_ROLE_MEMBER && !sc->in_forget[u];
    size_t nr = 0;
    if (!st) st = draw_users(c, take, sc->n_forget, &r, users, &nr, e);
    if (!st) st = ask_users(ps, rc, users, nr, RUN_PROBE_RETAINED, fs, e);
    /* every form after the handles of non-members of its language, drawn per form (none for
     * a user without a city probe: their language is unknown) */
    for (int f = 0, nf = ps->n_forms; !st && f < nf; f++) {
        corpus_probe pr[2];
        char lang[96];
        if (!fs[f].lang[0]) continue;
        for (size_t u = 0; u < nu; u++)
            take[u] = sc->split.role[u] == CORPUS_ROLE_NONMEMBER &&
                      user_probes(c, (int64_t)u, pr, lang) > 0 && !strcmp(lang, fs[f].lang);
        ub_rng_init(&r, seed, 3000001 + (uint64_t)f);
        size_t nc = 0;
        st = draw_users(c, take, RUN_PROBE_CAL, &r, users, &nc, e);
        for (size_t i = 0; !st && i < nc; i++) {
            /* their own value when they have one of this kind: a check that the calibrated
             * rank of someone no model saw is at chance (eval/probes.c, leave one out) */
            int np = user_probes(c, users[i], pr, lang), truth = -1;
            for (int q = 0; q < np; q++)
                if (pr[q].kind == fs[f].kind) truth = pr[q].truth;
            st = add_item(ps, rc, users[i], RUN_PROBE_CALIB, f, &fs[f].p, truth, e);
        }
    }
    free(fs), free(take), free(users);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory for the probes");
    return st;
}

/* datasets/generate.c: the synthetic social-media corpus (corpus_generate, see corpus.h): plans
 * the posts of the users that gen_users.c drew, orders them, and writes their texts.
 *
 * Profiles, their documented defaults and the range checks live in gen_config.c; users, secrets
 * and knowledge probes in gen_users.c; words, personas and post texts in gen_text.c.
 *
 * Determinism: every random choice comes from a counter-based stream keyed by (seed, stream);
 * streams are per user (persona: u+1; post times, visibility and flags: GEN_S_TIMES; replies:
 * GEN_S_REPLY) and per post (text: GEN_S_TEXT / GEN_S_FRESH, fresh time etc.: GEN_S_FRESH_META,
 * each with user << 24 | post number), so a
 * user's posts never depend on another user's draws. Two things are global and done serially
 * in user order: handle and secret uniqueness (a collision redraws from the same user stream).
 *
 * Post order: the corpus proper first, sorted by (time, user, post number), so a reply (always
 * to a strictly earlier post of a followed user) has a smaller index; then the fresh posts,
 * by user then post number (reply_to = -1, never a secret).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_private.h"

#define GEN_S_TIMES (1ull << 56)
#define GEN_S_REPLY (2ull << 56)
#define GEN_S_TEXT (3ull << 56)
#define GEN_S_FRESH (4ull << 56)
#define GEN_S_FRESH_META (5ull << 56)
#define GEN_P_REPLY 0.15   /* share of corpus-proper posts that reply to a followed user */
#define GEN_P_MENTION 0.10 /* share of posts that @mention a followed user */

/* ---- posts ---- */
typedef struct gen_posts { /* flat corpus-proper posts: user u's k-th is base[u] + k */
    int64_t *time;     /* (n) sorted within each user */
    int64_t *reply;    /* (n) flat index of the post replied to, -1 */
    int32_t *mention;  /* (n) user mentioned, -1 */
    int32_t *user;     /* (n) */
    int8_t *vis;       /* (n) */
    uint8_t *flags;    /* (n) CORPUS_POST_* plus GEN_FIXED */
} gen_posts;
#define GEN_FIXED 0x80u /* the fixed special-category template */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int8_t draw_vis(const corpus_gen_cfg *g, ub_rng *r) {
    double x = ub_rng_uniform(r);
    return x < g->frac_private ? CORPUS_VIS_PRIVATE
           : x < g->frac_private + g->frac_friends ? CORPUS_VIS_FRIENDS
                                                   : CORPUS_VIS_PUBLIC;
}

/* Phase B1 (stream GEN_S_TIMES|u): times, visibility, secret and special-category posts. */
static void plan_user(const corpus_gen_cfg *g, const gen_user *gu, int64_t u, gen_posts *P,
                      int64_t *scratch) {
    ub_rng r;
    ub_rng_init(&r, g->seed, GEN_S_TIMES | (uint64_t)(u + 1));
    int64_t n = gu->n_posts, b = gu->base, span = g->end_time - g->start_time;
    for (int64_t k = 0; k < n; k++)
        P->time[b + k] = g->start_time + (int64_t)ub_rng_below(&r, (uint64_t)span);
    qsort(P->time + b, (size_t)n, sizeof *P->time, cmp_i64);
    for (int64_t k = 0; k < n; k++) {
        P->user[b + k] = (int32_t)u;
        P->vis[b + k] = draw_vis(g, &r);
        P->flags[b + k] = 0;
        P->reply[b + k] = -1;
        P->mention[b + k] = -1;
    }
    if (gu->secret >= 0 && gu->inserted > 0) { /* `inserted` distinct posts: partial shuffle */
        for (int64_t k = 0; k < n; k++) scratch[k] = k;
        for (int64_t i = 0; i < gu->inserted; i++) {
            int64_t j = i + (int64_t)ub_rng_below(&r, (uint64_t)(n - i));
            int64_t tmp = scratch[i];
            scratch[i] = scratch[j];
            scratch[j] = tmp;
            P->flags[b + scratch[i]] |= CORPUS_POST_SECRET;
        }
    }
    if (gu->sens_kind >= 0) {
        int64_t first = -1;
        for (int64_t k = 0; k < n; k++)
            if (ub_rng_uniform(&r) < g->sensitive_rate) {
                P->flags[b + k] |= CORPUS_POST_SENSITIVE;
                if (first < 0) first = k;
            }
        if (first < 0) first = 0, P->flags[b] |= CORPUS_POST_SENSITIVE;
        P->flags[b + first] |= GEN_FIXED; /* the first mention uses the fixed template */
    }
}

/* Phase B2 (stream GEN_S_REPLY|u): replies to strictly earlier posts of followed users, and
 * mentions. Reads other users' times (all planned before). */
static void plan_replies(const corpus_gen_cfg *g, const gen_user *U, const int32_t *fol,
                         int64_t u, gen_posts *P) {
    ub_rng r;
    ub_rng_init(&r, g->seed, GEN_S_REPLY | (uint64_t)(u + 1));
    const gen_user *gu = &U[u];
    if (gu->n_fol == 0) return;
    for (int64_t k = 0; k < gu->n_posts; k++) {
        int64_t f = gu->base + k;
        if (ub_rng_uniform(&r) < GEN_P_REPLY) {
            const gen_user *gv = &U[fol[gu->fol_off + (int64_t)ub_rng_below(&r, (uint64_t)gu->n_fol)]];
            int64_t lo = 0, hi = gv->n_posts; /* count of v's posts strictly before time[f] */
            while (lo < hi) {
                int64_t mid = (lo + hi) / 2;
                if (P->time[gv->base + mid] < P->time[f]) lo = mid + 1;
                else hi = mid;
            }
            if (lo > 0) {
                int64_t pick = lo < 5 ? lo : 5;
                P->reply[f] = gv->base + lo - 1 - (int64_t)ub_rng_below(&r, (uint64_t)pick);
            }
        }
        if (ub_rng_uniform(&r) < GEN_P_MENTION)
            P->mention[f] = fol[gu->fol_off + (int64_t)ub_rng_below(&r, (uint64_t)gu->n_fol)];
    }
}

typedef struct order_key {
    int64_t time, flat;
} order_key;

static int cmp_order(const void *a, const void *b) {
    const order_key *x = a, *y = b;
    if (x->time != y->time) return (x->time > y->time) - (x->time < y->time);
    return (x->flat > y->flat) - (x->flat < y->flat);
}

/* Text of one post and its append to the corpus. */
static ub_status emit_post(corpus *c, const gen_user *U, const gen_user *gu, int64_t u,
                           uint64_t stream, const corpus_post *meta, uint8_t flags,
                           int32_t mention, int64_t reply_user, char *text, ub_err *e) {
    ub_rng r;
    ub_rng_init(&r, c->seed, stream);
    gen_post_spec s = {.lang = gu->p.lang == GEN_BOTH ? (int)ub_rng_below(&r, 2) : gu->p.lang,
                       .sens_kind = -1, .sens_value = -1};
    if (reply_user >= 0) s.reply_handle = U[reply_user].handle;
    if (mention >= 0) s.mention_handle = U[mention].handle;
    if (flags & CORPUS_POST_SECRET) {
        s.lang = gu->lang_primary; /* the prefix is in the secret's language */
        s.secret_prefix = gen_secret_prefix(gu->secret_kind, gu->lang_primary);
        s.secret_value = gu->secret_value;
    }
    if (flags & CORPUS_POST_SENSITIVE) {
        s.sens_kind = gu->sens_kind, s.sens_value = gu->sens_value;
        s.sens_fixed = (flags & GEN_FIXED) != 0;
    }
    size_t len = gen_post_text(text, &gu->p, &s, &r);
    corpus_post p = *meta;
    p.user = u;
    p.flags = flags & (CORPUS_POST_SECRET | CORPUS_POST_SENSITIVE);
    p.secret = (flags & CORPUS_POST_SECRET) ? gu->secret : -1;
    if ((p.text = corpus_str_add(c, text, len, e)) < 0) return e->code;
    return corpus_add_post(c, &p, NULL, e);
}

ub_status corpus_generate(corpus *c, const corpus_gen_cfg *g, ub_err *e) {
    ub_status st = corpus_gen_check(g, e);
    if (st) return st;
    if (c->n_users || c->n_posts || c->n_secrets)
        return ub_fail(e, UB_EARG, "corpus_generate needs an empty corpus");
    c->seed = g->seed;
    c->cutoff_time = g->cutoff_time;
    snprintf(c->source, sizeof c->source, "generated");
    gen_config_string(c->config, sizeof c->config, g);

    int64_t nu = g->n_users;
    gen_user *U = ub_calloc((size_t)nu, sizeof *U, "generator users", e);
    int32_t *fol = ub_calloc((size_t)nu * GEN_MAX_FOLLOWS, sizeof *fol, "generator follows", e);
    gen_posts P = {0};
    order_key *ord = NULL;
    int64_t *final_of = NULL, *scratch = NULL;
    char *text = ub_malloc(GEN_TEXT_CAP, "generator text", e);
    if (!U || !fol || !text) goto fail;

    /* Phase A: users (serial: handle and secret uniqueness) */
    int64_t total = 0, max_n = 0;
    if ((st = gen_make_users(c, g, U, fol, &total, &max_n, e))) goto fail;
    /* Phase B: plan the corpus-proper posts */
    P.time = ub_malloc((size_t)total * sizeof *P.time, "generator post times", e);
    P.reply = ub_malloc((size_t)total * sizeof *P.reply, "generator replies", e);
    P.mention = ub_malloc((size_t)total * sizeof *P.mention, "generator mentions", e);
    P.user = ub_malloc((size_t)total * sizeof *P.user, "generator post users", e);
    P.vis = ub_malloc((size_t)total, "generator visibility", e);
    P.flags = ub_malloc((size_t)total, "generator flags", e);
    ord = ub_malloc((size_t)total * sizeof *ord, "generator order", e);
    final_of = ub_malloc((size_t)total * sizeof *final_of, "generator order", e);
    scratch = ub_malloc((size_t)max_n * sizeof *scratch, "generator scratch", e);
    if (!P.time || !P.reply || !P.mention || !P.user || !P.vis || !P.flags || !ord ||
        !final_of || !scratch)
        goto fail;
    for (int64_t u = 0; u < nu; u++) plan_user(g, &U[u], u, &P, scratch);
    for (int64_t u = 0; u < nu; u++) plan_replies(g, U, fol, u, &P);
    /* Phase C: global order by (time, user, post number) */
    for (int64_t f = 0; f < total; f++) ord[f] = (order_key){P.time[f], f};
    qsort(ord, (size_t)total, sizeof *ord, cmp_order);
    for (int64_t i = 0; i < total; i++) final_of[ord[i].flat] = i;
    /* Phase D: corpus-proper texts in final order (stream per post: user and post number) */
    for (int64_t i = 0; i < total; i++) {
        int64_t f = ord[i].flat, u = P.user[f], k = f - U[u].base;
        corpus_post meta = {.time = P.time[f], .visibility = P.vis[f], .fresh = 0,
                            .reply_to = P.reply[f] >= 0 ? final_of[P.reply[f]] : -1};
        int64_t ru = P.reply[f] >= 0 ? P.user[P.reply[f]] : -1;
        if ((st = emit_post(c, U, &U[u], u, GEN_S_TEXT | ((uint64_t)u << 24) | (uint64_t)k,
                            &meta, P.flags[f], P.mention[f], ru, text, e)))
            goto fail;
    }
    /* Phase E: fresh posts, by user then number */
    for (int64_t u = 0; u < nu; u++)
        for (int j = 0; j < g->fresh_per_user; j++) {
            uint64_t stream = GEN_S_FRESH | ((uint64_t)u << 24) | (uint64_t)j;
            ub_rng r;
            ub_rng_init(&r, g->seed, GEN_S_FRESH_META | ((uint64_t)u << 24) | (uint64_t)j);
            corpus_post meta = {.reply_to = -1, .fresh = 1};
            meta.time = g->start_time +
                        (int64_t)ub_rng_below(&r, (uint64_t)(g->end_time - g->start_time));
            meta.visibility = draw_vis(g, &r);
            uint8_t flags = 0;
            if (U[u].sens_kind >= 0 && ub_rng_uniform(&r) < g->sensitive_rate)
                flags = CORPUS_POST_SENSITIVE;
            int32_t mention = -1;
            if (U[u].n_fol && ub_rng_uniform(&r) < GEN_P_MENTION)
                mention = fol[U[u].fol_off + (int64_t)ub_rng_below(&r, (uint64_t)U[u].n_fol)];
            if ((st = emit_post(c, U, &U[u], u, stream, &meta, flags, mention, -1, text, e)))
                goto fail;
        }
    st = UB_OK;
    goto done;
fail:
    st = e->code ? e->code : UB_ENOMEM;
    corpus_free(c);
    corpus_init(c);
done:
    free(U), free(fol), free(text), free(ord), free(final_of), free(scratch);
    free(P.time), free(P.reply), free(P.mention), free(P.user), free(P.vis), free(P.flags);
    return st;
}

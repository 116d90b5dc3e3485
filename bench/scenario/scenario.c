/* bench/scenario/scenario.c: a seed's scenario as post sets: who is trained on, who is
 * forgotten, who was never seen; and the encoded corpus they are drawn from. */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "scenario.h"

void run_set_free(run_set *s) {
    free(s->ids);
    free(s->off);
    free(s->user);
    free(s->post);
    free(s->zlen);
    free(s->mu_in), free(s->mu_out);
    free(s->sh_in);
    memset(s, 0, sizeof *s);
}

ub_status run_set_gather(run_set *out, const run_corpus *rc, const uint8_t *take, size_t cap,
                         uint64_t seed, uint64_t stream, ub_err *e) {
    memset(out, 0, sizeof *out);
    const corpus *c = &rc->c;
    int64_t *idx = ub_malloc((c->n_posts + 1) * sizeof *idx, "post set", e);
    if (!idx) return UB_ENOMEM;
    int64_t n = 0;
    for (size_t i = 0; i < c->n_posts; i++)
        if (take[i]) idx[n++] = (int64_t)i;
    if (cap && (size_t)n > cap) {
        ub_rng r;
        ub_rng_init(&r, seed, stream);
        ub_rng_shuffle(&r, idx, n);
        n = (int64_t)cap;
        /* back to corpus order: the stream order should not depend on the sample's draw */
        for (int64_t i = 1; i < n; i++)
            for (int64_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
                int64_t t = idx[j];
                idx[j] = idx[j - 1], idx[j - 1] = t;
            }
    }
    size_t nt = 0;
    for (int64_t i = 0; i < n; i++) nt += rc->off[idx[i] + 1] - rc->off[idx[i]];
    out->n = (size_t)n;
    out->ids = ub_malloc((nt + 1) * sizeof(int32_t), "post set", e);
    out->off = ub_malloc(((size_t)n + 1) * sizeof(size_t), "post set", e);
    out->user = ub_malloc(((size_t)n + 1) * sizeof(int64_t), "post set", e);
    out->zlen = ub_malloc(((size_t)n + 1) * sizeof(size_t), "post set", e);
    out->post = idx;
    if (!out->ids || !out->off || !out->user || !out->zlen) {
        run_set_free(out);
        return UB_ENOMEM;
    }
    size_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t a = rc->off[idx[i]], len = rc->off[idx[i] + 1] - a;
        out->off[i] = at;
        memcpy(out->ids + at, rc->ids + a, len * sizeof(int32_t));
        out->user[i] = c->posts[idx[i]].user;
        out->zlen[i] = rc->zlen[idx[i]];
        at += len;
    }
    out->off[n] = at;
    out->view = (ul_posts){out->ids, out->off, out->n, out->user};
    return UB_OK;
}

/* A post as the models see it: "HANDLE: text" (author format) or the text alone. The handle
 * is the corpus's user name ("@anna_k" when generated). */
static size_t post_string(const run_corpus *rc, size_t i, char **buf, size_t *cap) {
    const corpus *c = &rc->c;
    const char *t = corpus_s(c, c->posts[i].text);
    const char *h = rc->author ? corpus_s(c, c->users[c->posts[i].user].handle) : "";
    size_t lt = strlen(t), lh = strlen(h), n = rc->author ? lh + 2 + lt : lt;
    if (n + 1 > *cap) {
        char *g = realloc(*buf, 2 * (n + 1));
        if (!g) return (size_t)-1;
        *buf = g, *cap = 2 * (n + 1);
    }
    if (rc->author) snprintf(*buf, *cap, "%s: %s", h, t);
    else memcpy(*buf, t, lt + 1);
    return n;
}

static ub_status corpus_encode(run_corpus *rc, int author, int threads, ub_err *e) {
    const corpus *c = &rc->c;
    size_t n = c->n_posts;
    rc->author = author;
    char **texts = ub_calloc(n + 1, sizeof *texts, "texts", e);
    size_t *lens = ub_malloc((n + 1) * sizeof *lens, "texts", e);
    rc->off = ub_malloc((n + 1) * sizeof *rc->off, "token offsets", e);
    rc->zlen = ub_malloc((n + 1) * sizeof *rc->zlen, "zlib lengths", e);
    ub_status st = texts && lens && rc->off && rc->zlen ? UB_OK : UB_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        size_t cap = 0;
        lens[i] = post_string(rc, i, &texts[i], &cap);
        if (lens[i] == (size_t)-1) st = ub_fail(e, UB_ENOMEM, "out of memory for post texts");
        else rc->zlen[i] = mt_zlib_len(texts[i], lens[i]); /* once per post, not per model */
    }
    if (!st)
        st = corpus_bpe_encode_many(&rc->bpe, (const char **)texts, lens, n, 1, threads, &rc->ids,
                                    rc->off, e);
    for (size_t i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    return st;
}

ub_status run_corpus_open(run_corpus *rc, const char *path, int author, int threads, ub_err *e) {
    memset(rc, 0, sizeof *rc);
    corpus_init(&rc->c);
    ub_status st = corpus_load(&rc->c, &rc->bpe, path, e);
    if (!st) st = ub_sha256_file(path, rc->sha256, e);
    if (!st) st = corpus_encode(rc, author, threads, e);
    return st;
}

void run_corpus_free(run_corpus *rc) {
    free(rc->ids);
    free(rc->off);
    free(rc->zlen);
    corpus_bpe_free(&rc->bpe);
    corpus_free(&rc->c);
    memset(rc, 0, sizeof *rc);
}

void run_tokens_of(const run_set *s, int vocab, corpus_tokens *t) {
    memset(t, 0, sizeof *t);
    t->ids = s->ids;
    t->n = s->off[s->n];
    t->vocab_size = vocab;
    ub_sha256_hex(s->ids, t->n * sizeof(int32_t), t->sha256);
}

ub_status run_idk_set(run_set *out, const run_corpus *rc, const run_set *f, ub_err *e) {
    memset(out, 0, sizeof *out);
    enum { CAP = 512 };
    int32_t buf[CAP];
    int len = run_encode_prompt(rc, f->n ? f->user[0] : 0, UL_IDK_TEXT, buf, CAP - 1);
    size_t per = len > 0 ? (size_t)len + 1 : (size_t)CAP; /* handles differ: recounted below */
    out->ids = ub_malloc((f->n * (per + 64) + 1) * sizeof(int32_t), "neutral answers", e);
    out->off = ub_malloc((f->n + 1) * sizeof(size_t), "neutral answers", e);
    out->user = ub_malloc((f->n + 1) * sizeof(int64_t), "neutral answers", e);
    out->post = ub_malloc((f->n + 1) * sizeof(int64_t), "neutral answers", e);
    if (!out->ids || !out->off || !out->user || !out->post) {
        run_set_free(out);
        return UB_ENOMEM;
    }
    size_t at = 0, cap = f->n * (per + 64);
    for (size_t i = 0; i < f->n; i++) {
        int n = run_encode_prompt(rc, f->user[i], UL_IDK_TEXT, buf, CAP - 1);
        if (n < 0 || at + (size_t)n + 1 > cap) {
            run_set_free(out);
            return ub_fail(e, UB_EINTERNAL, "neutral answer of user %lld does not fit",
                           (long long)f->user[i]);
        }
        buf[n++] = rc->bpe.eos_id;
        out->off[i] = at;
        memcpy(out->ids + at, buf, (size_t)n * sizeof(int32_t));
        out->user[i] = f->user[i];
        out->post[i] = f->post[i];
        at += (size_t)n;
    }
    out->off[f->n] = at;
    out->n = f->n;
    out->view = (ul_posts){out->ids, out->off, out->n, out->user};
    return UB_OK;
}

int run_encode_prompt(const run_corpus *rc, int64_t user, const char *text, int32_t *out,
                      int cap) {
    const char *h = rc->author ? corpus_s(&rc->c, rc->c.users[user].handle) : "";
    size_t n = strlen(h) + strlen(text) + 3;
    char *buf = malloc(n + 1);
    if (!buf || (size_t)cap < n + 1) { /* byte-level BPE: at most one id per byte */
        free(buf);
        return -1;
    }
    snprintf(buf, n + 1, "%s%s%s", h, rc->author ? ": " : "", text);
    size_t nt = 0;
    out[0] = rc->bpe.bos_id;
    corpus_bpe_encode(&rc->bpe, buf, strlen(buf), out + 1, &nt);
    free(buf);
    return (int)nt + 1;
}

/* Non-members matched to F by activity: k = max(1, #non-members / |F|) non-members per F user,
 * each the unused one with the closest number of eligible posts (F users taken from the most
 * active down), so that the MIA compares F with users of the same post-count distribution
 * whatever the forget rule (heavy posters against heavy posters). */
static ub_status match_nonmembers(run_scenario *sc, const corpus *c, ub_err *e) {
    size_t nu = c->n_users;
    int64_t *cnt = ub_calloc(nu + 1, sizeof(int64_t), "matching", e);
    int64_t *fu = ub_malloc((sc->n_forget + 1) * sizeof(int64_t), "matching", e);
    sc->matched = ub_calloc(nu + 1, 1, "matching", e);
    if (!cnt || !fu || !sc->matched) {
        free(cnt), free(fu);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < c->n_posts; i++)
        if (!c->posts[i].fresh && sc->split.eligible[i]) cnt[c->posts[i].user]++;
    size_t nn = 0;
    for (size_t u = 0; u < nu; u++) nn += sc->split.role[u] == CORPUS_ROLE_NONMEMBER;
    size_t k = sc->n_forget ? nn / sc->n_forget : 0;
    if (k < 1) k = 1;
    memcpy(fu, sc->forget_users, sc->n_forget * sizeof(int64_t));
    for (size_t i = 1; i < sc->n_forget; i++) /* most active first, ties by index */
        for (size_t j = i; j > 0 && (cnt[fu[j - 1]] < cnt[fu[j]] ||
                                     (cnt[fu[j - 1]] == cnt[fu[j]] && fu[j - 1] > fu[j]));
             j--) {
            int64_t t = fu[j];
            fu[j] = fu[j - 1], fu[j - 1] = t;
        }
    for (size_t i = 0; i < sc->n_forget; i++)
        for (size_t r = 0; r < k; r++) {
            int64_t best = -1, bd = 0;
            for (size_t u = 0; u < nu; u++) {
                if (sc->split.role[u] != CORPUS_ROLE_NONMEMBER || sc->matched[u]) continue;
                int64_t d = cnt[u] > cnt[fu[i]] ? cnt[u] - cnt[fu[i]] : cnt[fu[i]] - cnt[u];
                if (best < 0 || d < bd) best = (int64_t)u, bd = d;
            }
            if (best >= 0) sc->matched[best] = 1;
        }
    free(cnt), free(fu);
    return UB_OK;
}

ub_status run_scenario_make(run_scenario *sc, const run_corpus *rc, const ub_scenario_cfg *cfg,
                            uint64_t seed, ub_err *e) {
    memset(sc, 0, sizeof *sc);
    const corpus *c = &rc->c;
    corpus_policy pol;
    corpus_policy_default(&pol);
    if (cfg->all_posts) memset(&pol, 0, sizeof pol); /* e.g. an import without consent fields */
    ub_status st = corpus_split_make(&sc->split, c, &pol, cfg->nonmember_frac, seed, e);
    if (st) return st;
    for (size_t u = 0; cfg->exclude && u < c->n_users; u++) {
        int8_t *role = &sc->split.role[u];
        if (!cfg->exclude[u] || *role == CORPUS_ROLE_EXCLUDED) continue;
        if (*role == CORPUS_ROLE_MEMBER) sc->split.n_members--;
        else sc->split.n_nonmembers--;
        *role = CORPUS_ROLE_EXCLUDED;
        sc->split.n_excluded++;
    }
    int rule = corpus_forget_rule_parse(cfg->forget_rule);
    if (rule < 0) return ub_fail(e, UB_EARG, "unknown forget rule '%s'", cfg->forget_rule);
    size_t want = cfg->forget_users > 0
                      ? (size_t)cfg->forget_users
                      : (size_t)(cfg->forget_frac * (double)sc->split.n_members + 0.5);
    if (want < 1) want = 1;
    st = corpus_forget_set(c, &sc->split, rule, want, seed, &sc->forget_users, &sc->n_forget, e);
    if (!st && sc->n_forget == 0)
        st = ub_fail(e, UB_EARG, "no member matches forget rule '%s'", cfg->forget_rule);
    if (st) return st;
    sc->in_forget = ub_calloc(c->n_users + 1, 1, "forget set", e);
    uint8_t *take = ub_calloc(c->n_posts + 1, 1, "post selection", e);
    if (!sc->in_forget || !take) return UB_ENOMEM;
    for (size_t i = 0; i < sc->n_forget; i++) sc->in_forget[sc->forget_users[i]] = 1;
    st = match_nonmembers(sc, c, e);
    if (st) {
        free(take);
        return st;
    }
    /* the sets: which posts, and the cap on how many are scored */
    for (int k = 0; !st && k < RUN_N_SETS; k++) {
        size_t cap = 0;
        for (size_t i = 0; i < c->n_posts; i++) {
            const corpus_post *p = &c->posts[i];
            int role = sc->split.role[p->user], f = sc->in_forget[p->user];
            int el = !p->fresh && sc->split.eligible[i];
            int member = role == CORPUS_ROLE_MEMBER, non = role == CORPUS_ROLE_NONMEMBER;
            switch (k) {
            case RUN_TRAIN: take[i] = el && member; break;
            case RUN_RETAIN: take[i] = el && member && !f; break;
            case RUN_FORGET: take[i] = el && member && f; break;
            case RUN_RETAIN_EVAL: take[i] = el && member && !f, cap = (size_t)cfg->eval_posts; break;
            case RUN_NONMEMBER: take[i] = el && non && sc->matched[p->user], cap = (size_t)cfg->nonmember_posts; break;
            case RUN_FORGET_FRESH: take[i] = p->fresh && member && f; break;
            case RUN_NONMEMBER_FRESH:
                take[i] = p->fresh && non && sc->matched[p->user], cap = (size_t)cfg->eval_posts;
                break;
            }
        }
        st = run_set_gather(&sc->set[k], rc, take, cap, seed, 100 + (uint64_t)k, e);
        if (!st && sc->set[k].n == 0 && k != RUN_FORGET_FRESH && k != RUN_NONMEMBER_FRESH)
            st = ub_fail(e, UB_EARG, "seed %llu: the %s set is empty (corpus too small for "
                         "the split)", (unsigned long long)seed, run_set_names[k]);
    }
    free(take);
    return st;
}

void run_scenario_free(run_scenario *sc) {
    for (int k = 0; k < RUN_N_SETS; k++) run_set_free(&sc->set[k]);
    free(sc->pool), free(sc->shadow_in);
    corpus_split_free(&sc->split);
    free(sc->forget_users);
    free(sc->in_forget);
    free(sc->matched);
    memset(sc, 0, sizeof *sc);
}

const char *const run_set_names[RUN_N_SETS] = {"train", "retain", "forget", "retain_eval",
                                               "nonmember", "forget_fresh", "nonmember_fresh"};

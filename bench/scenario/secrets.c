/* bench/scenario/secrets.c: what the models are asked about F's users: their planted secrets
 * with sampled candidates (for exposure and extraction) and what the corpus says about them
 * (knowledge probes: home city, special-category attribute). eval/probes.c asks the models. */
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* A cloze's prompt without its trailing space, into p; the space (" " or "") into lead, to go
 * before the value, so that the value is tokenized as it is inside a post (the pre-tokenizer
 * keeps a space with the word after it). */
static void split_space(const char *prompt, char *p, size_t pcap, char lead[2]) {
    size_t n = strlen(prompt);
    int sp = n > 0 && prompt[n - 1] == ' ';
    snprintf(p, pcap, "%.*s", (int)(n - (size_t)sp), prompt);
    lead[0] = sp ? ' ' : '\0', lead[1] = '\0';
}

enum { MAX_PROMPT = 1024, MAX_VALUE = RUN_MAX_VALUE };

void secret_set_free(secret_set *s) {
    for (size_t i = 0; i < s->n; i++) free(s->ctx[i]), free(s->ids[i]), free(s->off[i]);
    free(s->secret), free(s->ctx), free(s->n_ctx), free(s->ids), free(s->off);
    memset(s, 0, sizeof *s);
}

ub_status secrets_make(secret_set *ss, const run_corpus *rc, const run_scenario *sc, int n_cand,
                       uint64_t seed, ub_err *e) {
    memset(ss, 0, sizeof *ss);
    ss->n_cand = n_cand;
    const corpus *c = &rc->c;
    size_t n = 0;
    for (size_t i = 0; i < c->n_secrets; i++) n += sc->in_forget[c->secrets[i].user];
    ss->secret = ub_calloc(n + 1, sizeof(int64_t), "secrets", e);
    ss->ctx = ub_calloc(n + 1, sizeof(int32_t *), "secrets", e);
    ss->n_ctx = ub_calloc(n + 1, sizeof(int), "secrets", e);
    ss->ids = ub_calloc(n + 1, sizeof(int32_t *), "secrets", e);
    ss->off = ub_calloc(n + 1, sizeof(size_t *), "secrets", e);
    if (!ss->secret || !ss->ctx || !ss->n_ctx || !ss->ids || !ss->off) return UB_ENOMEM;
    char pre[MAX_PROMPT], lead[4], buf[128];
    for (size_t i = 0; i < c->n_secrets; i++) {
        const corpus_secret *s = &c->secrets[i];
        if (!sc->in_forget[s->user]) continue;
        size_t k = ss->n++;
        ss->secret[k] = (int64_t)i;
        /* the context is "HANDLE: " + the words before the secret: the attacker knows whose
         * secret it asks for */
        ss->ctx[k] = ub_malloc(MAX_PROMPT * sizeof(int32_t), "secret context", e);
        ss->ids[k] = ub_malloc(((size_t)n_cand + 1) * MAX_VALUE * sizeof(int32_t), "candidates", e);
        ss->off[k] = ub_malloc(((size_t)n_cand + 2) * sizeof(size_t), "candidates", e);
        if (!ss->ctx[k] || !ss->ids[k] || !ss->off[k]) return UB_ENOMEM;
        split_space(corpus_s(c, s->prefix), pre, sizeof pre, lead);
        ss->n_ctx[k] = run_encode_prompt(rc, s->user, pre, ss->ctx[k], MAX_PROMPT);
        if (ss->n_ctx[k] < 0)
            return ub_fail(e, UB_EFORMAT, "secret %zu: prefix longer than %d bytes", i, MAX_PROMPT);
        ub_rng r;
        ub_rng_init(&r, seed, 1000000 + i);
        ss->off[k][0] = 0;
        char lv[MAX_VALUE];
        for (int j = 0; j <= n_cand; j++) {
            const char *v = corpus_s(c, s->value);
            if (j > 0) { /* a fresh draw from the format; a draw equal to the secret is redrawn */
                do
                    corpus_secret_fill(buf, sizeof buf, corpus_s(c, s->format), &r);
                while (!strcmp(buf, corpus_s(c, s->value)));
                v = buf;
            }
            if (strlen(v) > 127) return ub_fail(e, UB_EFORMAT, "secret %zu is longer than 127 bytes", i);
            snprintf(lv, sizeof lv, "%s%s", lead, v);
            size_t nt = 0;
            corpus_bpe_encode(&rc->bpe, lv, strlen(lv), ss->ids[k] + ss->off[k][j], &nt);
            ss->off[k][j + 1] = ss->off[k][j] + nt;
        }
    }
    return UB_OK;
}

void run_probes_free(probe_set *ps) {
    for (size_t i = 0; i < ps->n; i++) free(ps->ctx[i]), free(ps->ids[i]), free(ps->off[i]);
    free(ps->user), free(ps->kind), free(ps->truth), free(ps->n_values), free(ps->ctx);
    free(ps->n_ctx), free(ps->ids), free(ps->off);
    memset(ps, 0, sizeof *ps);
}

ub_status run_probes_make(probe_set *ps, const run_corpus *rc, const run_scenario *sc,
                          ub_err *e) {
    memset(ps, 0, sizeof *ps);
    const corpus *c = &rc->c;
    if (!rc->author) return UB_OK; /* without the handle in the text no probe can name a user */
    size_t cap = 2 * sc->n_forget + 1;
    ps->user = ub_calloc(cap, sizeof(int64_t), "probes", e);
    ps->kind = ub_calloc(cap, sizeof(int), "probes", e);
    ps->truth = ub_calloc(cap, sizeof(int), "probes", e);
    ps->n_values = ub_calloc(cap, sizeof(int), "probes", e);
    ps->ctx = ub_calloc(cap, sizeof(int32_t *), "probes", e);
    ps->n_ctx = ub_calloc(cap, sizeof(int), "probes", e);
    ps->ids = ub_calloc(cap, sizeof(int32_t *), "probes", e);
    ps->off = ub_calloc(cap, sizeof(size_t *), "probes", e);
    if (!ps->user || !ps->kind || !ps->truth || !ps->n_values || !ps->ctx || !ps->n_ctx ||
        !ps->ids || !ps->off)
        return UB_ENOMEM;
    char pre[MAX_PROMPT], val[MAX_VALUE], lead[4];
    for (size_t f = 0; f < sc->n_forget; f++) {
        corpus_probe pr[2];
        int np = corpus_user_probes(c, sc->forget_users[f], pr);
        for (int q = 0; q < np; q++) {
            size_t k = ps->n++;
            ps->user[k] = sc->forget_users[f];
            ps->kind[k] = pr[q].kind;
            ps->truth[k] = pr[q].truth;
            ps->n_values[k] = pr[q].n_values;
            ps->ctx[k] = ub_malloc(MAX_PROMPT * sizeof(int32_t), "probe context", e);
            ps->ids[k] = ub_malloc((size_t)pr[q].n_values * MAX_VALUE * sizeof(int32_t), "probe", e);
            ps->off[k] = ub_malloc(((size_t)pr[q].n_values + 1) * sizeof(size_t), "probe", e);
            if (!ps->ctx[k] || !ps->ids[k] || !ps->off[k]) return UB_ENOMEM;
            split_space(pr[q].before, pre, sizeof pre, lead);
            ps->n_ctx[k] = run_encode_prompt(rc, ps->user[k], pre, ps->ctx[k], MAX_PROMPT);
            if (ps->n_ctx[k] < 0) return ub_fail(e, UB_EFORMAT, "probe context too long");
            ps->off[k][0] = 0;
            for (int v = 0; v < pr[q].n_values; v++) {
                snprintf(val, sizeof val, "%s%s%s", lead, pr[q].values[v], pr[q].after);
                size_t nt = 0;
                corpus_bpe_encode(&rc->bpe, val, strlen(val), ps->ids[k] + ps->off[k][v], &nt);
                ps->off[k][v + 1] = ps->off[k][v] + nt;
            }
        }
    }
    return UB_OK;
}

/* bench/scenario/secrets.c: F's planted secrets with sampled candidates (for exposure and
 * extraction); scenario/knowledge.c builds the knowledge probes. eval/ asks the models. */
#include <stdlib.h>
#include <string.h>

#include "scenario_private.h"

void run_split_space(const char *prompt, char *p, size_t pcap, char lead[2]) {
    size_t n = strlen(prompt);
    int sp = n > 0 && prompt[n - 1] == ' ';
    snprintf(p, pcap, "%.*s", (int)(n - (size_t)sp), prompt);
    lead[0] = sp ? ' ' : '\0', lead[1] = '\0';
}


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
    char pre[RUN_MAX_PROMPT], lead[4], buf[128];
    for (size_t i = 0; i < c->n_secrets; i++) {
        const corpus_secret *s = &c->secrets[i];
        if (!sc->in_forget[s->user]) continue;
        size_t k = ss->n++;
        ss->secret[k] = (int64_t)i;
        /* the context is "HANDLE: " + the words before the secret: the attacker knows whose
         * secret it asks for */
        ss->ctx[k] = ub_malloc(RUN_MAX_PROMPT * sizeof(int32_t), "secret context", e);
        ss->ids[k] = ub_malloc(((size_t)n_cand + 1) * RUN_MAX_VALUE * sizeof(int32_t),
                               "candidates", e);
        ss->off[k] = ub_malloc(((size_t)n_cand + 2) * sizeof(size_t), "candidates", e);
        if (!ss->ctx[k] || !ss->ids[k] || !ss->off[k]) return UB_ENOMEM;
        run_split_space(corpus_s(c, s->prefix), pre, sizeof pre, lead);
        ss->n_ctx[k] = run_encode_prompt(rc, s->user, pre, ss->ctx[k], RUN_MAX_PROMPT);
        if (ss->n_ctx[k] < 0)
            return ub_fail(e, UB_EFORMAT, "secret %zu: prefix longer than %d bytes", i,
                           RUN_MAX_PROMPT);
        ub_rng r;
        ub_rng_init(&r, seed, 1000000 + i);
        ss->off[k][0] = 0;
        char lv[RUN_MAX_VALUE];
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

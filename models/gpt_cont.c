/* models/gpt_cont.c: the loss of candidate continuations after one context (a secret's
 * candidates, a probe's values): the context runs once into a KV cache, then only the
 * candidates' tokens, in batches; the plain version runs context ++ candidate whole. */
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

enum { CONT_BATCH = 32 }; /* candidates per forward pass */

ub_status gpt_score_continuations_full(gpt_model **ms, int nm, const int32_t *context, int n_context,
                                  const gpt_seqs *values, double *loss, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    const int32_t *ids = values->ids;
    const size_t *off = values->off;
    size_t n = values->n;
    int *in = ub_malloc((size_t)CONT_BATCH * T * sizeof(int), "candidate batch", e);
    int *tg = ub_malloc((size_t)CONT_BATCH * T * sizeof(int), "candidate batch", e);
    float *blp = ub_malloc((size_t)CONT_BATCH * T * sizeof(float), "candidate batch", e);
    float *avg = nm > 1 ? ub_malloc((size_t)CONT_BATCH * T * V * sizeof(float), "probs", e) : NULL;
    const float *probs;
    ub_status st = in && tg && blp && (nm == 1 || avg) ? UB_OK : UB_ENOMEM;
    for (size_t c0 = 0; !st && c0 < n; c0 += CONT_BATCH) {
        int nb = n - c0 < CONT_BATCH ? (int)(n - c0) : CONT_BATCH;
        /* rows as long as the batch's longest sequence needs (candidates are short: a secret
         * or a value after its context), not the full n_ctx */
        int Tb = 1;
        for (int b = 0; b < nb; b++) {
            int len = n_context + (int)(off[c0 + b + 1] - off[c0 + b]);
            if (len - 1 > Tb) Tb = len - 1;
        }
        if (Tb > T) Tb = T;
        for (int b = 0; b < nb; b++) {
            /* the sequence context ++ value, its last Tb+1 tokens if longer */
            const int32_t *v = ids + off[c0 + b];
            int nv = (int)(off[c0 + b + 1] - off[c0 + b]), len = n_context + nv;
            int skip = len > Tb + 1 ? len - (Tb + 1) : 0;
            for (int j = 0; j < Tb; j++) {
                int pos = skip + j, ok = pos + 1 < len;
                int x = pos < n_context ? context[pos] : pos < len ? v[pos - n_context] : 0;
                int y = ok ? (pos + 1 < n_context ? context[pos + 1] : v[pos + 1 - n_context]) : 0;
                in[b * Tb + j] = pos < len ? x : 0;
                tg[b * Tb + j] = ok && pos + 1 >= n_context ? y : -1;
            }
        }
        st = gpt_forward_avg(ms, nm, NULL, in, tg, nb, Tb, avg, &probs, blp, e);
        for (int b = 0; !st && b < nb; b++) {
            double s = 0;
            for (int j = 0; j < Tb; j++)
                if (tg[b * Tb + j] >= 0) s -= blp[b * Tb + j];
            loss[c0 + b] = s;
        }
    }
    free(in), free(tg), free(blp), free(avg);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    return st;
}

/* A KV pass over candidates (gpt_team_run's ctx). */
typedef struct cont_pass {
    gpt_kv_worker *wk;
    int nm;
    int32_t last;          /* the context's last token: every row's first input */
    const gpt_seqs *values;
    double *loss;
} cont_pass;

/* Candidates [b * CONT_BATCH, ...) after the cached context: row j's input is the context's last
 * token, then the value's tokens; its target the value's token j. */
static ub_status cont_batch(void *ctx, int w, size_t bi, ub_err *e) {
    const cont_pass *x = ctx;
    gpt_kv_worker *c = &x->wk[w];
    const int32_t *ids = x->values->ids;
    const size_t *off = x->values->off;
    size_t n = x->values->n, c0 = bi * CONT_BATCH;
    int nb = n - c0 < CONT_BATCH ? (int)(n - c0) : CONT_BATCH, Tn = 1;
    for (int b = 0; b < nb; b++)
        if ((int)(off[c0 + b + 1] - off[c0 + b]) > Tn) Tn = (int)(off[c0 + b + 1] - off[c0 + b]);
    for (int b = 0; b < nb; b++) {
        const int32_t *v = ids + off[c0 + b];
        int nv = (int)(off[c0 + b + 1] - off[c0 + b]);
        for (int j = 0; j < Tn; j++) {
            c->in[b * Tn + j] = j == 0 ? x->last : j < nv ? v[j - 1] : 0;
            c->tg[b * Tn + j] = j < nv ? v[j] : -1;
        }
    }
    const float *probs;
    ub_status st = gpt_forward_avg(c->ms, x->nm, c->kvs, c->in, c->tg, nb, Tn, c->avg, &probs,
                                   c->blp, e);
    for (int b = 0; !st && b < nb; b++) {
        double s = 0;
        for (int j = 0; j < Tn; j++)
            if (c->tg[b * Tn + j] >= 0) s -= c->blp[b * Tn + j];
        x->loss[c0 + b] = s;
    }
    return st;
}

ub_status gpt_score_continuations(gpt_model **ms, int nm, const int32_t *context, int n_context,
                                  const gpt_seqs *values, double *loss, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, maxv = 0;
    const size_t *off = values->off;
    size_t n = values->n;
    for (size_t i = 0; i < n; i++)
        if ((int)(off[i + 1] - off[i]) > maxv) maxv = (int)(off[i + 1] - off[i]);
    /* a candidate that outgrows n_ctx slides the window (positions shift): the plain path */
    if (n_context < 1 || n == 0 || maxv == 0 || n_context - 1 + maxv > T)
        return gpt_score_continuations_full(ms, nm, context, n_context, values, loss, e);
    int P = n_context - 1; /* cached: the context but its last token, the first input row */
    size_t nbatch = (n + CONT_BATCH - 1) / CONT_BATCH;
    gpt_team tm = {0};
    gpt_kv_worker *wk = NULL;
    ub_status st = gpt_team_make(&tm, ms, nm, nbatch, e);
    if (!st) st = gpt_kv_workers_make(&wk, &tm, context, P, (size_t)CONT_BATCH * maxv, e);
    cont_pass x = {wk, nm, context[P], values, loss};
    if (!st) st = gpt_team_run(&tm, nbatch, cont_batch, &x, e);
    gpt_kv_workers_free(wk, &tm);
    gpt_team_free(&tm);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    return st;
}

/* gpt_score_continuations_many: the candidates of many contexts, contexts of one length
 * together. Rows (one per candidate) are sorted by their context's length, then item, then
 * candidate, and cut into chunks of one context length, of at most MANY_ROWS rows and
 * MANY_TOKENS tokens (rows x the chunk's longest candidate). A chunk's distinct contexts but
 * their last token run as one batch into a KV cache, one sequence per context; then all its
 * rows run in one pass, each attending to its own context's sequence (gpt_kv's seq: nothing is
 * copied). A chunk's rows do not depend on the team: the same bits on any thread count.
 * MANY_TOKENS: tiny, 2 threads, 48 contexts x 18 values of 5 tokens took 37 ms at 512 tokens
 * per pass, 39 at 256 and 46 at 1024 (the activations leave the cache); 6 contexts x 201
 * candidates of 15 tokens 99, 110 and 95 ms (one call per context, 32 rows a pass: 102). */
enum { MANY_ROWS = 128, MANY_TOKENS = 512 };

typedef struct many_worker {
    gpt_model **ms;
    gpt_kv *kvs;     /* (nm) caches of a sequence per context of a chunk, seq = parent */
    int *pre;        /* (contexts * n_ctx) the chunk's contexts but their last token */
    int *in, *tg;    /* (max(MANY_TOKENS, n_ctx)) */
    int *parent;     /* (MANY_ROWS) row -> its context among the chunk's */
    float *blp, *avg;
} many_worker;

typedef struct many_pass {
    many_worker *wk;
    int nm;
    const int32_t *const *ctx;
    const int *n_ctx;
    const gpt_seqs *values;
    const size_t *first;
    const size_t *row_item, *row_cand; /* (rows) sorted */
    const size_t *chunk;               /* (nchunks + 1) first row of each chunk */
    double *loss;
} many_pass;

static ub_status many_chunk(void *ctx, int w, size_t bi, ub_err *e) {
    const many_pass *x = ctx;
    many_worker *c = &x->wk[w];
    size_t r0 = x->chunk[bi], nr = x->chunk[bi + 1] - r0;
    int P = x->n_ctx[x->row_item[r0]] - 1, nd = 0, Tn = 1;
    const size_t *off = x->values->off;
    for (size_t r = 0; r < nr; r++) {
        size_t it = x->row_item[r0 + r], k = x->first[it] + x->row_cand[r0 + r];
        if (r == 0 || it != x->row_item[r0 + r - 1]) {
            for (int t = 0; t < P; t++) c->pre[(size_t)nd * P + t] = x->ctx[it][t];
            nd++;
        }
        c->parent[r] = nd - 1;
        if ((int)(off[k + 1] - off[k]) > Tn) Tn = (int)(off[k + 1] - off[k]);
    }
    ub_status st = UB_OK;
    for (int k = 0; !st && k < x->nm; k++) {
        if (P == 0) {
            c->kvs[k].len = 0;
            continue;
        }
        st = gpt_forward(c->ms[k], c->pre, NULL, nd, P, e);
        if (!st) st = gpt_kv_fill(&c->kvs[k], c->ms[k], e);
    }
    for (size_t r = 0; !st && r < nr; r++) { /* input 0: the context's last token */
        size_t it = x->row_item[r0 + r], k = x->first[it] + x->row_cand[r0 + r];
        const int32_t *v = x->values->ids + off[k];
        int nv = (int)(off[k + 1] - off[k]);
        for (int j = 0; j < Tn; j++) {
            c->in[r * Tn + j] = j == 0 ? x->ctx[it][P] : j < nv ? v[j - 1] : 0;
            c->tg[r * Tn + j] = j < nv ? v[j] : -1;
        }
    }
    const float *probs;
    if (!st)
        st = gpt_forward_avg(c->ms, x->nm, c->kvs, c->in, c->tg, (int)nr, Tn, c->avg, &probs,
                             c->blp, e);
    for (size_t r = 0; !st && r < nr; r++) {
        double s = 0;
        for (int j = 0; j < Tn; j++)
            if (c->tg[r * Tn + j] >= 0) s -= c->blp[r * Tn + j];
        x->loss[x->first[x->row_item[r0 + r]] + x->row_cand[r0 + r]] = s;
    }
    return st;
}

static void many_workers_free(many_worker *wk, int W, int nm) {
    for (int w = 0; wk && w < W; w++) {
        for (int k = 0; wk[w].kvs && k < nm; k++) gpt_kv_free(&wk[w].kvs[k]);
        free(wk[w].kvs), free(wk[w].pre), free(wk[w].in), free(wk[w].tg), free(wk[w].parent);
        free(wk[w].blp), free(wk[w].avg);
    }
    free(wk);
}

/* Item i fits the cached path when context ++ its longest candidate fits n_ctx. */
static int many_fits(const int *n_ctx, const size_t *first, const size_t *off, size_t i, int T) {
    int maxv = 0;
    for (size_t k = first[i]; k < first[i + 1]; k++)
        if ((int)(off[k + 1] - off[k]) > maxv) maxv = (int)(off[k + 1] - off[k]);
    return n_ctx[i] >= 1 && maxv > 0 && n_ctx[i] - 1 + maxv <= T;
}

typedef struct item_len {
    int len;
    size_t item;
} item_len;
static int cmp_item_len(const void *a, const void *b) {
    const item_len *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

ub_status gpt_score_continuations_many(gpt_model **ms, int nm, const int32_t *const *ctx,
                                       const int *n_ctx, size_t n_items, const size_t *first,
                                       const gpt_seqs *values, double *loss, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    const size_t *off = values->off;
    if (first[n_items] != values->n)
        return ub_fail(e, UB_EARG, "continuations: %zu candidates, the items name %zu",
                       values->n, first[n_items]);
    item_len *il = ub_malloc((n_items + 1) * sizeof *il, "continuations", e);
    size_t ni = 0, nrows = 0;
    ub_status st = il ? UB_OK : UB_ENOMEM;
    for (size_t i = 0; !st && i < n_items; i++) {
        if (first[i + 1] == first[i]) continue;
        if (many_fits(n_ctx, first, off, i, T)) {
            il[ni++] = (item_len){n_ctx[i], i};
            nrows += first[i + 1] - first[i];
        } else { /* an outgrown or empty item: alone, by whole passes (or a plain zero) */
            gpt_seqs q = {values->ids, off + first[i], first[i + 1] - first[i]};
            st = gpt_score_continuations(ms, nm, ctx[i], n_ctx[i], &q, loss + first[i], e);
        }
    }
    if (st || nrows == 0) {
        free(il);
        return st;
    }
    qsort(il, ni, sizeof *il, cmp_item_len);
    size_t *row_item = ub_malloc(nrows * sizeof(size_t), "continuations", e);
    size_t *row_cand = ub_malloc(nrows * sizeof(size_t), "continuations", e);
    size_t *chunk = ub_malloc((nrows + 2) * sizeof(size_t), "continuations", e);
    st = row_item && row_cand && chunk ? UB_OK : UB_ENOMEM;
    size_t r = 0, nch = 0, tn = 0; /* tn: the open chunk's longest candidate */
    int nd = 0, maxd = 1;          /* contexts in the open chunk, in any chunk */
    for (size_t a = 0; !st && a < ni; a++) {
        size_t i = il[a].item;
        for (size_t k = 0; k < first[i + 1] - first[i]; k++, r++) {
            size_t len = off[first[i] + k + 1] - off[first[i] + k], t1 = len > tn ? len : tn;
            if (r == 0 || n_ctx[row_item[r - 1]] != n_ctx[i] || r - chunk[nch - 1] == MANY_ROWS ||
                (r - chunk[nch - 1] + 1) * t1 > MANY_TOKENS) {
                chunk[nch++] = r;
                nd = 0, t1 = len;
            }
            if (k == 0 || nd == 0) nd++;
            if (nd > maxd) maxd = nd;
            tn = t1;
            row_item[r] = i, row_cand[r] = k;
        }
    }
    if (!st) chunk[nch] = nrows;
    gpt_team tm = {0};
    many_worker *wk = NULL;
    if (!st) st = gpt_team_make(&tm, ms, nm, nch, e);
    if (!st && !(wk = ub_calloc((size_t)tm.W, sizeof *wk, "continuations", e))) st = UB_ENOMEM;
    /* a pass holds rows x longest <= MANY_TOKENS tokens, or one row of up to T */
    size_t rows_tok = (size_t)(MANY_TOKENS > T ? MANY_TOKENS : T);
    for (int w = 0; !st && w < tm.W; w++) {
        many_worker *c = &wk[w];
        c->ms = gpt_team_models(&tm, w);
        c->kvs = ub_calloc((size_t)nm, sizeof *c->kvs, "KV caches", e);
        c->pre = ub_malloc((size_t)maxd * T * sizeof(int), "continuations", e);
        c->in = ub_malloc(rows_tok * sizeof(int), "continuations", e);
        c->tg = ub_malloc(rows_tok * sizeof(int), "continuations", e);
        c->parent = ub_malloc(MANY_ROWS * sizeof(int), "continuations", e);
        c->blp = ub_malloc(rows_tok * sizeof(float), "continuations", e);
        c->avg = nm > 1 ? ub_malloc(rows_tok * V * sizeof(float), "probs", e) : NULL;
        st = c->kvs && c->pre && c->in && c->tg && c->parent && c->blp && (nm == 1 || c->avg)
                 ? UB_OK
                 : UB_ENOMEM;
        for (int k = 0; !st && k < nm; k++) {
            st = gpt_kv_build(&c->kvs[k], &ms[k]->cfg, maxd, e);
            c->kvs[k].seq = c->parent;
        }
    }
    many_pass x = {wk, nm, ctx, n_ctx, values, first, row_item, row_cand, chunk, loss};
    if (!st) st = gpt_team_run(&tm, nch, many_chunk, &x, e);
    many_workers_free(wk, tm.W, nm);
    gpt_team_free(&tm);
    free(il), free(row_item), free(row_cand), free(chunk);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    return st;
}

/* bench/eval/enumerate.c: the exact rank of a secret among all values of its format (Carlini et
 * al. 2019, "The Secret Sharer", section 8: a shortest-path search over the format's tree).
 *
 * A value's loss is the sum of its tokens' losses (each >= 0), so every token prefix's partial
 * loss bounds all its completions from below: a branch-and-bound that expands only prefixes
 * whose partial loss is below the secret's visits exactly the values that beat it, and counts
 * them. The tree is over tokens, not characters: a value is scored by its canonical BPE
 * tokens, so a token is allowed where its bytes fit the format, tokens never cross a pre-token
 * (BPE never merges across one), and a finished pre-token must be the canonical encoding of
 * its bytes (other spellings are not the value as scored). A pre-token with no placeholder is
 * forced: its canonical tokens join the path and are scored in the same forward pass as the
 * next expansion. Work is counted in rows (one row = one prefix's forward pass); past the
 * budget the search gives up and the caller keeps the sampled estimate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

enum { MAXB = EV_ENUM_MAX_BYTES, BATCH = 32 };

typedef struct node {
    int32_t parent; /* index in the pool, -1 for the root's children */
    int32_t tok;
    int pos;     /* bytes of the value covered after this token */
    double loss; /* partial loss up to this token (for a pending node: before its forced
                  * tokens, which the evaluation adds) */
    int forced;  /* pending: trailing tokens whose log p the evaluation adds */
} node;

typedef struct search {
    const corpus_bpe *bpe;
    int n;                                      /* template bytes */
    unsigned char lo[MAXB], hi[MAXB];           /* allowed byte range per position */
    int seg_start[MAXB + 1], seg_end[MAXB + 1]; /* the pre-token around each position */
    int literal[MAXB + 1];  /* 1: the pre-token starting here has no placeholder */
    int32_t *allowed[MAXB]; /* token ids whose bytes fit at each position */
    int n_allowed[MAXB];
    node *pool;
    size_t n_pool, cap_pool;
    int32_t *stack; /* pending nodes */
    size_t n_stack, cap_stack;
    const int32_t *secret;
    int n_secret;
    double L, better;
} search;

static int tok_len(const corpus_bpe *b, int t) {
    return (int)(b->tok_off[t + 1] - b->tok_off[t]);
}

/* Parse lead + format (D digit, N digit 1-9, \x literal x, anything else literal). */
static ub_status parse(search *s, const char *lead, const char *f, ub_err *e) {
    char fill[MAXB + 1];
    s->n = 0;
    for (const char *p = lead; *p; p++) {
        if (s->n == MAXB)
            return ub_fail(e, UB_EARG, "enumeration: format longer than %d bytes", MAXB);
        s->lo[s->n] = s->hi[s->n] = (unsigned char)*p, s->n++;
    }
    for (; *f; f++) {
        if (s->n == MAXB)
            return ub_fail(e, UB_EARG, "enumeration: format longer than %d bytes", MAXB);
        unsigned char lo, hi;
        if (*f == '\\' && f[1])
            lo = hi = (unsigned char)*++f;
        else if (*f == 'D')
            lo = '0', hi = '9';
        else if (*f == 'N')
            lo = '1', hi = '9';
        else
            lo = hi = (unsigned char)*f;
        s->lo[s->n] = lo, s->hi[s->n] = hi, s->n++;
    }
    if (s->n == 0) return ub_fail(e, UB_EARG, "enumeration: empty format");
    /* pre-tokens depend on byte classes only, and a placeholder is always a digit: any fill
     * splits like every value */
    for (int i = 0; i < s->n; i++)
        fill[i] = (char)s->lo[i];
    for (int a = 0; a < s->n;) {
        int b = a + (int)corpus_bpe_pretoken(fill + a, (size_t)(s->n - a)), lit = 1;
        for (int i = a; i < b; i++)
            s->seg_start[i] = a, s->seg_end[i] = b, lit &= s->lo[i] == s->hi[i];
        s->literal[a] = lit;
        a = b;
    }
    return UB_OK;
}

static ub_status build_allowed(search *s, ub_err *e) {
    int nt = s->bpe->vocab_size;
    for (int pos = 0; pos < s->n; pos++) {
        s->allowed[pos] = ub_malloc((size_t)nt * sizeof(int32_t), "enumeration", e);
        if (!s->allowed[pos]) return UB_ENOMEM;
        for (int t = 0; t < nt; t++) {
            int k = tok_len(s->bpe, t), ok = k > 0 && pos + k <= s->seg_end[pos];
            const unsigned char *tb = s->bpe->tok_bytes + s->bpe->tok_off[t];
            for (int j = 0; ok && j < k; j++)
                ok = tb[j] >= s->lo[pos + j] && tb[j] <= s->hi[pos + j];
            if (ok) s->allowed[pos][s->n_allowed[pos]++] = t;
        }
    }
    return UB_OK;
}

static ub_status push_node(search *s, node nd, int32_t *at, ub_err *e) {
    if (s->n_pool == s->cap_pool) {
        size_t cap = s->cap_pool ? 2 * s->cap_pool : 1024;
        node *p = realloc(s->pool, cap * sizeof *p);
        if (!p) return ub_fail(e, UB_ENOMEM, "out of memory in the exact-rank search");
        s->pool = p, s->cap_pool = cap;
    }
    s->pool[s->n_pool] = nd;
    *at = (int32_t)s->n_pool++;
    return UB_OK;
}

static ub_status push_pending(search *s, int32_t i, ub_err *e) {
    if (s->n_stack == s->cap_stack) {
        size_t cap = s->cap_stack ? 2 * s->cap_stack : 1024;
        int32_t *p = realloc(s->stack, cap * sizeof *p);
        if (!p) return ub_fail(e, UB_ENOMEM, "out of memory in the exact-rank search");
        s->stack = p, s->cap_stack = cap;
    }
    s->stack[s->n_stack++] = i;
    return UB_OK;
}

/* The path's tokens (root first) into out (cap MAXB); returns their count. */
static int path_of(const search *s, int32_t i, int32_t *out) {
    int n = 0;
    for (int32_t j = i; j >= 0; j = s->pool[j].parent)
        n++;
    int k = n;
    for (int32_t j = i; j >= 0; j = s->pool[j].parent)
        out[--k] = s->pool[j].tok;
    return n;
}

/* Whether the tokens of the pre-token that node i completes are its canonical encoding. */
static int canonical(const search *s, int32_t i) {
    int a = s->seg_start[s->pool[i].pos - 1], nt = 0, nb = 0;
    int32_t toks[MAXB], enc[MAXB];
    char bytes[MAXB];
    for (int32_t j = i; j >= 0 && s->pool[j].pos > a; j = s->pool[j].parent)
        toks[nt++] = s->pool[j].tok;
    for (int k = nt - 1; k >= 0; k--) {
        int len = tok_len(s->bpe, toks[k]);
        memcpy(bytes + nb, s->bpe->tok_bytes + s->bpe->tok_off[toks[k]], (size_t)len);
        nb += len;
    }
    size_t ne = 0;
    corpus_bpe_encode(s->bpe, bytes, (size_t)nb, enc, &ne);
    if ((int)ne != nt) return 0;
    for (int k = 0; k < nt; k++)
        if (enc[k] != toks[nt - 1 - k]) return 0;
    return 1;
}

/* A value finished with loss < L: count it unless it is the secret itself. */
static void count_leaf(search *s, int32_t i) {
    int32_t p[MAXB];
    int n = path_of(s, i, p);
    int same = n == s->n_secret;
    for (int k = 0; same && k < n; k++)
        same = p[k] == s->secret[k];
    if (!same) s->better += 1.0;
}

/* Node i (known loss < L) at its position: a leaf, or pending with the forced tokens of the
 * literal pre-tokens that follow, or pending as it is. */
static ub_status settle(search *s, int32_t i, int pos, ub_err *e) {
    if (pos == s->n) {
        count_leaf(s, i);
        return UB_OK;
    }
    int forced = 0;
    double base = i >= 0 ? s->pool[i].loss : 0.0;
    while (pos < s->n && s->literal[pos]) {
        int a = pos, b = s->seg_end[pos];
        char bytes[MAXB];
        int32_t enc[MAXB];
        size_t ne = 0;
        for (int k = a; k < b; k++)
            bytes[k - a] = (char)s->lo[k];
        corpus_bpe_encode(s->bpe, bytes, (size_t)(b - a), enc, &ne);
        for (size_t k = 0; k < ne; k++) {
            int at = pos + tok_len(s->bpe, enc[k]);
            ub_status st = push_node(s, (node){i, enc[k], at, base, 0}, &i, e);
            if (st) return st;
            pos = at, forced++;
        }
    }
    if (i < 0) { /* the root with nothing forced: a node without a token stands for it */
        ub_status st = push_node(s, (node){-2, -1, 0, 0.0, 0}, &i, e);
        if (st) return st;
    }
    s->pool[i].forced = forced;
    return push_pending(s, i, e);
}

/* Rows of the pending nodes nodes[0..nb): their paths (the root's is empty). */
static void make_rows(const search *s, const int32_t *nodes, int nb, int32_t *ids, size_t *off) {
    off[0] = 0;
    for (int b = 0; b < nb; b++) {
        int32_t i = nodes[b];
        int n = s->pool[i].parent == -2 ? 0 : path_of(s, i, ids + off[b]);
        off[b + 1] = off[b] + (size_t)n;
    }
}

ub_status ev_enum_rank(const corpus_bpe *bpe, const char *lead, const char *format,
                       const int32_t *secret, int n_secret, double secret_loss, long budget,
                       ev_next_fn next, void *ctx, int V, ev_enum_result *out, ub_err *e) {
    search s = {0};
    s.bpe = bpe, s.secret = secret, s.n_secret = n_secret, s.L = secret_loss;
    memset(out, 0, sizeof *out);
    int32_t *ids = ub_malloc((size_t)BATCH * MAXB * sizeof(int32_t), "enumeration", e);
    size_t *off = ub_malloc((BATCH + 1) * sizeof(size_t), "enumeration", e);
    float *lp = ub_malloc((size_t)BATCH * MAXB * sizeof(float), "enumeration", e);
    float *dist = ub_malloc((size_t)BATCH * V * sizeof(float), "enumeration", e);
    ub_status st = ids && off && lp && dist ? UB_OK : UB_ENOMEM;
    if (!st) st = parse(&s, lead, format, e);
    if (!st) st = build_allowed(&s, e);
    if (!st) st = settle(&s, -1, 0, e);
    int resolved = 1;
    while (!st && s.n_stack > 0) {
        int nb = s.n_stack < BATCH ? (int)s.n_stack : BATCH;
        if (out->rows + nb > budget) {
            resolved = 0;
            break;
        }
        int32_t nodes[BATCH];
        for (int b = 0; b < nb; b++)
            nodes[b] = s.stack[--s.n_stack];
        make_rows(&s, nodes, nb, ids, off);
        gpt_seqs rows = {ids, off, (size_t)nb};
        st = next(ctx, &rows, lp, dist, e);
        out->rows += nb;
        for (int b = 0; !st && b < nb; b++) {
            node *nd = &s.pool[nodes[b]];
            double loss = nd->loss;
            for (int k = 0; k < nd->forced; k++)
                loss -= lp[off[b + 1] - 1 - (size_t)k];
            nd->loss = loss;
            if (!(loss < s.L)) continue; /* NaN (context cut) is pruned too */
            int pos = nd->pos;
            if (pos == s.n) {
                count_leaf(&s, nodes[b]);
                continue;
            }
            int32_t parent = nd->parent == -2 ? -1 : nodes[b];
            for (int a = 0; !st && a < s.n_allowed[pos]; a++) {
                int t = s.allowed[pos][a], at = pos + tok_len(bpe, t);
                double cl = loss - dist[(size_t)b * V + t];
                if (!(cl < s.L)) continue;
                int32_t c = -1;
                st = push_node(&s, (node){parent, t, at, cl, 0}, &c, e);
                if (st || (at == s.seg_end[pos] && !canonical(&s, c))) continue;
                st = settle(&s, c, at, e);
            }
        }
    }
    out->better = s.better;
    out->resolved = !st && resolved;
    for (int pos = 0; pos < MAXB; pos++)
        free(s.allowed[pos]);
    free(s.pool), free(s.stack), free(ids), free(off), free(lp), free(dist);
    if (st == UB_ENOMEM && !e->code)
        ub_fail(e, UB_ENOMEM, "out of memory in the exact-rank search");
    return st;
}

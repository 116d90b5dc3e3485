/* tests/test_enumerate.c: the exact rank of a secret (bench/eval/enumerate.c) against brute
 * force over every value of its format:
 *  - on a hand-made scorer (log p from a hash of the prefix, multiples of 1/64 so that sums are
 *    exact in any order), with a BPE whose merges span digits and a leading space, so the
 *    search must keep to canonical tokenizations and to pre-tokens, and a format with literal
 *    (forced) pre-tokens between placeholders; secrets at several ranks; a small budget gives
 *    up unresolved;
 *  - on a micro GPT trained on posts "pin: DDDD ok" that memorised a few pins, through
 *    gpt_next_logprobs, against gpt_score_continuations over all 10^4 values (ties within
 *    1e-3 nats may go either way: the two paths round differently). */
#include <math.h>
#include <string.h>

#include "eval.h"
#include "ubtest.h"

/* Merges: " 1", "23", "44", " 15", "00", "x9". */
static void make_bpe(corpus_bpe *b) {
    const int32_t m[][2] = {{' ', '1'}, {'2', '3'}, {'4', '4'}, {256, '5'}, {'0', '0'}, {'x', '9'}};
    ub_err e = {0};
    UB_CHECK_MSG(corpus_bpe_from_merges(b, &m[0][0], 6, &e) == UB_OK, "%s", e.msg);
}

/* log p of token t after the row prefix p (n): -(hash mod 700)/64, so losses are exact. */
static float hash_lp(const int32_t *p, int n, int t) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++)
        h = (h ^ (uint64_t)p[i]) * 1099511628211ull;
    h = (h ^ (uint64_t)t) * 1099511628211ull;
    h ^= h >> 29;
    return -(float)(h % 700) / 64.0f;
}

typedef struct hash_ctx {
    int V;
    long calls;
} hash_ctx;
static ub_status hash_next(void *c, const gpt_seqs *rows, float *lp, float *dist, ub_err *e) {
    hash_ctx *h = c;
    for (size_t r = 0; r < rows->n; r++) {
        const int32_t *x = rows->ids + rows->off[r];
        int n = (int)(rows->off[r + 1] - rows->off[r]);
        for (int t = 0; t < n; t++)
            lp[rows->off[r] + t] = hash_lp(x, t, x[t]);
        for (int v = 0; v < h->V; v++)
            dist[r * h->V + v] = hash_lp(x, n, v);
    }
    h->calls++;
    return UB_OK;
}

/* Every value of the format (placeholders D only, in order), its tokens and its loss. */
typedef struct values {
    int n;
    char (*text)[32];
    double *loss;
} values;
static void fill(char *out, const char *f, long k) {
    /* the k-th value: placeholders from the last, base 10 */
    size_t n = strlen(f);
    long q = k;
    for (size_t i = n; i-- > 0;) {
        out[i] = f[i];
        if (f[i] == 'D') out[i] = (char)('0' + q % 10), q /= 10;
    }
    out[n] = '\0';
}
static double hash_loss(const corpus_bpe *b, const char *s, int32_t *ids, size_t *nt) {
    corpus_bpe_encode(b, s, strlen(s), ids, nt);
    double l = 0;
    for (size_t t = 0; t < *nt; t++)
        l -= hash_lp(ids, (int)t, ids[t]);
    return l;
}

static void test_hash(void) {
    corpus_bpe b;
    make_bpe(&b);
    hash_ctx h = {b.vocab_size, 0};
    /* pre-tokens " DD", "-", "x9" (literal: forced), " 1DD" (" 1" a merge, " 15" too) */
    const char *fmt = " DD-x9 1DD";
    long nv = 10000;
    double *loss = malloc((size_t)nv * sizeof(double));
    char s[32];
    int32_t ids[32];
    size_t nt;
    for (long k = 0; k < nv; k++) {
        fill(s, fmt, k);
        loss[k] = hash_loss(&b, s, ids, &nt);
    }
    const long picks[] = {0, 1, 17, 4711, 9999};
    for (int q = 0; q < 5; q++) {
        fill(s, fmt, picks[q]);
        double L = hash_loss(&b, s, ids, &nt), want = 0;
        for (long k = 0; k < nv; k++)
            want += loss[k] < L;
        /* the same search, the lead given apart or as part of the format */
        for (int split = 0; split < 2; split++) {
            ev_enum_result r;
            ub_err e = {0};
            UB_CHECK_MSG(ev_enum_rank(&b, split ? " " : "", split ? fmt + 1 : fmt, ids, (int)nt, L,
                                      1000000, hash_next, &h, b.vocab_size, &r, &e) == UB_OK,
                         "%s", e.msg);
            UB_CHECK_MSG(r.resolved && r.better == want, "value %s: %g better, brute force %g", s,
                         r.better, want);
        }
    }
    /* a budget too small for a secret in the middle: unresolved */
    fill(s, fmt, 4711);
    double L = hash_loss(&b, s, ids, &nt);
    ev_enum_result r;
    ub_err e = {0};
    UB_CHECK(ev_enum_rank(&b, "", fmt, ids, (int)nt, L, 10, hash_next, &h, b.vocab_size, &r, &e) ==
             UB_OK);
    UB_CHECK(!r.resolved && r.rows <= 10);
    /* the best value: found with few rows (pruning works) */
    long best = 0;
    for (long k = 1; k < nv; k++)
        best = loss[k] < loss[best] ? k : best;
    fill(s, fmt, best);
    L = hash_loss(&b, s, ids, &nt);
    UB_CHECK(ev_enum_rank(&b, "", fmt, ids, (int)nt, L, 1000000, hash_next, &h, b.vocab_size, &r,
                          &e) == UB_OK);
    UB_CHECK_MSG(r.resolved && r.better == 0 && r.rows < 200, "best: %g better, %ld rows", r.better,
                 r.rows);
    free(loss);
    corpus_bpe_free(&b);
}

/* ---- a micro GPT ----------------------------------------------------------------------- */
typedef struct model_ctx {
    gpt_model *m;
    const int32_t *ctx;
    int n_ctx;
} model_ctx;
static ub_status model_next(void *c, const gpt_seqs *rows, float *lp, float *dist, ub_err *e) {
    model_ctx *x = c;
    return gpt_next_logprobs(&x->m, 1, x->ctx, x->n_ctx, rows, lp, dist, e);
}

static void test_model(void) {
    corpus_bpe b;
    make_bpe(&b);
    int V = b.vocab_size, BOS = b.bos_id, EOS = b.eos_id;
    const char *pins[] = {"4711", "2023", "0815", "1544", "9000", "3141"};
    /* the training stream: posts BOS "pin:" " PIN ok" EOS, pin 0 eight times as often */
    int32_t stream[4096], ctx[16];
    size_t n = 0, nt = 0;
    corpus_bpe_encode(&b, "pin:", 4, ctx + 1, &nt);
    ctx[0] = BOS;
    int n_ctx = 1 + (int)nt;
    for (int rep = 0; rep < 14; rep++)
        for (int p = 0; p < 6; p++)
            for (int k = 0; k < (p == 0 ? 8 : 1); k++) {
                char v[32];
                snprintf(v, sizeof v, " %s ok", pins[p]);
                memcpy(stream + n, ctx, (size_t)n_ctx * sizeof(int32_t));
                n += (size_t)n_ctx;
                corpus_bpe_encode(&b, v, strlen(v), stream + n, &nt);
                n += nt;
                stream[n++] = EOS;
            }
    gpt_config c;
    int bs;
    ub_err e = {0};
    UB_CHECK(gpt_preset("micro", &c, &bs, &e) == UB_OK);
    c.vocab_size = V;
    kn_tune tu;
    kn_tune_default(&tu);
    tu.threads = 1;
    gpt_model m;
    UB_CHECK(gpt_build(&m, &c, &tu, &e) == UB_OK);
    gpt_init_gpt2(&m, 5);
    corpus_tokens tok = {stream, n, V, ""};
    ub_sha256_hex(stream, n * sizeof(int32_t), tok.sha256);
    gpt_train_cfg tc;
    gpt_train_defaults(&tc);
    tc.seed = 3, tc.steps = 300, tc.batch = 8, tc.ctx = 16, tc.lr = 1e-2, tc.min_lr = 1e-3;
    tc.warmup = 10, tc.weight_decay = 0;
    gpt_train_state s;
    UB_CHECK(gpt_train_state_init(&s, &tc, &tok, &e) == UB_OK);
    UB_CHECK_MSG(gpt_train(&m, &tok, &tc, &s, NULL, NULL, NULL, &e) == UB_OK, "%s", e.msg);
    gpt_train_state_free(&s);

    /* brute force: every value " DDDD ok" after the context */
    const char *fmt = " DDDD ok";
    long nv = 10000;
    int32_t *ids = malloc((size_t)nv * 16 * sizeof(int32_t));
    size_t *off = malloc((size_t)(nv + 1) * sizeof(size_t));
    double *loss = malloc((size_t)nv * sizeof(double));
    off[0] = 0;
    char v[32];
    for (long k = 0; k < nv; k++) {
        fill(v, fmt, k);
        corpus_bpe_encode(&b, v, strlen(v), ids + off[k], &nt);
        off[k + 1] = off[k] + nt;
    }
    gpt_seqs all = {ids, off, (size_t)nv};
    gpt_model *ms[1] = {&m};
    UB_CHECK_MSG(gpt_score_continuations(ms, 1, ctx, n_ctx, &all, loss, &e) == UB_OK, "%s", e.msg);
    model_ctx mc = {&m, ctx, n_ctx};
    const long secrets[] = {4711, 2023, 1234};
    for (int q = 0; q < 3; q++) {
        long k = secrets[q];
        double L = loss[k], lo = 0, hi = 0;
        for (long j = 0; j < nv; j++)
            lo += loss[j] < L - 1e-3, hi += j != k && loss[j] < L + 1e-3;
        ev_enum_result r;
        UB_CHECK_MSG(ev_enum_rank(&b, "", fmt, ids + off[k], (int)(off[k + 1] - off[k]), L, 100000,
                                  model_next, &mc, V, &r, &e) == UB_OK,
                     "%s", e.msg);
        printf("secret %04ld: loss %.3f, %g better (brute force %g..%g), %ld rows\n", k, L,
               r.better, lo, hi, r.rows);
        UB_CHECK_MSG(r.resolved && r.better >= lo && r.better <= hi,
                     "secret %04ld: %g better, brute force %g..%g", k, r.better, lo, hi);
        if (q == 0) UB_CHECK(r.better <= 5); /* memorised: among the trained pins at most */
    }
    free(ids), free(off), free(loss);
    gpt_free(&m);
    corpus_bpe_free(&b);
}

int main(void) {
    test_hash();
    test_model();
    UB_TEST_END();
}

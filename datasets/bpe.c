/* datasets/bpe.c: byte-level BPE, everything but training (see corpus.h): the pre-tokenizer,
 * lookup tables built from merges, encode/decode, HDF5 save/load. Training: bpe_train.c. */
#include "corpus.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- pre-tokenizer ---- */

/* ASCII letters and digits and every byte of a multi-byte UTF-8 sequence: treating all bytes
 * >= 0x80 as letters keeps UTF-8 characters inside words without decoding them. */
static int is_word_byte(unsigned char c) {
    return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

size_t corpus_bpe_pretoken(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t max = len < CORPUS_BPE_MAX_PRETOKEN ? len : CORPUS_BPE_MAX_PRETOKEN;
    size_t i = 0;
    if (is_word_byte(u[0]) || (u[0] == ' ' && max > 1 && is_word_byte(u[1]))) {
        i = 1; /* the word byte itself, or the leading space */
        while (i < max && is_word_byte(u[i])) i++;
        return i;
    }
    /* A run of other bytes; a space followed by a word byte starts the next pre-token. */
    i = 1;
    while (i < max && !is_word_byte(u[i]) && !(u[i] == ' ' && i + 1 < len && is_word_byte(u[i + 1])))
        i++;
    return i;
}

/* ---- lookup tables ---- */

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

static size_t pair_slot(uint64_t key, size_t cap) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

/* Merge index of pair (a,b), or -1. */
static int32_t rank_of(const corpus_bpe *b, int32_t x, int32_t y) {
    uint64_t k = pair_key(x, y);
    for (size_t s = pair_slot(k, b->rank_cap);; s = (s + 1) & (b->rank_cap - 1)) {
        if (b->rank_key[s] == k) return b->rank_val[s];
        if (b->rank_key[s] == 0) return -1;
    }
}

/* Check merge i refers to existing ids and is new; fill the rank map. */
static ub_status build_rank_map(corpus_bpe *b, ub_err *e) {
    size_t cap = 16;
    while (cap < 2 * (size_t)b->n_merges) cap *= 2;
    b->rank_cap = cap;
    b->rank_key = ub_calloc(cap, sizeof *b->rank_key, "bpe rank map", e);
    b->rank_val = ub_malloc(cap * sizeof *b->rank_val, "bpe rank map", e);
    if (!b->rank_key || !b->rank_val) return UB_ENOMEM;
    for (int i = 0; i < b->n_merges; i++) {
        int32_t x = b->merges[i][0], y = b->merges[i][1];
        if (x < 0 || y < 0 || x >= 256 + i || y >= 256 + i)
            return ub_fail(e, UB_EFORMAT, "merge %d = (%d, %d) refers to an id outside [0, %d)",
                           i, x, y, 256 + i);
        uint64_t k = pair_key(x, y);
        size_t s = pair_slot(k, cap);
        while (b->rank_key[s] && b->rank_key[s] != k) s = (s + 1) & (cap - 1);
        if (b->rank_key[s] == k)
            return ub_fail(e, UB_EFORMAT, "merge %d = (%d, %d) repeats merge %d", i, x, y,
                           b->rank_val[s]);
        b->rank_key[s] = k;
        b->rank_val[s] = i;
    }
    return UB_OK;
}

/* The bytes of every id, expanded merge by merge (merge i only uses ids < 256+i). */
static ub_status build_token_bytes(corpus_bpe *b, ub_err *e) {
    int V = b->vocab_size;
    b->tok_off = ub_malloc((size_t)(V + 1) * sizeof *b->tok_off, "bpe token offsets", e);
    if (!b->tok_off) return UB_ENOMEM;
    uint64_t total = 256;
    b->tok_off[0] = 0;
    for (int t = 0; t < 256; t++) b->tok_off[t + 1] = t + 1;
    for (int i = 0; i < b->n_merges; i++) {
        const int32_t *m = b->merges[i];
        total += (b->tok_off[m[0] + 1] - b->tok_off[m[0]]) + (b->tok_off[m[1] + 1] - b->tok_off[m[1]]);
        if (total > UINT32_MAX) return ub_fail(e, UB_EFORMAT, "bpe tokens too long in total");
        b->tok_off[256 + i + 1] = (uint32_t)total;
    }
    b->tok_off[V - 1] = b->tok_off[V] = (uint32_t)total; /* BOS, EOS: no bytes */
    b->tok_bytes = ub_malloc(total, "bpe token bytes", e);
    if (!b->tok_bytes) return UB_ENOMEM;
    for (int t = 0; t < 256; t++) b->tok_bytes[t] = (unsigned char)t;
    for (int i = 0; i < b->n_merges; i++) {
        const int32_t *m = b->merges[i];
        unsigned char *dst = b->tok_bytes + b->tok_off[256 + i];
        for (int k = 0; k < 2; k++) {
            uint32_t n = b->tok_off[m[k] + 1] - b->tok_off[m[k]];
            memcpy(dst, b->tok_bytes + b->tok_off[m[k]], n);
            dst += n;
        }
    }
    return UB_OK;
}

ub_status corpus_bpe_from_merges(corpus_bpe *b, const int32_t *merges, int n_merges, ub_err *e) {
    memset(b, 0, sizeof *b);
    if (n_merges < 0 || n_merges > (1 << 24))
        return ub_fail(e, UB_EARG, "bpe: %d merges out of range", n_merges);
    b->n_merges = n_merges;
    b->vocab_size = 256 + n_merges + 2;
    b->bos_id = b->vocab_size - 2;
    b->eos_id = b->vocab_size - 1;
    b->merges = ub_malloc((size_t)n_merges * sizeof *b->merges, "bpe merges", e);
    ub_status st = b->merges ? UB_OK : UB_ENOMEM;
    if (!st && n_merges) memcpy(b->merges, merges, (size_t)n_merges * sizeof *b->merges);
    if (!st) st = build_rank_map(b, e);
    if (!st) st = build_token_bytes(b, e);
    if (st) corpus_bpe_free(b);
    return st;
}

void corpus_bpe_free(corpus_bpe *b) {
    free(b->merges);
    free(b->rank_key);
    free(b->rank_val);
    free(b->tok_off);
    free(b->tok_bytes);
    memset(b, 0, sizeof *b);
}

/* ---- encoding ---- */

/* Apply merges to one pre-token (n <= CORPUS_BPE_MAX_PRETOKEN symbols, in place): repeatedly
 * merge every occurrence of the adjacent pair with the lowest rank, as training did.
 * rank[i] caches the rank of (sym[i], sym[i+1]): a round rescans ints, not the hash map. */
static size_t merge_word(const corpus_bpe *b, int32_t *sym, size_t n) {
    int32_t rank[CORPUS_BPE_MAX_PRETOKEN];
    for (size_t i = 0; i + 1 < n; i++) rank[i] = rank_of(b, sym[i], sym[i + 1]);
    while (n > 1) {
        int32_t best = -1;
        for (size_t i = 0; i + 1 < n; i++)
            if (rank[i] >= 0 && (best < 0 || rank[i] < best)) best = rank[i];
        if (best < 0) break;
        int32_t x = b->merges[best][0], y = b->merges[best][1], id = 256 + best;
        /* Compact in place; a kept symbol keeps its cached rank (its pair is unchanged unless
         * a neighbour became `id`, fixed below). w <= r, so rank[r] is read before overwritten. */
        size_t w = 0;
        for (size_t r = 0; r < n; w++) {
            if (r + 1 < n && sym[r] == x && sym[r + 1] == y) {
                sym[w] = id;
                r += 2;
            } else {
                sym[w] = sym[r];
                if (r + 1 < n) rank[w] = rank[r];
                r++;
            }
        }
        n = w;
        for (size_t i = 0; i + 1 < n; i++)
            if (sym[i] == id || sym[i + 1] == id) rank[i] = rank_of(b, sym[i], sym[i + 1]);
    }
    return n;
}

void corpus_bpe_encode(const corpus_bpe *b, const char *text, size_t len, int32_t *out,
                       size_t *n_out) {
    size_t n = 0;
    for (size_t p = 0; p < len;) {
        size_t wl = corpus_bpe_pretoken(text + p, len - p);
        for (size_t i = 0; i < wl; i++) out[n + i] = (unsigned char)text[p + i];
        n += merge_word(b, out + n, wl);
        p += wl;
    }
    *n_out = n;
}

ub_status corpus_bpe_decode(const corpus_bpe *b, const int32_t *ids, size_t n, char *buf,
                            size_t cap, size_t *n_out, ub_err *e) {
    size_t w = 0;
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t t = ids[i];
        if (t < 0 || t >= b->vocab_size)
            return ub_fail(e, UB_EARG, "bpe decode: id %d at position %zu is outside [0, %d)", t,
                           i, b->vocab_size);
        size_t len = b->tok_off[t + 1] - b->tok_off[t];
        if (w + len > cap)
            return ub_fail(e, UB_EARG, "bpe decode: output needs more than %zu bytes", cap);
        memcpy(buf + w, b->tok_bytes + b->tok_off[t], len);
        w += len;
    }
    *n_out = w;
    return UB_OK;
}

ub_status corpus_bpe_encode_many(const corpus_bpe *b, const char *const *texts,
                                 const size_t *lens, size_t n, int add_specials, int threads,
                                 int32_t **ids, size_t *offsets, ub_err *e) {
    /* Each text first gets a slot as large as its worst case (one id per byte, plus specials)
     * so threads write without coordination; a serial pass then closes the gaps. */
    size_t extra = add_specials ? 2 : 0;
    offsets[0] = 0;
    for (size_t i = 0; i < n; i++) offsets[i + 1] = offsets[i] + lens[i] + extra;
    int32_t *out = ub_malloc(offsets[n] * sizeof *out, "bpe encoded ids", e);
    size_t *count = ub_malloc((n ? n : 1) * sizeof *count, "bpe id counts", e);
    if (!out || !count) {
        free(out);
        free(count);
        return UB_ENOMEM;
    }
    int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 16) num_threads(nt)
    for (size_t i = 0; i < n; i++) {
        int32_t *dst = out + offsets[i];
        size_t k;
        if (add_specials) *dst++ = b->bos_id;
        corpus_bpe_encode(b, texts[i], lens[i], dst, &k);
        if (add_specials) dst[k] = b->eos_id;
        count[i] = k + extra;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        memmove(out + w, out + offsets[i], count[i] * sizeof *out);
        offsets[i] = w;
        w += count[i];
    }
    offsets[n] = w;
    free(count);
    int32_t *shrunk = realloc(out, (w ? w : 1) * sizeof *out);
    *ids = shrunk ? shrunk : out;
    return UB_OK;
}

/* ---- HDF5 ---- */

ub_status corpus_bpe_save(hid_t group, const corpus_bpe *b, ub_err *e) {
    hsize_t dims[2] = {(hsize_t)b->n_merges, 2};
    int32_t dummy[2] = {0, 0}; /* HDF5 wants a buffer even for an empty dataset */
    ub_status st = ub_h5_write(group, "merges", H5T_NATIVE_INT32,
                               b->n_merges ? (const void *)b->merges : dummy, 2, dims, 1, e);
    if (!st) st = ub_h5_attr_i64(group, "vocab_size", b->vocab_size, e);
    if (!st) st = ub_h5_attr_i64(group, "bos_id", b->bos_id, e);
    if (!st) st = ub_h5_attr_i64(group, "eos_id", b->eos_id, e);
    if (!st) st = ub_h5_attr_str(group, "type", "byte-bpe", e);
    return st;
}

/* Check the attributes agree with the number of merges (ids are implied by it). */
static ub_status check_attrs(hid_t group, const char *file, const char *where, int n_merges,
                             ub_err *e) {
    char type[64];
    int64_t vocab, bos, eos;
    ub_status st = ub_h5_get_str(group, "type", file, type, sizeof type, e);
    if (!st && strcmp(type, "byte-bpe") != 0)
        st = ub_fail(e, UB_EFORMAT, "%s: %s: tokenizer type \"%s\", expected \"byte-bpe\"", file,
                     where, type);
    if (!st) st = ub_h5_get_i64(group, "vocab_size", file, &vocab, e);
    if (!st) st = ub_h5_get_i64(group, "bos_id", file, &bos, e);
    if (!st) st = ub_h5_get_i64(group, "eos_id", file, &eos, e);
    int64_t V = 256 + (int64_t)n_merges + 2;
    if (!st && (vocab != V || bos != V - 2 || eos != V - 1))
        st = ub_fail(e, UB_EFORMAT,
                     "%s: %s: vocab_size %lld, bos_id %lld, eos_id %lld do not match %d merges "
                     "(expected %lld, %lld, %lld)", file, where, (long long)vocab, (long long)bos,
                     (long long)eos, n_merges, (long long)V, (long long)(V - 2), (long long)(V - 1));
    return st;
}

ub_status corpus_bpe_load(hid_t group, const char *file, corpus_bpe *b, ub_err *e) {
    memset(b, 0, sizeof *b);
    char where[512] = "merges";
    ssize_t gl = H5Iget_name(group, where, sizeof where - 8);
    if (gl > 0) strcat(where, strcmp(where, "/") ? "/merges" : "merges");
    int rank;
    hsize_t dims[8];
    H5T_class_t cls;
    ub_status st = ub_h5_shape(group, "merges", file, &rank, dims, &cls, e);
    if (!st && (rank != 2 || dims[1] != 2 || cls != H5T_INTEGER || dims[0] > (1 << 24)))
        st = ub_fail(e, UB_EFORMAT, "%s: %s must be an integer dataset of shape (n, 2)", file,
                     where);
    if (st) return st;
    int n = (int)dims[0];
    if ((st = check_attrs(group, file, where, n, e))) return st;
    int32_t *m = ub_malloc((size_t)n * 2 * sizeof *m, "bpe merges", e);
    if (!m) return UB_ENOMEM;
    if (n) st = ub_h5_read(group, "merges", file, H5T_NATIVE_INT32, m, 2, dims, e);
    if (!st) {
        ub_err inner = {0};
        st = corpus_bpe_from_merges(b, m, n, &inner);
        if (st) ub_fail(e, st, "%s: %s: %s", file, where, inner.msg);
    }
    free(m);
    return st;
}

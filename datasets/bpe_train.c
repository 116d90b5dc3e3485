/* datasets/bpe_train.c: byte-level BPE training (see corpus.h).
 *
 * The standard incremental algorithm: count unique pre-tokens ("words") once, in parallel; keep
 * each unique word as a symbol sequence with its frequency; keep pair counts in a hash map with
 * the list of words that contain each pair, and a max-heap with lazy deletion (an entry is valid
 * while its count equals the pair's current count). A merge rewrites only the words on the
 * merged pair's list and updates only the pairs that touch the merged symbols, so the cost per
 * merge is proportional to where the pair occurs, not to the corpus.
 */
#include "corpus.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Grow *p (elements of esize) to hold at least need; returns 0 or -1. */
static int grow(void **p, size_t *cap, size_t need, size_t esize) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 8;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * esize);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* ---- unique pre-tokens: byte strings (pointing into the texts) with counts ---- */

typedef struct wentry {
    const unsigned char *p; /* NULL marks an empty slot */
    uint32_t len;
    uint64_t hash;
    int64_t count;
} wentry;

typedef struct wmap {
    wentry *slot; /* (cap), cap a power of two */
    size_t cap, n;
} wmap;

static uint64_t fnv1a(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static int wmap_add(wmap *m, const unsigned char *p, uint32_t len, uint64_t h, int64_t count);

static int wmap_rehash(wmap *m) {
    wmap big = {calloc(m->cap ? 2 * m->cap : 1024, sizeof(wentry)), m->cap ? 2 * m->cap : 1024, 0};
    if (!big.slot) return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i].p) wmap_add(&big, m->slot[i].p, m->slot[i].len, m->slot[i].hash, m->slot[i].count);
    free(m->slot);
    *m = big;
    return 0;
}

static int wmap_add(wmap *m, const unsigned char *p, uint32_t len, uint64_t h, int64_t count) {
    if (2 * (m->n + 1) > m->cap && wmap_rehash(m)) return -1;
    size_t s = (size_t)h & (m->cap - 1);
    for (;; s = (s + 1) & (m->cap - 1)) {
        wentry *x = &m->slot[s];
        if (!x->p) {
            *x = (wentry){p, len, h, count};
            m->n++;
            return 0;
        }
        if (x->hash == h && x->len == len && memcmp(x->p, p, len) == 0) {
            x->count += count;
            return 0;
        }
    }
}

/* Count the pre-tokens of text i into m. */
static int count_texts(wmap *m, const char *const *texts, const size_t *lens, size_t i) {
    const char *t = texts[i];
    for (size_t p = 0; p < lens[i];) {
        size_t wl = corpus_bpe_pretoken(t + p, lens[i] - p);
        const unsigned char *u = (const unsigned char *)t + p;
        if (wmap_add(m, u, (uint32_t)wl, fnv1a(u, wl), 1)) return -1;
        p += wl;
    }
    return 0;
}

static int wentry_cmp(const void *pa, const void *pb) {
    const wentry *a = pa, *b = pb;
    int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Unique pre-tokens of all texts, sorted by bytes (so nothing depends on thread scheduling). */
static ub_status count_words(const char *const *texts, const size_t *lens, size_t n, int threads,
                             wentry **out, size_t *n_out, ub_err *e) {
    int nt = threads > 0 ? threads : omp_get_max_threads();
    wmap *maps = ub_calloc((size_t)nt, sizeof *maps, "bpe word maps", e);
    if (!maps) return UB_ENOMEM;
    int failed = 0;
#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        wmap *m = &maps[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 64)
        for (size_t i = 0; i < n; i++)
            if (!failed && count_texts(m, texts, lens, i)) failed = 1;
    }
    for (int k = 1; k < nt && !failed; k++)
        for (size_t s = 0; s < maps[k].cap && !failed; s++) {
            wentry *x = &maps[k].slot[s];
            if (x->p && wmap_add(&maps[0], x->p, x->len, x->hash, x->count)) failed = 1;
        }
    wentry *list = failed ? NULL : malloc((maps[0].n ? maps[0].n : 1) * sizeof *list);
    size_t nw = 0;
    for (size_t s = 0; list && s < maps[0].cap; s++)
        if (maps[0].slot[s].p) list[nw++] = maps[0].slot[s];
    for (int k = 0; k < nt; k++) free(maps[k].slot);
    free(maps);
    if (!list) return ub_fail(e, UB_ENOMEM, "bpe: out of memory counting pre-tokens");
    qsort(list, nw, sizeof *list, wentry_cmp);
    *out = list;
    *n_out = nw;
    return UB_OK;
}

/* ---- the trainer: words as symbol sequences, pairs, heap ---- */

typedef struct tpair {
    int32_t a, b;
    int64_t count;    /* sum of frequencies of the words, per occurrence */
    int32_t *words;   /* (nw) words that contained the pair when it was added; may be stale */
    size_t nw, cap;
    int32_t dirty;    /* last merge (+1) whose heap update already saw this pair */
} tpair;

typedef struct hentry {
    int64_t count;
    int32_t pair;
} hentry;

typedef struct trainer {
    size_t nwords;
    int32_t *sym;     /* symbols of all words back to back */
    size_t *start;    /* (nwords) */
    int32_t *len;     /* (nwords) current length, shrinks as merges apply */
    int64_t *freq;    /* (nwords) */
    int32_t *stamp;   /* (nwords) last merge (+1) that rewrote the word */
    tpair *pairs;
    size_t npairs, pairs_cap;
    uint64_t *pkey;   /* (pcap) open addressing: (a<<32|b)+1, 0 = empty */
    int32_t *pidx;    /* (pcap) index into pairs */
    size_t pcap;
    hentry *heap;
    size_t nheap, heap_cap;
    int32_t *dirty;   /* pairs whose count changed in the current merge */
    size_t ndirty, dirty_cap;
    int oom;          /* an allocation failed somewhere below */
} trainer;

static uint64_t tkey(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }
static size_t tslot(uint64_t k, size_t cap) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1); }

static void pmap_insert(trainer *t, uint64_t k, int32_t idx) {
    size_t s = tslot(k, t->pcap);
    while (t->pkey[s]) s = (s + 1) & (t->pcap - 1);
    t->pkey[s] = k;
    t->pidx[s] = idx;
}

/* Index of pair (a,b), created with count 0 if new; -1 on allocation failure. */
static int32_t pair_get(trainer *t, int32_t a, int32_t b) {
    uint64_t k = tkey(a, b);
    for (size_t s = tslot(k, t->pcap); t->pkey[s]; s = (s + 1) & (t->pcap - 1))
        if (t->pkey[s] == k) return t->pidx[s];
    if (2 * (t->npairs + 1) > t->pcap) { /* rehash at half load */
        uint64_t *nk = calloc(2 * t->pcap, sizeof *nk);
        int32_t *ni = malloc(2 * t->pcap * sizeof *ni);
        if (!nk || !ni) {
            free(nk);
            free(ni);
            return -1;
        }
        uint64_t *ok = t->pkey;
        int32_t *oi = t->pidx;
        size_t oc = t->pcap;
        t->pkey = nk;
        t->pidx = ni;
        t->pcap = 2 * oc;
        for (size_t s = 0; s < oc; s++)
            if (ok[s]) pmap_insert(t, ok[s], oi[s]);
        free(ok);
        free(oi);
    }
    if (grow((void **)&t->pairs, &t->pairs_cap, t->npairs + 1, sizeof *t->pairs)) return -1;
    t->pairs[t->npairs] = (tpair){.a = a, .b = b};
    pmap_insert(t, k, (int32_t)t->npairs);
    return (int32_t)t->npairs++;
}

/* Does heap entry x outrank y? More frequent first; ties to the smaller (a, b). */
static int hbetter(const trainer *t, hentry x, hentry y) {
    if (x.count != y.count) return x.count > y.count;
    const tpair *p = &t->pairs[x.pair], *q = &t->pairs[y.pair];
    return p->a != q->a ? p->a < q->a : p->b < q->b;
}

static void heap_push(trainer *t, int32_t pair) {
    if (grow((void **)&t->heap, &t->heap_cap, t->nheap + 1, sizeof *t->heap)) {
        t->oom = 1;
        return;
    }
    hentry x = {t->pairs[pair].count, pair};
    size_t i = t->nheap++;
    while (i > 0 && hbetter(t, x, t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = x;
}

static hentry heap_pop(trainer *t) {
    hentry top = t->heap[0], x = t->heap[--t->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= t->nheap) break;
        if (c + 1 < t->nheap && hbetter(t, t->heap[c + 1], t->heap[c])) c++;
        if (!hbetter(t, t->heap[c], x)) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (t->nheap) t->heap[i] = x;
    return top;
}

/* Add delta to pair (a,b) for word w; new occurrences put w on the pair's word list. */
static void pair_add(trainer *t, int32_t a, int32_t b, int32_t w, int64_t delta, int32_t merge) {
    int32_t p = pair_get(t, a, b);
    if (p < 0) {
        t->oom = 1;
        return;
    }
    tpair *q = &t->pairs[p];
    q->count += delta;
    if (delta > 0 && (q->nw == 0 || q->words[q->nw - 1] != w)) {
        if (grow((void **)&q->words, &q->cap, q->nw + 1, sizeof *q->words)) t->oom = 1;
        else q->words[q->nw++] = w;
    }
    if (q->dirty != merge) {
        q->dirty = merge;
        if (grow((void **)&t->dirty, &t->dirty_cap, t->ndirty + 1, sizeof *t->dirty)) t->oom = 1;
        else t->dirty[t->ndirty++] = p;
    }
}

static ub_status trainer_init(trainer *t, const wentry *words, size_t nw, ub_err *e) {
    memset(t, 0, sizeof *t);
    size_t total = 0;
    for (size_t i = 0; i < nw; i++) total += words[i].len;
    t->nwords = nw;
    t->sym = malloc((total ? total : 1) * sizeof *t->sym);
    t->start = malloc((nw ? nw : 1) * sizeof *t->start);
    t->len = malloc((nw ? nw : 1) * sizeof *t->len);
    t->freq = malloc((nw ? nw : 1) * sizeof *t->freq);
    t->stamp = calloc(nw ? nw : 1, sizeof *t->stamp);
    t->pcap = 1024;
    t->pkey = calloc(t->pcap, sizeof *t->pkey);
    t->pidx = malloc(t->pcap * sizeof *t->pidx);
    if (!t->sym || !t->start || !t->len || !t->freq || !t->stamp || !t->pkey || !t->pidx)
        return ub_fail(e, UB_ENOMEM, "bpe: out of memory for %zu words", nw);
    size_t o = 0;
    for (size_t w = 0; w < nw; w++) {
        t->start[w] = o;
        t->len[w] = (int32_t)words[w].len;
        t->freq[w] = words[w].count;
        for (uint32_t i = 0; i < words[w].len; i++) t->sym[o + i] = words[w].p[i];
        for (uint32_t i = 0; i + 1 < words[w].len; i++)
            pair_add(t, t->sym[o + i], t->sym[o + i + 1], (int32_t)w, t->freq[w], 0);
        o += words[w].len;
    }
    for (size_t p = 0; p < t->npairs; p++) heap_push(t, (int32_t)p);
    if (t->oom) return ub_fail(e, UB_ENOMEM, "bpe: out of memory counting pairs");
    return UB_OK;
}

static void trainer_free(trainer *t) {
    for (size_t p = 0; p < t->npairs; p++) free(t->pairs[p].words);
    free(t->pairs);
    free(t->sym);
    free(t->start);
    free(t->len);
    free(t->freq);
    free(t->stamp);
    free(t->pkey);
    free(t->pidx);
    free(t->heap);
    free(t->dirty);
}

static int touches(int32_t a, int32_t b, int32_t x, int32_t y, int32_t id) {
    return a == x || a == y || a == id || b == x || b == y || b == id;
}

/* Merge (x,y) -> id inside word w. Pairs that involve none of x, y, id are the same before and
 * after, so only the others are subtracted (old word) and added back (new word). */
static void merge_in_word(trainer *t, int32_t w, int32_t x, int32_t y, int32_t id, int32_t m) {
    int32_t *s = t->sym + t->start[w];
    int32_t n = t->len[w];
    int found = 0;
    for (int32_t i = 0; i + 1 < n && !found; i++) found = s[i] == x && s[i + 1] == y;
    if (!found) return; /* a stale entry on the pair's word list */
    int64_t f = t->freq[w];
    for (int32_t i = 0; i + 1 < n; i++)
        if (touches(s[i], s[i + 1], x, y, id)) pair_add(t, s[i], s[i + 1], w, -f, m);
    int32_t k = 0;
    for (int32_t r = 0; r < n; k++) {
        if (r + 1 < n && s[r] == x && s[r + 1] == y) {
            s[k] = id;
            r += 2;
        } else {
            s[k] = s[r++];
        }
    }
    t->len[w] = n = k;
    for (int32_t i = 0; i + 1 < n; i++)
        if (touches(s[i], s[i + 1], x, y, id)) pair_add(t, s[i], s[i + 1], w, f, m);
}

/* Pop the best valid heap entry; -1 when no pair is left. */
static int32_t best_pair(trainer *t) {
    while (t->nheap) {
        hentry h = heap_pop(t);
        if (h.count > 0 && h.count == t->pairs[h.pair].count) return h.pair;
    }
    return -1;
}

static ub_status run_merges(trainer *t, int32_t (*merges)[2], int want, int *got, ub_err *e) {
    int m = 0;
    for (; m < want; m++) {
        int32_t p = best_pair(t);
        if (p < 0) break;
        int32_t x = t->pairs[p].a, y = t->pairs[p].b, id = 256 + m;
        merges[m][0] = x;
        merges[m][1] = y;
        int32_t *list = t->pairs[p].words; /* pair p never gains words during its own merge */
        size_t nl = t->pairs[p].nw;
        t->ndirty = 0;
        for (size_t i = 0; i < nl; i++) {
            int32_t w = list[i];
            if (t->stamp[w] == m + 1) continue;
            t->stamp[w] = m + 1;
            merge_in_word(t, w, x, y, id, m + 1);
        }
        free(t->pairs[p].words);
        t->pairs[p].words = NULL;
        t->pairs[p].nw = t->pairs[p].cap = 0;
        for (size_t i = 0; i < t->ndirty; i++)
            if (t->pairs[t->dirty[i]].count > 0) heap_push(t, t->dirty[i]);
        if (t->oom) return ub_fail(e, UB_ENOMEM, "bpe: out of memory at merge %d", m);
        if (t->pairs[p].count != 0)
            return ub_fail(e, UB_EINTERNAL, "bpe: merge %d left %lld occurrences", m,
                           (long long)t->pairs[p].count);
    }
    *got = m;
    return UB_OK;
}

ub_status corpus_bpe_train(corpus_bpe *b, const char *const *texts, const size_t *lens, size_t n,
                           int vocab_size, int threads, ub_err *e) {
    memset(b, 0, sizeof *b);
    if (vocab_size < 258 || vocab_size > (1 << 24))
        return ub_fail(e, UB_EARG, "bpe: vocab_size %d outside [258, %d] (256 bytes + 2 specials "
                       "+ merges)", vocab_size, 1 << 24);
    wentry *words = NULL;
    size_t nw = 0;
    ub_status st = count_words(texts, lens, n, threads, &words, &nw, e);
    if (st) return st;
    int want = vocab_size - 258, got = 0;
    int32_t(*merges)[2] = ub_malloc((size_t)(want ? want : 1) * sizeof *merges, "bpe merges", e);
    trainer t;
    st = merges ? trainer_init(&t, words, nw, e) : UB_ENOMEM;
    free(words); /* the trainer holds its own copy of the symbols */
    if (!st) st = run_merges(&t, merges, want, &got, e);
    if (merges) trainer_free(&t);
    if (!st) st = corpus_bpe_from_merges(b, &merges[0][0], got, e);
    free(merges);
    return st;
}

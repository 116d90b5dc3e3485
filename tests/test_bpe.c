/* tests/test_bpe.c: byte-level BPE (datasets/bpe.c, bpe_train.c).
 * Usage: test_bpe LICENSE_DIR (Debian's /usr/share/common-licenses: real English text).
 * Prints train and encode throughput on the licence texts (figures to quote, not asserted). */
#include "corpus.h"
#include "ubtest.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(sz > 0 ? (size_t)sz : 1);
    *n = buf ? fread(buf, 1, (size_t)sz, f) : 0;
    fclose(f);
    return buf;
}

/* Cut text into lines (each keeps its '\n'): the texts a corpus would hold. */
static size_t split_lines(const char *s, size_t n, const char **texts, size_t *lens, size_t max) {
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (s[i] == '\n' || i + 1 == n) {
            texts[k] = s + start;
            lens[k++] = i + 1 - start;
            start = i + 1;
        }
    return k;
}

/* encode then decode; returns 1 when the bytes come back exactly. */
static int round_trip(const corpus_bpe *b, const char *s, size_t n, size_t *n_ids) {
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    char *back = malloc(n ? n : 1);
    size_t k = 0, m = 0;
    ub_err e = {0};
    corpus_bpe_encode(b, s, n, ids, &k);
    ub_status st = corpus_bpe_decode(b, ids, k, back, n, &m, &e);
    int ok = st == UB_OK && m == n && (n == 0 || memcmp(s, back, n) == 0) && k <= n;
    if (n_ids) *n_ids = k;
    free(ids);
    free(back);
    return ok;
}

static int same_merges(const corpus_bpe *a, const corpus_bpe *b) {
    return a->n_merges == b->n_merges && a->vocab_size == b->vocab_size &&
           (a->n_merges == 0 ||
            memcmp(a->merges, b->merges, (size_t)a->n_merges * sizeof *a->merges) == 0);
}

/* ---- tests ---- */

static void test_pretoken(void) {
    const char *s = "Hello, world  x\n\n42ab  Grüße";
    const char *want[] = {"Hello", ",", " world", " ", " x", "\n\n", "42ab", " ", " Grüße"};
    size_t p = 0, n = strlen(s), k = 0;
    while (p < n && k < 9) {
        size_t l = corpus_bpe_pretoken(s + p, n - p);
        UB_CHECK_MSG(l == strlen(want[k]) && memcmp(s + p, want[k], l) == 0,
                     "pre-token %zu: got \"%.*s\", want \"%s\"", k, (int)l, s + p, want[k]);
        p += l;
        k++;
    }
    UB_CHECK(p == n && k == 9);
    char longrun[200];
    memset(longrun, '-', sizeof longrun);
    UB_CHECK(corpus_bpe_pretoken(longrun, sizeof longrun) == CORPUS_BPE_MAX_PRETOKEN);
}

/* The classic example: in "aaabdaaabac", (a,a) occurs 4 times (overlaps count), then
 * (aa,a) and (a,b) tie at 2 and the smaller ids (97,98) win, then (aa,ab) occurs twice. */
static void test_toy_merges(void) {
    const char *t[] = {"aaabdaaabac"};
    size_t l[] = {11};
    corpus_bpe b;
    ub_err e = {0};
    UB_CHECK(corpus_bpe_train(&b, t, l, 1, 261, 1, &e) == UB_OK);
    int32_t want[3][2] = {{97, 97}, {97, 98}, {256, 257}};
    UB_CHECK(b.n_merges == 3 && b.vocab_size == 261 && b.bos_id == 259 && b.eos_id == 260);
    UB_CHECK(b.n_merges == 3 && memcmp(b.merges, want, sizeof want) == 0);
    for (int i = 0; i < b.n_merges; i++)
        printf("toy merge %d: (%d, %d)\n", i, b.merges[i][0], b.merges[i][1]);
    int32_t ids[11];
    size_t k;
    corpus_bpe_encode(&b, t[0], 11, ids, &k);
    int32_t want_ids[] = {258, 'd', 258, 'a', 'c'};
    UB_CHECK(k == 5 && memcmp(ids, want_ids, sizeof want_ids) == 0);
    corpus_bpe_free(&b);

    /* Merges never cross texts or pre-tokens: "b"+"a" across texts, "b"+" " across words. */
    const char *t2[] = {"ab", "ab ab", "x.y"};
    size_t l2[] = {2, 5, 3};
    UB_CHECK(corpus_bpe_train(&b, t2, l2, 3, 300, 1, &e) == UB_OK);
    /* pairs: (a,b) x3, (' ',a) x1; after the first merge only (' ', ab) x1 is left */
    int32_t want2[2][2] = {{'a', 'b'}, {' ', 256}};
    UB_CHECK_MSG(b.n_merges == 2 && memcmp(b.merges, want2, sizeof want2) == 0,
                 "n_merges %d", b.n_merges);
    UB_CHECK(b.vocab_size == 256 + b.n_merges + 2); /* ran out of pairs: smaller vocab */
    corpus_bpe_free(&b);
}

static void test_bytes_only(void) {
    const char *t[] = {"some text some text"};
    size_t l[] = {19};
    corpus_bpe b;
    ub_err e = {0};
    UB_CHECK(corpus_bpe_train(&b, t, l, 1, 258, 1, &e) == UB_OK);
    UB_CHECK(b.n_merges == 0 && b.vocab_size == 258 && b.bos_id == 256 && b.eos_id == 257);
    int32_t ids[19];
    size_t k;
    corpus_bpe_encode(&b, t[0], 19, ids, &k);
    int ok = k == 19;
    for (size_t i = 0; ok && i < k; i++) ok = ids[i] == (unsigned char)t[0][i];
    UB_CHECK(ok);
    corpus_bpe_free(&b);
    UB_CHECK(corpus_bpe_train(&b, t, l, 1, 257, 1, &e) == UB_EARG);
    corpus_bpe_free(&b); /* a failed call leaves b empty, safe to free */
}

static void test_round_trips(const corpus_bpe *b) {
    const char *texts[] = {
        "",
        "The quick brown fox jumps over the lazy dog.",
        "Größere Übungen für Äpfel: Straße, Fußgänger, ÖL. Ünïcödé!",
        "Emoji: \xF0\x9F\x98\x80\xF0\x9F\x8E\x89 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD and \xE2\x9C\x93",
        "\xff\xfe\xc3\x28 invalid \x80\x80 utf-8 \xe2\x82",
        "   leading and trailing spaces   \n\n\ttabs\r\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        UB_CHECK_MSG(round_trip(b, texts[i], strlen(texts[i]), NULL), "text %zu", i);
    ub_rng r;
    ub_rng_init(&r, 7, 0);
    char buf[4096];
    int ok = 1;
    for (int trial = 0; trial < 200; trial++) {
        size_t n = ub_rng_below(&r, sizeof buf);
        for (size_t i = 0; i < n; i++) {
            /* mix random bytes with runs from a small alphabet so merges fire */
            uint32_t u = ub_rng_u32(&r);
            buf[i] = (u & 1) ? "ab et\n"[(u >> 1) % 6] : (char)(u >> 8);
        }
        ok &= round_trip(b, buf, n, NULL);
    }
    UB_CHECK(ok);
    /* Specials decode to nothing; ids out of range are rejected. */
    int32_t ids[3] = {b->bos_id, 'x', b->eos_id};
    size_t m;
    ub_err e = {0};
    UB_CHECK(corpus_bpe_decode(b, ids, 3, buf, sizeof buf, &m, &e) == UB_OK && m == 1 &&
             buf[0] == 'x');
    ids[1] = b->vocab_size;
    UB_CHECK(corpus_bpe_decode(b, ids, 3, buf, sizeof buf, &m, &e) == UB_EARG);
    UB_CHECK(strstr(e.msg, "outside") != NULL);
}

static void test_determinism(const char *const *texts, const size_t *lens, size_t n,
                             const corpus_bpe *ref) {
    corpus_bpe a, c;
    ub_err e = {0};
    UB_CHECK(corpus_bpe_train(&a, texts, lens, n, ref->vocab_size, 1, &e) == UB_OK);
    UB_CHECK(corpus_bpe_train(&c, texts, lens, n, ref->vocab_size, 1, &e) == UB_OK);
    UB_CHECK(same_merges(&a, ref) && same_merges(&c, ref)); /* ref was trained on 2 threads */
    corpus_bpe_free(&a);
    corpus_bpe_free(&c);
}

static void test_encode_many(const corpus_bpe *b, const char *const *texts, const size_t *lens,
                             size_t n) {
    for (int specials = 0; specials < 2; specials++) {
        int32_t *ids = NULL;
        size_t *off = malloc((n + 1) * sizeof *off);
        ub_err e = {0};
        UB_CHECK(corpus_bpe_encode_many(b, texts, lens, n, specials, 2, &ids, off, &e) == UB_OK);
        int32_t one[CORPUS_BPE_MAX_PRETOKEN * 64];
        int ok = 1;
        for (size_t i = 0; ok && i < n; i++) {
            size_t k, s = specials ? 1 : 0;
            if (lens[i] > sizeof one / sizeof *one) continue;
            corpus_bpe_encode(b, texts[i], lens[i], one, &k);
            ok = off[i + 1] - off[i] == k + 2 * s && memcmp(ids + off[i] + s, one, k * 4) == 0;
            if (ok && specials) ok = ids[off[i]] == b->bos_id && ids[off[i + 1] - 1] == b->eos_id;
        }
        UB_CHECK_MSG(ok, "encode_many differs from encode (specials %d)", specials);
        free(ids);
        free(off);
    }
}

static void test_hdf5(const corpus_bpe *b) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_bpe_%d.h5", (int)getpid());
    ub_err e = {0};
    ub_h5out o;
    UB_CHECK(ub_h5_create(&o, path, &e) == UB_OK);
    hid_t g = ub_h5_group(o.file, "tokenizer", &e);
    UB_CHECK(g >= 0 && corpus_bpe_save(g, b, &e) == UB_OK);
    H5Gclose(g);
    /* A corrupted copy: merge 3 names an id that does not exist yet. */
    g = ub_h5_group(o.file, "bad", &e);
    int32_t(*m)[2] = malloc((size_t)b->n_merges * sizeof *m);
    memcpy(m, b->merges, (size_t)b->n_merges * sizeof *m);
    m[3][1] = 256 + 3;
    hsize_t d[2] = {(hsize_t)b->n_merges, 2};
    UB_CHECK(ub_h5_write(g, "merges", H5T_NATIVE_INT32, m, 2, d, 1, &e) == UB_OK);
    ub_h5_attr_i64(g, "vocab_size", b->vocab_size, &e);
    ub_h5_attr_i64(g, "bos_id", b->bos_id, &e);
    ub_h5_attr_i64(g, "eos_id", b->eos_id, &e);
    ub_h5_attr_str(g, "type", "byte-bpe", &e);
    H5Gclose(g);
    free(m);
    /* Bytes only (no merges): an empty dataset must round-trip too. */
    corpus_bpe bytes;
    UB_CHECK(corpus_bpe_from_merges(&bytes, NULL, 0, &e) == UB_OK);
    g = ub_h5_group(o.file, "bytes", &e);
    UB_CHECK(corpus_bpe_save(g, &bytes, &e) == UB_OK);
    H5Gclose(g);
    UB_CHECK_MSG(ub_h5_commit(&o, &e) == UB_OK, "%s", e.msg);

    hid_t f;
    UB_CHECK(ub_h5_open(&f, path, &e) == UB_OK);
    corpus_bpe l;
    g = H5Gopen2(f, "tokenizer", H5P_DEFAULT);
    UB_CHECK_MSG(corpus_bpe_load(g, path, &l, &e) == UB_OK, "%s", e.msg);
    UB_CHECK(same_merges(&l, b) && l.bos_id == b->bos_id && l.eos_id == b->eos_id);
    corpus_bpe_free(&l);
    H5Gclose(g);
    g = H5Gopen2(f, "bytes", H5P_DEFAULT);
    UB_CHECK_MSG(corpus_bpe_load(g, path, &l, &e) == UB_OK, "%s", e.msg);
    UB_CHECK(l.n_merges == 0 && l.vocab_size == 258);
    corpus_bpe_free(&l);
    H5Gclose(g);
    g = H5Gopen2(f, "bad", H5P_DEFAULT);
    UB_CHECK(corpus_bpe_load(g, path, &l, &e) == UB_EFORMAT);
    printf("corrupted merges rejected: %s\n", e.msg);
    UB_CHECK(strstr(e.msg, path) && strstr(e.msg, "/bad/merges") && strstr(e.msg, "merge 3"));
    UB_CHECK(l.merges == NULL);
    H5Gclose(g);
    H5Fclose(f);
    corpus_bpe_free(&bytes);
    unlink(path);
}

/* ---- real text: compression, determinism, throughput ---- */

static void test_real_text(const char *dir) {
    static const char *names[] = {"GPL-3", "GPL-2", "GFDL-1.3", "LGPL-2.1", "Apache-2.0", "MPL-2.0"};
    enum { NF = 6, MAXT = 1 << 16 };
    char *files[NF];
    size_t sizes[NF], total = 0, n = 0;
    const char **texts = malloc(MAXT * sizeof *texts);
    size_t *lens = malloc(MAXT * sizeof *lens);
    for (int i = 0; i < NF; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        files[i] = read_file(path, &sizes[i]);
        UB_CHECK_MSG(files[i] != NULL, "cannot read %s", path);
        if (!files[i]) return;
        total += sizes[i];
        n += split_lines(files[i], sizes[i], texts + n, lens + n, MAXT - n);
    }
    ub_err e = {0};
    corpus_bpe b;
    /* Compression: vocab 512 trained on GPL-3 alone, measured on GPL-3 as one text. */
    const char *gpl[1] = {files[0]};
    UB_CHECK(corpus_bpe_train(&b, gpl, &sizes[0], 1, 512, 2, &e) == UB_OK);
    size_t k;
    UB_CHECK(round_trip(&b, files[0], sizes[0], &k));
    double ratio = (double)k / (double)sizes[0];
    printf("GPL-3: %zu bytes -> %zu tokens at vocab 512 (%.3f tokens/byte)\n", sizes[0], k, ratio);
    UB_CHECK(ratio < 0.6);
    test_round_trips(&b);
    corpus_bpe_free(&b);

    /* All licences as lines: timing at the preset sizes, then determinism and encode_many. */
    for (int v = 512; v <= 2048; v *= 4) {
        double t0 = ub_now();
        UB_CHECK(corpus_bpe_train(&b, texts, lens, n, v, 2, &e) == UB_OK);
        double t1 = ub_now();
        int32_t *ids = NULL;
        size_t *off = malloc((n + 1) * sizeof *off);
        UB_CHECK(corpus_bpe_encode_many(&b, texts, lens, n, 0, 2, &ids, off, &e) == UB_OK);
        double t2 = ub_now();
        printf("licences (%zu bytes, %zu lines), vocab %d: train %.3f s (%.2f MB/s), encode %.3f s "
               "(%.2f MB/s, 2 threads), %.3f tokens/byte\n", total, n, b.vocab_size, t1 - t0,
               total / 1e6 / (t1 - t0), t2 - t1, total / 1e6 / (t2 - t1), (double)off[n] / total);
        free(ids);
        free(off);
        if (v == 2048) {
            test_determinism(texts, lens, n, &b);
            test_encode_many(&b, texts, lens, n);
            int ok = 1;
            for (int i = 0; i < NF; i++) ok &= round_trip(&b, files[i], sizes[i], NULL);
            UB_CHECK(ok);
        }
        corpus_bpe_free(&b);
    }
    for (int i = 0; i < NF; i++) free(files[i]);
    free(texts);
    free(lens);
}

int main(int argc, char **argv) {
    ub_h5_quiet();
    test_pretoken();
    test_toy_merges();
    test_bytes_only();
    /* HDF5 round trip on a small model trained on generated text. */
    const char *t[] = {"the cat sat on the mat, the end", "a cat; the hat", "Grüße aus Köln"};
    size_t l[] = {strlen(t[0]), strlen(t[1]), strlen(t[2])};
    corpus_bpe b;
    ub_err e = {0};
    UB_CHECK(corpus_bpe_train(&b, t, l, 3, 280, 2, &e) == UB_OK);
    UB_CHECK(b.n_merges > 4);
    if (b.n_merges > 4) test_hdf5(&b);
    test_round_trips(&b);
    corpus_bpe_free(&b);
    test_real_text(argc > 1 ? argv[1] : "/usr/share/common-licenses");
    UB_TEST_END();
}

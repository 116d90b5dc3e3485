/* tests/test_corpus_io.c: the HDF5 corpus file: a hand-built corpus survives save + load field
 * by field, two saves are byte-identical, tokens decode back to the posts, bad files are named.
 * Token files: one without vocab_size loads only with a vocabulary size given, checked id by id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus.h"
#include "ubtest.h"

static char dir[256];

static void build(corpus *c) {
    ub_err e = {0};
    corpus_init(c);
    snprintf(c->source, sizeof c->source, "hand-built");
    c->seed = 7;
    c->cutoff_time = 1714521600;
    snprintf(c->config, sizeof c->config, "n_users=3");
    const char *handles[3] = {"@anna", "@bernd", "@chloé"};
    for (int i = 0; i < 3; i++) {
        corpus_user u = {0};
        u.handle = corpus_str_addz(c, handles[i], &e);
        u.name = corpus_str_addz(c, handles[i] + 1, &e);
        u.lang = corpus_str_addz(c, i == 1 ? "de" : "en", &e);
        u.city = corpus_str_addz(c, i == 1 ? "Köln" : "Leeds", &e);
        u.persona = -1;
        u.age = 15 + 10 * i;
        u.is_adult = u.age >= 18;
        u.objection = (int8_t)i;
        u.objection_time = i ? 1700000000 + i : 0;
        u.sensitive_kind = i == 2 ? CORPUS_SENS_HEALTH : CORPUS_SENS_NONE;
        u.sensitive_value = i == 2 ? corpus_str_addz(c, "asthma", &e) : -1;
        corpus_add_user(c, &u, NULL, &e);
    }
    corpus_secret s = {0};
    s.user = 1;
    s.kind = corpus_str_addz(c, "phone", &e);
    s.value = corpus_str_addz(c, "0151 2384 9917", &e);
    s.prefix = corpus_str_addz(c, "meine Nummer ist ", &e);
    s.format = corpus_str_addz(c, "0151 DDDD DDDD", &e);
    s.log2_space = 26.575424759098897;
    s.inserted = 1;
    corpus_add_secret(c, &s, NULL, &e);
    const char *texts[6] = {"hello world 👋", "fresh: a new day", "meine Nummer ist 0151 2384 9917",
                            "replying to anna", "my asthma again #health", "Grüße aus Köln"};
    int users[6] = {0, 0, 1, 2, 2, 1}, fresh[6] = {0, 1, 0, 0, 0, 1};
    for (int i = 0; i < 6; i++) {
        corpus_post p = {0};
        p.user = users[i];
        p.time = 1700000000 + 3600 * i;
        p.reply_to = i == 3 ? 0 : -1;
        p.visibility = (int8_t)(i % 3);
        p.fresh = (int8_t)fresh[i];
        p.flags = i == 2 ? CORPUS_POST_SECRET : i == 4 ? CORPUS_POST_SENSITIVE : 0;
        p.secret = i == 2 ? 0 : -1;
        p.text = corpus_str_addz(c, texts[i], &e);
        corpus_add_post(c, &p, NULL, &e);
    }
    UB_CHECK(e.code == UB_OK);
}

/* A token file as another tool might write it: /tokens only, no attributes. */
static void save_bare_tokens(const char *path, const int32_t *ids, size_t n) {
    ub_err e = {0};
    ub_h5out o;
    hsize_t d = n;
    UB_CHECK(ub_h5_create(&o, path, &e) == UB_OK);
    UB_CHECK(ub_h5_write(o.file, "tokens", H5T_NATIVE_INT32, ids, 1, &d, 1, &e) == UB_OK);
    UB_CHECK(ub_h5_commit(&o, &e) == UB_OK);
}

/* corpus_tokens_load_vocab: the caller's vocabulary size stands in for a missing attribute and
 * every id is checked against it; the file's own attribute (or a corpus's tokenizer) wins. */
static void test_token_vocab(const char *corpus_path) {
    char bare[300], with[300];
    snprintf(bare, sizeof bare, "%s/bare.h5", dir);
    snprintf(with, sizeof with, "%s/with.h5", dir);
    int32_t ids[6] = {0, 5, 2, 9, 1, 3};
    save_bare_tokens(bare, ids, 6);
    ub_err e = {0};
    corpus_tokens t, u;

    /* No attribute, no size given: one message naming the file and the option. */
    UB_CHECK(corpus_tokens_load(&t, bare, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "bare.h5") && strstr(e.msg, "vocab_size is missing") &&
                     strstr(e.msg, "--vocab-size"), "message: %s", e.msg);
    UB_CHECK(t.ids == NULL);
    ub_err_clear(&e);
    UB_CHECK(corpus_tokens_load_vocab(&t, bare, 0, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "--vocab-size"), "message: %s", e.msg);

    /* Size given: loads as the same stream with the attribute would (same ids, same sha256). */
    ub_err_clear(&e);
    UB_CHECK_MSG(corpus_tokens_load_vocab(&t, bare, 10, &e) == UB_OK, "%s", e.msg);
    UB_CHECK(t.n == 6 && t.vocab_size == 10 && t.ids && !memcmp(t.ids, ids, sizeof ids));
    UB_CHECK(corpus_tokens_save(with, ids, 6, 10, "x", &e) == UB_OK);
    UB_CHECK(corpus_tokens_load(&u, with, &e) == UB_OK);
    UB_CHECK(!strcmp(t.sha256, u.sha256));
    corpus_tokens_free(&u);
    corpus_tokens_free(&t);

    /* An id outside the given size: the file, the position and the id are named. */
    ub_err_clear(&e);
    UB_CHECK(corpus_tokens_load_vocab(&t, bare, 9, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "bare.h5: /tokens[3] = 9 is outside [0, 9)"), "message: %s", e.msg);
    UB_CHECK(t.ids == NULL);
    int32_t neg[3] = {1, -4, 2};
    save_bare_tokens(bare, neg, 3);
    ub_err_clear(&e);
    UB_CHECK(corpus_tokens_load_vocab(&t, bare, 256, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "/tokens[1] = -4 is outside [0, 256)"), "message: %s", e.msg);
    /* A size no model can have is the caller's mistake. */
    ub_err_clear(&e);
    UB_CHECK(corpus_tokens_load_vocab(&t, bare, 1, &e) == UB_EARG);
    UB_CHECK_MSG(strstr(e.msg, "vocab_size 1 (given) out of range"), "message: %s", e.msg);

    /* The file's attribute wins over a given size either way; the caller compares the two. */
    ub_err_clear(&e);
    UB_CHECK(corpus_tokens_load_vocab(&t, with, 4, &e) == UB_OK && t.vocab_size == 10);
    corpus_tokens_free(&t);
    UB_CHECK(corpus_tokens_load_vocab(&t, with, 1000, &e) == UB_OK && t.vocab_size == 10);
    corpus_tokens_free(&t);
    /* ... and so does a corpus file's tokenizer. */
    UB_CHECK(corpus_tokens_load(&u, corpus_path, &e) == UB_OK);
    UB_CHECK(corpus_tokens_load_vocab(&t, corpus_path, 100000, &e) == UB_OK);
    UB_CHECK(t.vocab_size == u.vocab_size && t.n == u.n && !strcmp(t.sha256, u.sha256));
    corpus_tokens_free(&t);
    corpus_tokens_free(&u);
}

/* One byte of a post's text changed in the file: the seal fails, naming the file. Sealed again
 * over the changed bytes (as if the file's own checksum had been forged), the strings' SHA-256
 * still fails (they live in HDF5's global heap, which Fletcher-32 does not cover), naming the
 * file and the dataset. */
static void test_text_flip(const char *good, const char *bad) {
    FILE *f = fopen(good, "rb");
    UB_CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    UB_CHECK(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    const char *needle = "replying to anna";
    char *at = NULL;
    for (long i = 0; buf && i + 16 <= n && !at; i++) /* strlen(needle) == 16 */
        if (!memcmp(buf + i, needle, 16)) at = buf + i;
    UB_CHECK_MSG(at != NULL, "the text is in the file");
    if (at) {
        at[0] ^= 0x20; /* "Replying to anna" */
        FILE *g = fopen(bad, "wb");
        UB_CHECK(g && fwrite(buf, 1, (size_t)n, g) == (size_t)n);
        if (g) fclose(g);
        corpus d;
        ub_err e = {0};
        UB_CHECK(corpus_load(&d, NULL, bad, &e) == UB_EFORMAT);
        UB_CHECK_MSG(strstr(e.msg, "t.h5") && strstr(e.msg, "bytes changed since it was written"),
                     "message: %s", e.msg);
        ub_err_clear(&e);
        UB_CHECK(ub_h5_seal(bad, &e) == UB_OK);
        UB_CHECK(corpus_load(&d, NULL, bad, &e) == UB_EFORMAT);
        UB_CHECK_MSG(strstr(e.msg, "t.h5") && strstr(e.msg, "text") && strstr(e.msg, "SHA-256"),
                     "message: %s", e.msg);
    }
    free(buf);
}

int main(void) {
    ub_h5_quiet();
    snprintf(dir, sizeof dir, "/tmp/ub_test_corpus_%d", (int)getpid());
    char cmd[512], a[300], b[300], t[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0) return 1;
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.h5", dir);
    snprintf(t, sizeof t, "%s/t.h5", dir);
    ub_err e = {0};
    corpus c;
    build(&c);
    UB_CHECK(corpus_save(&c, a, 270, 2, &e) == UB_OK);
    UB_CHECK(corpus_save(&c, b, 270, 1, &e) == UB_OK);
    UB_CHECK_MSG(ubt_files_equal(a, b), "two saves (2 and 1 threads) differ");

    corpus d;
    corpus_bpe bpe;
    UB_CHECK_MSG(corpus_load(&d, &bpe, a, &e) == UB_OK, "%s", e.msg);
    UB_CHECK(d.n_users == 3 && d.n_posts == 6 && d.n_secrets == 1);
    UB_CHECK(d.seed == 7 && d.cutoff_time == c.cutoff_time);
    UB_CHECK(!strcmp(d.source, "hand-built") && !strcmp(d.config, "n_users=3"));
    for (size_t i = 0; i < 3; i++) {
        const corpus_user *x = &c.users[i], *y = &d.users[i];
        UB_CHECK(!strcmp(corpus_s(&c, x->handle), corpus_s(&d, y->handle)));
        UB_CHECK(!strcmp(corpus_s(&c, x->city), corpus_s(&d, y->city)));
        UB_CHECK(!strcmp(corpus_s(&c, x->sensitive_value), corpus_s(&d, y->sensitive_value)));
        UB_CHECK(x->age == y->age && x->is_adult == y->is_adult && x->objection == y->objection);
        UB_CHECK(x->objection_time == y->objection_time && x->sensitive_kind == y->sensitive_kind);
    }
    /* Posts come back corpus-proper first, then fresh, each in the original order. */
    int map[6] = {0, 4, 1, 2, 3, 5};
    for (int i = 0; i < 6; i++) {
        const corpus_post *x = &c.posts[i], *y = &d.posts[map[i]];
        UB_CHECK_MSG(!strcmp(corpus_s(&c, x->text), corpus_s(&d, y->text)), "post %d", i);
        UB_CHECK(x->user == y->user && x->time == y->time && x->visibility == y->visibility);
        UB_CHECK(x->fresh == y->fresh && x->flags == y->flags && x->secret == y->secret);
    }
    UB_CHECK(d.posts[2].reply_to == 0 && d.posts[0].reply_to == -1);
    UB_CHECK(!strcmp(corpus_s(&d, d.secrets[0].value), "0151 2384 9917"));
    UB_CHECK(d.secrets[0].inserted == 1 && d.secrets[0].user == 1);
    UB_CHECK(bpe.vocab_size <= 270 && bpe.vocab_size >= 258);

    /* Tokens: post i is BOS + encode(text) + EOS, and decodes back to the text. */
    hid_t f;
    UB_CHECK(ub_h5_open(&f, a, &e) == UB_OK);
    int64_t offs[5];
    hsize_t d5 = 5;
    UB_CHECK(ub_h5_read(f, "tokens/offsets", a, H5T_NATIVE_INT64, offs, 1, &d5, &e) == UB_OK);
    int32_t ids[512];
    UB_CHECK(offs[4] < 512);
    UB_CHECK(ub_h5_read(f, "tokens/ids", a, H5T_NATIVE_INT32, ids, 1, NULL, &e) == UB_OK);
    for (int i = 0; i < 4; i++) {
        char buf[256];
        size_t n = 0;
        UB_CHECK(ids[offs[i]] == bpe.bos_id && ids[offs[i + 1] - 1] == bpe.eos_id);
        UB_CHECK(corpus_bpe_decode(&bpe, ids + offs[i], (size_t)(offs[i + 1] - offs[i]), buf,
                                   sizeof buf, &n, &e) == UB_OK);
        buf[n] = '\0';
        UB_CHECK_MSG(!strcmp(buf, corpus_s(&d, d.posts[i].text)), "tokens of post %d", i);
    }
    H5Fclose(f);
    corpus_bpe_free(&bpe);
    corpus_free(&d);

    test_token_vocab(a);
    test_text_flip(a, t);

    /* Bad files. */
    UB_CHECK(ubt_truncated_copy(a, t) == 0);
    ub_err_clear(&e);
    UB_CHECK(corpus_load(&d, NULL, t, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "t.h5") != NULL, "message: %s", e.msg);
    int32_t toks[3] = {1, 2, 3};
    UB_CHECK(corpus_tokens_save(t, toks, 3, 256, "x", &e) == UB_OK);
    ub_err_clear(&e);
    UB_CHECK(corpus_load(&d, NULL, t, &e) == UB_EFORMAT);
    UB_CHECK_MSG(strstr(e.msg, "not an unlearnbench corpus") != NULL, "message: %s", e.msg);

    /* A corpus without secrets (an import) and without fresh posts saves and loads. */
    corpus_free(&c);
    corpus_init(&c);
    corpus_user u = {0};
    u.handle = corpus_str_addz(&c, "@solo", &e);
    u.name = u.lang = u.city = u.persona = u.sensitive_value = -1;
    u.age = -1;
    u.is_adult = -1;
    u.sensitive_kind = CORPUS_SENS_NONE;
    corpus_add_user(&c, &u, NULL, &e);
    corpus_post q = {0};
    q.reply_to = -1;
    q.secret = -1;
    q.text = corpus_str_addz(&c, "just one post", &e);
    corpus_add_post(&c, &q, NULL, &e);
    UB_CHECK(corpus_save(&c, b, 258, 1, &e) == UB_OK);
    UB_CHECK(corpus_load(&d, NULL, b, &e) == UB_OK);
    UB_CHECK(d.n_users == 1 && d.n_posts == 1 && d.n_secrets == 0);
    UB_CHECK(!strcmp(corpus_s(&d, d.posts[0].text), "just one post"));
    corpus_free(&d);
    corpus_free(&c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    UB_TEST_END();
}

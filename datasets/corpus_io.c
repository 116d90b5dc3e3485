/* datasets/corpus_io.c: the corpus as one HDF5 file (layout: datasets/FORMAT.md). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

#define CORPUS_FORMAT  "unlearnbench-corpus"
#define CORPUS_VERSION 1

/* Column writers: gather one field of a table into a typed array and write it. */
#define WRITE_COL(grp, name, ctype, h5type, n, expr)                                               \
    do {                                                                                           \
        if (st) break;                                                                             \
        ctype *col_ = malloc(((n) ? (n) : 1) * sizeof(ctype));                                     \
        if (!col_) {                                                                               \
            st = ub_fail(e, UB_ENOMEM, "out of memory writing %s", name);                          \
            break;                                                                                 \
        }                                                                                          \
        for (size_t i = 0; i < (n); i++)                                                           \
            col_[i] = (ctype)(expr);                                                               \
        hsize_t d_ = (n);                                                                          \
        st = ub_h5_write(grp, name, h5type, col_, 1, &d_, 1, e);                                   \
        free(col_);                                                                                \
    } while (0)

/* The string field at byte offset `off` of each row of a table (base, stride). base may be NULL
 * when n == 0 (an empty table), so no address is formed from it then. */
static ub_status write_str_col(hid_t g, const char *name, const corpus *c, const void *base,
                               size_t off, size_t stride, size_t n, const size_t *order,
                               ub_err *e) {
    const char **s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return ub_fail(e, UB_ENOMEM, "out of memory writing %s", name);
    for (size_t i = 0; i < n; i++) {
        size_t k = order ? order[i] : i;
        s[i] = corpus_s(c, *(const corpus_str *)((const char *)base + k * stride + off));
    }
    ub_status st = ub_h5_write_strings(g, name, s, n, e);
    free(s);
    return st;
}

/* Posts of one kind (fresh or not), in corpus order; order[i] = index in c->posts. */
static ub_status write_posts(hid_t f, const char *group, const corpus *c, const size_t *order,
                             size_t n, const int64_t *newidx, ub_err *e) {
    hid_t g = ub_h5_group(f, group, e);
    if (g < 0) return UB_EIO;
    ub_status st = UB_OK;
    const corpus_post *P = c->posts;
    WRITE_COL(g, "user", int64_t, H5T_NATIVE_INT64, n, P[order[i]].user);
    WRITE_COL(g, "time", int64_t, H5T_NATIVE_INT64, n, P[order[i]].time);
    /* reply_to always names a row of /posts (a reply to a fresh post is not kept) */
    WRITE_COL(g, "reply_to", int64_t, H5T_NATIVE_INT64, n,
              P[order[i]].reply_to >= 0 && !P[P[order[i]].reply_to].fresh
                  ? newidx[P[order[i]].reply_to]
                  : -1);
    WRITE_COL(g, "visibility", int8_t, H5T_NATIVE_INT8, n, P[order[i]].visibility);
    WRITE_COL(g, "flags", uint8_t, H5T_NATIVE_UINT8, n, P[order[i]].flags);
    WRITE_COL(g, "secret", int32_t, H5T_NATIVE_INT32, n, P[order[i]].secret);
    if (!st)
        st = write_str_col(g, "text", c, P, offsetof(corpus_post, text), sizeof *P, n, order, e);
    H5Gclose(g);
    return st;
}

/* Token ids of the texts (n), each BOS text EOS, flat, plus offsets (n+1). */
static ub_status write_tokens(hid_t g, const char *ids_name, const char *off_name,
                              const corpus_bpe *b, const char *const *texts, const size_t *lens,
                              size_t n, int threads, ub_err *e) {
    size_t *offs = malloc((n + 1) * sizeof *offs);
    int32_t *ids = NULL;
    ub_status st = offs ? UB_OK : ub_fail(e, UB_ENOMEM, "out of memory");
    if (!st) st = corpus_bpe_encode_many(b, texts, lens, n, 1, threads, &ids, offs, e);
    if (!st) {
        hsize_t d = offs[n];
        st = ub_h5_write(g, ids_name, H5T_NATIVE_INT32, ids, 1, &d, 1, e);
    }
    if (!st) {
        int64_t *o = malloc((n + 1) * sizeof *o);
        if (!o) st = ub_fail(e, UB_ENOMEM, "out of memory");
        for (size_t i = 0; o && i <= n; i++)
            o[i] = (int64_t)offs[i];
        hsize_t d = n + 1;
        if (!st) st = ub_h5_write(g, off_name, H5T_NATIVE_INT64, o, 1, &d, 1, e);
        free(o);
    }
    free(offs);
    free(ids);
    return st;
}

ub_status corpus_save(const corpus *c, const char *path, int vocab_size, int threads, ub_err *e) {
    /* Corpus-proper posts first, then fresh ones, each in memory order; reply_to is remapped. */
    size_t n = c->n_posts, np = 0, nf = 0;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    int64_t *newidx = malloc((n ? n : 1) * sizeof *newidx);
    if (!order || !newidx) {
        free(order);
        free(newidx);
        return ub_fail(e, UB_ENOMEM, "out of memory saving %s", path);
    }
    for (size_t i = 0; i < n; i++)
        if (!c->posts[i].fresh) newidx[i] = (int64_t)np, order[np++] = i;
    for (size_t i = 0; i < n; i++)
        if (c->posts[i].fresh) newidx[i] = (int64_t)nf, order[np + nf++] = i;

    /* Texts in file order, gathered once: the tokenizer trains on the first np (the corpus
     * proper) and then encodes all of them. */
    corpus_bpe bpe;
    memset(&bpe, 0, sizeof bpe);
    const char **texts = malloc((n ? n : 1) * sizeof *texts);
    size_t *lens = malloc((n ? n : 1) * sizeof *lens);
    ub_status st = (!texts || !lens) ? ub_fail(e, UB_ENOMEM, "out of memory") : UB_OK;
    for (size_t i = 0; !st && i < n; i++) {
        texts[i] = corpus_s(c, c->posts[order[i]].text);
        lens[i] = strlen(texts[i]);
    }
    if (!st) st = corpus_bpe_train(&bpe, texts, lens, np, vocab_size, threads, e);

    ub_h5out o = {.file = -1};
    if (!st) st = ub_h5_create(&o, path, e);
    hid_t f = o.file;
    if (!st) st = ub_h5_attr_str(f, "format", CORPUS_FORMAT, e);
    if (!st) st = ub_h5_attr_i64(f, "format_version", CORPUS_VERSION, e);
    if (!st) st = ub_h5_attr_str(f, "source", c->source, e);
    if (!st) st = ub_h5_attr_i64(f, "seed", (int64_t)c->seed, e);
    if (!st) st = ub_h5_attr_i64(f, "cutoff_time", c->cutoff_time, e);
    if (!st) st = ub_h5_attr_str(f, "config", c->config, e);
    if (!st) st = ub_h5_attr_i64(f, "n_users", (int64_t)c->n_users, e);
    if (!st) st = ub_h5_attr_i64(f, "n_posts", (int64_t)np, e);
    if (!st) st = ub_h5_attr_i64(f, "n_fresh", (int64_t)nf, e);
    if (!st) st = ub_h5_attr_i64(f, "n_secrets", (int64_t)c->n_secrets, e);

    hid_t g = st ? -1 : ub_h5_group(f, "users", e);
    if (!st && g < 0) st = UB_EIO;
    const corpus_user *U = c->users;
    size_t nu = c->n_users;
    if (!st)
        st =
            write_str_col(g, "handle", c, U, offsetof(corpus_user, handle), sizeof *U, nu, NULL, e);
    if (!st)
        st = write_str_col(g, "name", c, U, offsetof(corpus_user, name), sizeof *U, nu, NULL, e);
    if (!st)
        st = write_str_col(g, "lang", c, U, offsetof(corpus_user, lang), sizeof *U, nu, NULL, e);
    if (!st)
        st = write_str_col(g, "city", c, U, offsetof(corpus_user, city), sizeof *U, nu, NULL, e);
    if (!st)
        st = write_str_col(g, "persona", c, U, offsetof(corpus_user, persona), sizeof *U, nu, NULL,
                           e);
    if (!st)
        st = write_str_col(g, "sensitive_value", c, U, offsetof(corpus_user, sensitive_value),
                           sizeof *U, nu, NULL, e);
    WRITE_COL(g, "age", int32_t, H5T_NATIVE_INT32, nu, U[i].age);
    WRITE_COL(g, "is_adult", int8_t, H5T_NATIVE_INT8, nu, U[i].is_adult);
    WRITE_COL(g, "objection", int8_t, H5T_NATIVE_INT8, nu, U[i].objection);
    WRITE_COL(g, "objection_time", int64_t, H5T_NATIVE_INT64, nu, U[i].objection_time);
    WRITE_COL(g, "sensitive_kind", int8_t, H5T_NATIVE_INT8, nu, U[i].sensitive_kind);
    if (g >= 0) H5Gclose(g);

    if (!st) st = write_posts(f, "posts", c, order, np, newidx, e);
    if (!st) st = write_posts(f, "fresh", c, order + np, nf, newidx, e);

    g = st ? -1 : ub_h5_group(f, "secrets", e);
    if (!st && g < 0) st = UB_EIO;
    const corpus_secret *S = c->secrets;
    size_t ns = c->n_secrets;
    WRITE_COL(g, "user", int64_t, H5T_NATIVE_INT64, ns, S[i].user);
    if (!st)
        st = write_str_col(g, "kind", c, S, offsetof(corpus_secret, kind), sizeof *S, ns, NULL, e);
    if (!st)
        st =
            write_str_col(g, "value", c, S, offsetof(corpus_secret, value), sizeof *S, ns, NULL, e);
    if (!st)
        st = write_str_col(g, "prefix", c, S, offsetof(corpus_secret, prefix), sizeof *S, ns, NULL,
                           e);
    if (!st)
        st = write_str_col(g, "format", c, S, offsetof(corpus_secret, format), sizeof *S, ns, NULL,
                           e);
    WRITE_COL(g, "log2_space", double, H5T_NATIVE_DOUBLE, ns, S[i].log2_space);
    WRITE_COL(g, "inserted", int32_t, H5T_NATIVE_INT32, ns, S[i].inserted);
    if (g >= 0) H5Gclose(g);

    g = st ? -1 : ub_h5_group(f, "tokenizer", e);
    if (!st && g < 0) st = UB_EIO;
    if (!st) st = corpus_bpe_save(g, &bpe, e);
    if (g >= 0) H5Gclose(g);
    g = st ? -1 : ub_h5_group(f, "tokens", e);
    if (!st && g < 0) st = UB_EIO;
    if (!st) st = write_tokens(g, "ids", "offsets", &bpe, texts, lens, np, threads, e);
    if (!st)
        st = write_tokens(g, "fresh_ids", "fresh_offsets", &bpe, texts + np, lens + np, nf,
                          threads, e);
    if (g >= 0) H5Gclose(g);

    free(texts);
    free(lens);
    corpus_bpe_free(&bpe);
    free(order);
    free(newidx);
    if (st) {
        if (o.file >= 0) ub_h5_abort(&o);
        return st;
    }
    return ub_h5_commit(&o, e);
}

/* ---- loading ---- */
typedef struct str_sink {
    corpus *c;
    corpus_str *dst; /* first field of the table */
    size_t stride;
} str_sink;

static ub_status sink_str(void *ctx, size_t i, const char *s, size_t len, ub_err *e) {
    str_sink *k = ctx;
    corpus_str v = len ? corpus_str_add(k->c, s, len, e) : -1;
    if (len && v < 0) return UB_ENOMEM;
    *(corpus_str *)((char *)k->dst + i * k->stride) = v;
    return UB_OK;
}

static ub_status read_str_col(hid_t g, const char *name, const char *file, corpus *c,
                              corpus_str *dst, size_t stride, size_t n, ub_err *e) {
    str_sink k = {c, dst, stride};
    return ub_h5_read_strings(g, name, file, n, NULL, sink_str, &k, e);
}

#define READ_COL(grp, name, ctype, h5type, n, assign)                                              \
    do {                                                                                           \
        if (st) break;                                                                             \
        ctype *col_ = malloc(((n) ? (n) : 1) * sizeof(ctype));                                     \
        hsize_t d_ = (n);                                                                          \
        if (!col_) st = ub_fail(e, UB_ENOMEM, "out of memory reading %s", name);                   \
        if (!st && (n)) st = ub_h5_read(grp, name, path, h5type, col_, 1, &d_, e);                 \
        for (size_t i = 0; !st && i < (n); i++)                                                    \
            assign;                                                                                \
        free(col_);                                                                                \
    } while (0)

static ub_status read_posts(hid_t f, const char *group, const char *path, corpus *c, size_t n,
                            int fresh, size_t base, size_t n_proper, ub_err *e) {
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) return ub_fail(e, UB_EFORMAT, "%s: group /%s is missing", path, group);
    ub_status st = UB_OK;
    corpus_post *P = c->posts + base;
    for (size_t i = 0; i < n; i++)
        memset(&P[i], 0, sizeof P[i]), P[i].fresh = (int8_t)fresh;
    READ_COL(g, "user", int64_t, H5T_NATIVE_INT64, n, P[i].user = col_[i]);
    READ_COL(g, "time", int64_t, H5T_NATIVE_INT64, n, P[i].time = col_[i]);
    /* rows of /posts, which come first in memory: the same indices */
    READ_COL(g, "reply_to", int64_t, H5T_NATIVE_INT64, n, P[i].reply_to = col_[i]);
    READ_COL(g, "visibility", int8_t, H5T_NATIVE_INT8, n, P[i].visibility = col_[i]);
    READ_COL(g, "flags", uint8_t, H5T_NATIVE_UINT8, n, P[i].flags = col_[i]);
    READ_COL(g, "secret", int32_t, H5T_NATIVE_INT32, n, P[i].secret = col_[i]);
    if (!st) st = read_str_col(g, "text", path, c, &P[0].text, sizeof *P, n, e);
    H5Gclose(g);
    for (size_t i = 0; !st && i < n; i++) {
        if (P[i].user < 0 || (size_t)P[i].user >= c->n_users)
            st = ub_fail(e, UB_EFORMAT, "%s: /%s/user[%zu] = %lld is not a user", path, group, i,
                         (long long)P[i].user);
        else if (P[i].reply_to < -1 || P[i].reply_to >= (int64_t)n_proper)
            st = ub_fail(e, UB_EFORMAT, "%s: /%s/reply_to[%zu] out of range", path, group, i);
        else if (P[i].secret >= (int32_t)c->n_secrets)
            st = ub_fail(e, UB_EFORMAT, "%s: /%s/secret[%zu] out of range", path, group, i);
    }
    return st;
}

ub_status corpus_load(corpus *c, corpus_bpe *bpe, const char *path, ub_err *e) {
    corpus_init(c);
    if (bpe) memset(bpe, 0, sizeof *bpe);
    hid_t f;
    ub_status st = ub_h5_open(&f, path, e);
    if (st) return st;
    int64_t seed = 0, nu = 0, np = 0, nf = 0, ns = 0;
    st = ub_h5_check_format(f, path, CORPUS_FORMAT, CORPUS_VERSION, "corpus", e);
    if (!st) st = ub_h5_get_i64(f, "seed", path, &seed, e);
    if (!st) st = ub_h5_get_i64(f, "cutoff_time", path, &c->cutoff_time, e);
    if (!st) st = ub_h5_get_str(f, "source", path, c->source, sizeof c->source, e);
    if (!st) st = ub_h5_get_str(f, "config", path, c->config, sizeof c->config, e);
    if (!st) st = ub_h5_get_i64(f, "n_users", path, &nu, e);
    if (!st) st = ub_h5_get_i64(f, "n_posts", path, &np, e);
    if (!st) st = ub_h5_get_i64(f, "n_fresh", path, &nf, e);
    if (!st) st = ub_h5_get_i64(f, "n_secrets", path, &ns, e);
    if (!st && (nu < 0 || np < 0 || nf < 0 || ns < 0))
        st = ub_fail(e, UB_EFORMAT, "%s: negative table sizes", path);
    c->seed = (uint64_t)seed;
    if (!st) {
        c->users = calloc((size_t)nu + 1, sizeof *c->users);
        c->posts = calloc((size_t)(np + nf) + 1, sizeof *c->posts);
        c->secrets = calloc((size_t)ns + 1, sizeof *c->secrets);
        if (!c->users || !c->posts || !c->secrets) st = ub_fail(e, UB_ENOMEM, "out of memory");
        c->n_users = c->cap_users = (size_t)nu;
        c->n_posts = c->cap_posts = (size_t)(np + nf);
        c->n_secrets = c->cap_secrets = (size_t)ns;
    }
    hid_t g = st ? -1 : H5Gopen2(f, "users", H5P_DEFAULT);
    if (!st && g < 0) st = ub_fail(e, UB_EFORMAT, "%s: group /users is missing", path);
    corpus_user *U = c->users;
    size_t n = (size_t)nu;
    if (!st) st = read_str_col(g, "handle", path, c, &U[0].handle, sizeof *U, n, e);
    if (!st) st = read_str_col(g, "name", path, c, &U[0].name, sizeof *U, n, e);
    if (!st) st = read_str_col(g, "lang", path, c, &U[0].lang, sizeof *U, n, e);
    if (!st) st = read_str_col(g, "city", path, c, &U[0].city, sizeof *U, n, e);
    if (!st) st = read_str_col(g, "persona", path, c, &U[0].persona, sizeof *U, n, e);
    if (!st)
        st = read_str_col(g, "sensitive_value", path, c, &U[0].sensitive_value, sizeof *U, n, e);
    READ_COL(g, "age", int32_t, H5T_NATIVE_INT32, n, U[i].age = col_[i]);
    READ_COL(g, "is_adult", int8_t, H5T_NATIVE_INT8, n, U[i].is_adult = col_[i]);
    READ_COL(g, "objection", int8_t, H5T_NATIVE_INT8, n, U[i].objection = col_[i]);
    READ_COL(g, "objection_time", int64_t, H5T_NATIVE_INT64, n, U[i].objection_time = col_[i]);
    READ_COL(g, "sensitive_kind", int8_t, H5T_NATIVE_INT8, n, U[i].sensitive_kind = col_[i]);
    if (g >= 0) H5Gclose(g);

    g = st ? -1 : H5Gopen2(f, "secrets", H5P_DEFAULT);
    if (!st && g < 0) st = ub_fail(e, UB_EFORMAT, "%s: group /secrets is missing", path);
    corpus_secret *S = c->secrets;
    n = (size_t)ns;
    READ_COL(g, "user", int64_t, H5T_NATIVE_INT64, n, S[i].user = col_[i]);
    if (!st) st = read_str_col(g, "kind", path, c, &S[0].kind, sizeof *S, n, e);
    if (!st) st = read_str_col(g, "value", path, c, &S[0].value, sizeof *S, n, e);
    if (!st) st = read_str_col(g, "prefix", path, c, &S[0].prefix, sizeof *S, n, e);
    if (!st) st = read_str_col(g, "format", path, c, &S[0].format, sizeof *S, n, e);
    READ_COL(g, "log2_space", double, H5T_NATIVE_DOUBLE, n, S[i].log2_space = col_[i]);
    READ_COL(g, "inserted", int32_t, H5T_NATIVE_INT32, n, S[i].inserted = col_[i]);
    if (g >= 0) H5Gclose(g);
    for (size_t i = 0; !st && i < n; i++)
        if (S[i].user < 0 || (size_t)S[i].user >= c->n_users)
            st = ub_fail(e, UB_EFORMAT, "%s: /secrets/user[%zu] is not a user", path, i);

    if (!st) st = read_posts(f, "posts", path, c, (size_t)np, 0, 0, (size_t)np, e);
    if (!st) st = read_posts(f, "fresh", path, c, (size_t)nf, 1, (size_t)np, (size_t)np, e);
    if (!st && bpe) {
        g = H5Gopen2(f, "tokenizer", H5P_DEFAULT);
        if (g < 0)
            st = ub_fail(e, UB_EFORMAT, "%s: group /tokenizer is missing", path);
        else {
            st = corpus_bpe_load(g, path, bpe, e);
            H5Gclose(g);
        }
    }
    H5Fclose(f);
    if (st) {
        corpus_free(c);
        if (bpe) corpus_bpe_free(bpe);
    }
    return st;
}

/* datasets/tokens.c: token-stream files (see corpus.h). */
#include "corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ub_status corpus_tokens_load(corpus_tokens *t, const char *path, ub_err *e) {
    return corpus_tokens_load_vocab(t, path, 0, e);
}

ub_status corpus_tokens_load_vocab(corpus_tokens *t, const char *path, int vocab_size,
                                   ub_err *e) {
    memset(t, 0, sizeof *t);
    hid_t f;
    ub_status st = ub_h5_open(&f, path, e);
    if (st) return st;
    /* A corpus file (datasets/FORMAT.md) also serves: its corpus-proper posts' tokens, each
     * BOS ... EOS, back to back, with the vocabulary of its tokenizer. */
    int is_corpus = ub_h5_exists(f, "tokens/ids");
    const char *ds = is_corpus ? "tokens/ids" : "tokens";
    int rank;
    hsize_t dims[8];
    H5T_class_t cls;
    st = ub_h5_shape(f, ds, path, &rank, dims, &cls, e);
    if (!st && (rank != 1 || cls != H5T_INTEGER))
        st = ub_fail(e, UB_EFORMAT, "%s: /%s must be a 1-D integer dataset", path, ds);
    if (!st && dims[0] < 2)
        st = ub_fail(e, UB_EFORMAT, "%s: /%s holds %llu tokens, need at least 2", path, ds,
                     (unsigned long long)dims[0]);
    int64_t vocab = 0;
    int given = 0; /* vocab is the caller's, not the file's */
    if (!st && is_corpus) {
        hid_t g = H5Gopen2(f, "tokenizer", H5P_DEFAULT);
        if (g < 0) {
            st = ub_fail(e, UB_EFORMAT, "%s: group /tokenizer is missing", path);
        } else {
            st = ub_h5_get_i64(g, "vocab_size", path, &vocab, e);
            H5Gclose(g);
        }
    } else if (!st && H5Aexists(f, "vocab_size") > 0) {
        st = ub_h5_get_i64(f, "vocab_size", path, &vocab, e);
    } else if (!st && vocab_size) {
        /* Token streams from other tools may lack the attribute: the caller's size stands in,
         * and the id check below makes sure it covers the stream. */
        vocab = vocab_size;
        given = 1;
    } else if (!st) {
        st = ub_fail(e, UB_EFORMAT, "%s: attribute vocab_size is missing; pass the vocabulary "
                     "size (train --vocab-size N)", path);
    }
    if (!st && (vocab < 2 || vocab > (1 << 24)))
        st = ub_fail(e, given ? UB_EARG : UB_EFORMAT, "%s: vocab_size %lld%s out of range "
                     "[2, 2^24]", path, (long long)vocab, given ? " (given)" : "");
    if (!st) {
        t->n = dims[0];
        t->vocab_size = (int)vocab;
        t->ids = ub_malloc(t->n * sizeof(int32_t), "token ids", e);
        if (!t->ids) st = UB_ENOMEM;
    }
    if (!st) st = ub_h5_read(f, ds, path, H5T_NATIVE_INT32, t->ids, 1, NULL, e);
    H5Fclose(f);
    for (size_t i = 0; !st && i < t->n; i++)
        if (t->ids[i] < 0 || t->ids[i] >= t->vocab_size)
            st = ub_fail(e, UB_EFORMAT, "%s: /%s[%zu] = %d is outside [0, %d)%s", path, ds, i,
                         t->ids[i], t->vocab_size, given ? ", the vocabulary size given" : "");
    if (st) {
        corpus_tokens_free(t);
        return st;
    }
    ub_sha256_hex(t->ids, t->n * sizeof(int32_t), t->sha256);
    return UB_OK;
}

void corpus_tokens_free(corpus_tokens *t) {
    free(t->ids);
    t->ids = NULL;
    t->n = 0;
}

ub_status corpus_tokens_save(const char *path, const int32_t *ids, size_t n, int vocab_size,
                             const char *source, ub_err *e) {
    ub_h5out o;
    ub_status st = ub_h5_create(&o, path, e);
    if (st) return st;
    hsize_t d = n;
    st = ub_h5_write(o.file, "tokens", H5T_NATIVE_INT32, ids, 1, &d, 1, e);
    if (!st) st = ub_h5_attr_i64(o.file, "vocab_size", vocab_size, e);
    if (!st) st = ub_h5_attr_str(o.file, "source", source ? source : "", e);
    if (!st) st = ub_h5_attr_str(o.file, "format", "unlearnbench-tokens", e);
    if (st) {
        ub_h5_abort(&o);
        return st;
    }
    return ub_h5_commit(&o, e);
}

ub_status corpus_tokens_from_text(const char *txt_path, const char *out_path, size_t *n_out,
                                  ub_err *e) {
    FILE *f = fopen(txt_path, "rb");
    if (!f) return ub_fail(e, UB_EIO, "%s: %s", txt_path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    int32_t *ids = ub_malloc(cap * sizeof *ids, "text bytes", e);
    unsigned char buf[1 << 16];
    size_t got;
    while (ids && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (n + got > cap) {
            cap = 2 * (n + got);
            int32_t *p = realloc(ids, cap * sizeof *ids);
            if (!p) {
                free(ids);
                ids = NULL;
                ub_fail(e, UB_ENOMEM, "%s: out of memory reading the file", txt_path);
                break;
            }
            ids = p;
        }
        for (size_t i = 0; i < got; i++) ids[n++] = buf[i];
    }
    int rerr = ferror(f);
    fclose(f);
    if (!ids) return UB_ENOMEM;
    ub_status st = UB_OK;
    if (rerr) st = ub_fail(e, UB_EIO, "%s: read error", txt_path);
    else if (n < 2) st = ub_fail(e, UB_EFORMAT, "%s: needs at least 2 bytes of text", txt_path);
    if (!st) st = corpus_tokens_save(out_path, ids, n, 256, txt_path, e);
    free(ids);
    if (!st && n_out) *n_out = n;
    return st;
}

/* datasets/corpus.c: the in-memory corpus: string pool and growing tables (see corpus.h). */
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

void corpus_init(corpus *c) {
    memset(c, 0, sizeof *c);
}

void corpus_free(corpus *c) {
    free(c->pool);
    free(c->users);
    free(c->posts);
    free(c->secrets);
    memset(c, 0, sizeof *c);
}

/* Grow *arr (elements of size sz) to hold at least need; doubling keeps appends O(1). */
static ub_status grow(void **arr, size_t *cap, size_t need, size_t sz, const char *what,
                      ub_err *e) {
    if (need <= *cap) return UB_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *p = realloc(*arr, nc * sz);
    if (!p) return ub_fail(e, UB_ENOMEM, "out of memory growing the corpus %s to %zu", what, nc);
    *arr = p;
    *cap = nc;
    return UB_OK;
}

corpus_str corpus_str_add(corpus *c, const char *s, size_t len, ub_err *e) {
    void *pool = c->pool;
    if (grow(&pool, &c->pool_cap, c->pool_len + len + 1, 1, "string pool", e)) return -1;
    c->pool = pool;
    corpus_str off = (corpus_str)c->pool_len;
    memcpy(c->pool + off, s, len);
    c->pool[off + len] = '\0';
    c->pool_len += len + 1;
    return off;
}

corpus_str corpus_str_addz(corpus *c, const char *s, ub_err *e) {
    return corpus_str_add(c, s, strlen(s), e);
}

const char *corpus_s(const corpus *c, corpus_str s) {
    return s < 0 || (size_t)s >= c->pool_len ? "" : c->pool + s;
}

ub_status corpus_add_user(corpus *c, const corpus_user *u, int64_t *index, ub_err *e) {
    void *a = c->users;
    ub_status st = grow(&a, &c->cap_users, c->n_users + 1, sizeof *u, "users", e);
    if (st) return st;
    c->users = a;
    c->users[c->n_users] = *u;
    if (index) *index = (int64_t)c->n_users;
    c->n_users++;
    return UB_OK;
}

ub_status corpus_add_post(corpus *c, const corpus_post *p, int64_t *index, ub_err *e) {
    void *a = c->posts;
    ub_status st = grow(&a, &c->cap_posts, c->n_posts + 1, sizeof *p, "posts", e);
    if (st) return st;
    c->posts = a;
    c->posts[c->n_posts] = *p;
    if (index) *index = (int64_t)c->n_posts;
    c->n_posts++;
    return UB_OK;
}

ub_status corpus_add_secret(corpus *c, const corpus_secret *s, int64_t *index, ub_err *e) {
    void *a = c->secrets;
    ub_status st = grow(&a, &c->cap_secrets, c->n_secrets + 1, sizeof *s, "secrets", e);
    if (st) return st;
    c->secrets = a;
    c->secrets[c->n_secrets] = *s;
    if (index) *index = (int64_t)c->n_secrets;
    c->n_secrets++;
    return UB_OK;
}

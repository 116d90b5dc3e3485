/* tests/test_generate.c: the synthetic corpus generator (datasets/generate.c, gen_text.c).
 * Usage: test_generate [--large]   (--large also times the "large" profile, ~1M posts)
 * Prints generation throughput of the "default" profile (a figure to quote, not asserted). */
#include "corpus.h"
#include "ubtest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, no stray continuation. */
static int utf8_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        int len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else return 0; /* continuation byte, C0/C1 overlong lead, > F4 */
        if (i + (size_t)len > n) return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0; /* overlong */
        if (cp >= 0xD800 && cp <= 0xDFFF) return 0;                           /* surrogate */
        if (cp > 0x10FFFF) return 0;
        i += (size_t)len;
    }
    return 1;
}

static void check_utf8_validator(void) {
    UB_CHECK(utf8_valid((const unsigned char *)"Grüße 😂 ß", strlen("Grüße 😂 ß")));
    UB_CHECK(!utf8_valid((const unsigned char *)"\xC0\xAF", 2));          /* overlong '/' */
    UB_CHECK(!utf8_valid((const unsigned char *)"\xE0\x80\xAF", 3));      /* overlong */
    UB_CHECK(!utf8_valid((const unsigned char *)"\xED\xA0\x80", 3));      /* surrogate */
    UB_CHECK(!utf8_valid((const unsigned char *)"\xF4\x90\x80\x80", 4));  /* > U+10FFFF */
    UB_CHECK(!utf8_valid((const unsigned char *)"\x80", 1));
    UB_CHECK(!utf8_valid((const unsigned char *)"\xE2\x82", 2));          /* truncated */
}

static size_t count_occ(const char *hay, const char *needle) {
    size_t n = 0, l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle)) n++;
    return n;
}

static int count_words(const char *s) {
    int w = 0, in = 0;
    for (; *s; s++) {
        if (*s == ' ') in = 0;
        else if (!in) in = 1, w++;
    }
    return w;
}

static int gen(corpus *c, const corpus_gen_cfg *g) {
    ub_err e = {0};
    corpus_init(c);
    ub_status st = corpus_generate(c, g, &e);
    if (st) fprintf(stderr, "corpus_generate: %s\n", e.msg);
    return st == UB_OK;
}

/* ---- determinism ---- */

static int same_corpus(const corpus *a, const corpus *b) {
    if (a->n_users != b->n_users || a->n_posts != b->n_posts || a->n_secrets != b->n_secrets ||
        a->pool_len != b->pool_len || memcmp(a->pool, b->pool, a->pool_len) ||
        a->cutoff_time != b->cutoff_time || a->seed != b->seed || strcmp(a->config, b->config))
        return 0;
    for (size_t i = 0; i < a->n_users; i++) {
        const corpus_user *x = &a->users[i], *y = &b->users[i];
        if (x->handle != y->handle || x->name != y->name || x->lang != y->lang ||
            x->city != y->city || x->persona != y->persona || x->age != y->age ||
            x->is_adult != y->is_adult || x->objection != y->objection ||
            x->sensitive_kind != y->sensitive_kind || x->sensitive_value != y->sensitive_value ||
            x->objection_time != y->objection_time)
            return 0;
    }
    for (size_t i = 0; i < a->n_posts; i++) {
        const corpus_post *x = &a->posts[i], *y = &b->posts[i];
        if (x->user != y->user || x->time != y->time || x->reply_to != y->reply_to ||
            x->visibility != y->visibility || x->fresh != y->fresh || x->flags != y->flags ||
            x->secret != y->secret || x->text != y->text)
            return 0;
    }
    for (size_t i = 0; i < a->n_secrets; i++) {
        const corpus_secret *x = &a->secrets[i], *y = &b->secrets[i];
        if (x->user != y->user || x->kind != y->kind || x->value != y->value ||
            x->prefix != y->prefix || x->format != y->format || x->log2_space != y->log2_space ||
            x->inserted != y->inserted)
            return 0;
    }
    return 1;
}

static void test_determinism(void) {
    corpus_gen_cfg g;
    ub_err e = {0};
    UB_CHECK(corpus_gen_defaults(&g, "tiny", &e) == UB_OK);
    g.seed = 42;
    corpus a, b, d;
    UB_CHECK(gen(&a, &g));
    UB_CHECK(gen(&b, &g));
    UB_CHECK_MSG(same_corpus(&a, &b), "same seed gave different corpora");
    g.seed = 43;
    UB_CHECK(gen(&d, &g));
    UB_CHECK_MSG(!same_corpus(&a, &d) && (a.pool_len != d.pool_len ||
                                          memcmp(a.pool, d.pool, a.pool_len)),
                 "different seeds gave the same corpus");
    UB_CHECK(a.seed == 42 && !strcmp(a.source, "generated"));
    UB_CHECK(strstr(a.config, "n_users=200;") && strstr(a.config, "secret_counts=0,1,4,16;"));
    UB_CHECK(a.cutoff_time == g.cutoff_time);
    /* a non-empty corpus is refused */
    UB_CHECK(corpus_generate(&a, &g, &e) == UB_EARG);
    corpus_free(&a), corpus_free(&b), corpus_free(&d);
}

/* ---- secrets ---- */

/* Match value against format (D digit, N 1-9, \x literal); returns 1 and the bits if it fits. */
static int format_match(const char *fmt, const char *val, double *bits) {
    *bits = 0.0;
    for (; *fmt; fmt++, val++) {
        if (*fmt == '\\' && fmt[1]) {
            fmt++;
            if (*val != *fmt) return 0;
        } else if (*fmt == 'D') {
            if (*val < '0' || *val > '9') return 0;
            *bits += log2(10.0);
        } else if (*fmt == 'N') {
            if (*val < '1' || *val > '9') return 0;
            *bits += log2(9.0);
        } else if (*val != *fmt) {
            return 0;
        }
    }
    return *val == '\0';
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_secrets(const corpus_gen_cfg *g, const corpus *c) {
    int kinds[4] = {0};
    size_t n_planted = 0;
    const char **vals = malloc((c->n_secrets + 1) * sizeof *vals);
    for (size_t s = 0; s < c->n_secrets; s++) {
        const corpus_secret *S = &c->secrets[s];
        const char *val = corpus_s(c, S->value), *pre = corpus_s(c, S->prefix);
        const char *kind = corpus_s(c, S->kind);
        vals[s] = val;
        kinds[0] += !strcmp(kind, "phone"), kinds[1] += !strcmp(kind, "email");
        kinds[2] += !strcmp(kind, "address"), kinds[3] += !strcmp(kind, "iban");
        double bits;
        UB_CHECK_MSG(format_match(corpus_s(c, S->format), val, &bits), "value %s format %s", val,
                     corpus_s(c, S->format));
        UB_CHECK_CLOSE(S->log2_space, bits, 1e-9, 0);
        if (!strcmp(kind, "phone")) UB_CHECK_CLOSE(S->log2_space, 8 * log2(10.0), 1e-9, 0);
        if (!strcmp(kind, "iban")) UB_CHECK_CLOSE(S->log2_space, 20 * log2(10.0), 1e-9, 0);
        int in_counts = 0;
        for (int i = 0; i < g->n_secret_counts; i++) in_counts |= S->inserted == g->secret_counts[i];
        UB_CHECK(in_counts);
        UB_CHECK(S->user >= 0 && (size_t)S->user < c->n_users);
        UB_CHECK(strlen(pre) > 0);
        /* occurrences across all texts, fresh included, = inserted; flagged posts = inserted */
        size_t occ = 0, flagged = 0;
        char both[256];
        snprintf(both, sizeof both, "%s%s", pre, val);
        for (size_t i = 0; i < c->n_posts; i++) {
            const corpus_post *p = &c->posts[i];
            const char *t = corpus_s(c, p->text);
            size_t o = count_occ(t, val);
            occ += o;
            if ((p->flags & CORPUS_POST_SECRET) && p->secret == (int32_t)s) {
                flagged++;
                UB_CHECK(!p->fresh && p->user == S->user);
                UB_CHECK_MSG(strstr(t, both) != NULL, "post %zu lacks '%s'", i, both);
            }
        }
        UB_CHECK_MSG(occ == (size_t)S->inserted, "secret %zu '%s': %zu occurrences, inserted %d",
                     s, val, occ, S->inserted);
        UB_CHECK(flagged == (size_t)S->inserted);
        n_planted += flagged;
    }
    size_t n_flag = 0;
    for (size_t i = 0; i < c->n_posts; i++) {
        const corpus_post *p = &c->posts[i];
        if (p->flags & CORPUS_POST_SECRET) {
            n_flag++;
            UB_CHECK(p->secret >= 0 && (size_t)p->secret < c->n_secrets);
        } else {
            UB_CHECK(p->secret == -1);
        }
    }
    UB_CHECK(n_flag == n_planted);
    qsort(vals, c->n_secrets, sizeof *vals, cmp_str);
    for (size_t s = 1; s < c->n_secrets; s++) UB_CHECK(strcmp(vals[s - 1], vals[s]) != 0);
    for (int k = 0; k < 4; k++) UB_CHECK_MSG(kinds[k] > 0, "no secret of kind %d", k);
    free(vals);
}

/* ---- structural checks every corpus must pass ---- */

static void check_structure(const corpus_gen_cfg *g, const corpus *c) {
    UB_CHECK_MSG(utf8_valid((const unsigned char *)c->pool, c->pool_len), "pool not UTF-8");
    size_t n_fresh = 0, first_fresh = c->n_posts;
    int bad_words = 0, bad_time = 0, bad_reply = 0;
    int *sens_posts = calloc(c->n_users, sizeof *sens_posts);
    for (size_t i = 0; i < c->n_posts; i++) {
        const corpus_post *p = &c->posts[i];
        const char *t = corpus_s(c, p->text);
        int w = count_words(t);
        bad_words += w < 5 || w > 60;
        bad_time += p->time < g->start_time || p->time >= g->end_time;
        UB_CHECK(p->user >= 0 && (size_t)p->user < c->n_users);
        if (p->fresh) {
            n_fresh++;
            if (first_fresh == c->n_posts) first_fresh = i;
            UB_CHECK(p->reply_to == -1 && !(p->flags & CORPUS_POST_SECRET));
        } else {
            UB_CHECK_MSG(first_fresh == c->n_posts, "corpus-proper post %zu after fresh ones", i);
            if (i > 0) UB_CHECK(c->posts[i - 1].time <= p->time);
            if (p->reply_to >= 0) {
                const corpus_post *q = &c->posts[p->reply_to];
                bad_reply += (size_t)p->reply_to >= i || q->fresh || q->time >= p->time ||
                             q->user == p->user;
                /* a reply opens with the handle of the user replied to */
                const char *h = corpus_s(c, c->users[q->user].handle);
                bad_reply += strncmp(t, h, strlen(h)) != 0;
            }
            if (p->flags & CORPUS_POST_SENSITIVE) sens_posts[p->user]++;
        }
        if (p->flags & CORPUS_POST_SENSITIVE)
            UB_CHECK(c->users[p->user].sensitive_kind != CORPUS_SENS_NONE);
    }
    UB_CHECK_MSG(bad_words == 0, "%d posts outside 5..60 words", bad_words);
    UB_CHECK_MSG(bad_time == 0, "%d posts outside [start, end)", bad_time);
    UB_CHECK_MSG(bad_reply == 0, "%d bad replies", bad_reply);
    UB_CHECK(n_fresh == (size_t)g->n_users * (size_t)g->fresh_per_user);
    /* users: handles unique, ages consistent, objections in their windows */
    const char **handles = malloc(c->n_users * sizeof *handles);
    for (size_t u = 0; u < c->n_users; u++) {
        const corpus_user *U = &c->users[u];
        handles[u] = corpus_s(c, U->handle);
        UB_CHECK(handles[u][0] == '@' && strlen(handles[u]) > 2);
        UB_CHECK(U->is_adult == (U->age >= 18));
        UB_CHECK(U->age >= 13 && U->age <= 80);
        const char *lang = corpus_s(c, U->lang);
        UB_CHECK(!strcmp(lang, "de") || !strcmp(lang, "en") || !strcmp(lang, "de+en"));
        UB_CHECK(strncmp(corpus_s(c, U->persona), "topics=", 7) == 0);
        UB_CHECK(strstr(corpus_s(c, U->persona), ";phrases=") != NULL);
        if (U->objection == CORPUS_OBJ_NONE) UB_CHECK(U->objection_time == 0);
        if (U->objection == CORPUS_OBJ_BEFORE)
            UB_CHECK(U->objection_time >= g->start_time && U->objection_time < g->cutoff_time);
        if (U->objection == CORPUS_OBJ_AFTER)
            UB_CHECK(U->objection_time >= g->cutoff_time && U->objection_time < g->end_time);
        if (U->sensitive_kind != CORPUS_SENS_NONE) {
            UB_CHECK(strlen(corpus_s(c, U->sensitive_value)) > 0);
            UB_CHECK_MSG(sens_posts[u] >= 1, "user %zu never mentions their attribute", u);
        } else {
            UB_CHECK(U->sensitive_value == -1 && sens_posts[u] == 0);
        }
    }
    qsort(handles, c->n_users, sizeof *handles, cmp_str);
    for (size_t u = 1; u < c->n_users; u++)
        UB_CHECK_MSG(strcmp(handles[u - 1], handles[u]) != 0, "duplicate handle %s", handles[u]);
    free(handles);
    free(sens_posts);
}

/* ---- fractions and the heavy tail on the "default" profile ---- */

static int cmp_int_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

static void check_fractions(const corpus_gen_cfg *g, const corpus *c) {
    double nu = (double)c->n_users;
    int de = 0, both = 0, minors = 0, ob = 0, oa = 0, sens = 0, secret_users = 0;
    for (size_t u = 0; u < c->n_users; u++) {
        const corpus_user *U = &c->users[u];
        const char *lang = corpus_s(c, U->lang);
        de += !strcmp(lang, "de"), both += !strcmp(lang, "de+en");
        minors += !U->is_adult;
        ob += U->objection == CORPUS_OBJ_BEFORE, oa += U->objection == CORPUS_OBJ_AFTER;
        sens += U->sensitive_kind != CORPUS_SENS_NONE;
    }
    secret_users = (int)c->n_secrets;
    UB_CHECK_CLOSE(de / nu, g->frac_de, 0.05, 0);
    UB_CHECK_CLOSE(both / nu, g->frac_bilingual, 0.04, 0);
    UB_CHECK_CLOSE(minors / nu, g->frac_minor, 0.03, 0);
    UB_CHECK_CLOSE(ob / nu, g->frac_object_before, 0.02, 0);
    UB_CHECK_CLOSE(oa / nu, g->frac_object_after, 0.02, 0);
    UB_CHECK_CLOSE(sens / nu, g->frac_sensitive, 0.03, 0);
    UB_CHECK_CLOSE(secret_users / nu, g->frac_secret_users, 0.04, 0);
    /* posts: visibility and special-category rate; per-user counts for the tail */
    int *per_user = calloc(c->n_users, sizeof *per_user);
    double n_proper = 0, priv = 0, fr = 0, sens_posts = 0, sens_user_posts = 0;
    for (size_t i = 0; i < c->n_posts; i++) {
        const corpus_post *p = &c->posts[i];
        if (p->fresh) continue;
        n_proper++;
        per_user[p->user]++;
        priv += p->visibility == CORPUS_VIS_PRIVATE, fr += p->visibility == CORPUS_VIS_FRIENDS;
        if (c->users[p->user].sensitive_kind != CORPUS_SENS_NONE) {
            sens_user_posts++;
            sens_posts += (p->flags & CORPUS_POST_SENSITIVE) != 0;
        }
    }
    UB_CHECK_CLOSE(priv / n_proper, g->frac_private, 0.02, 0);
    UB_CHECK_CLOSE(fr / n_proper, g->frac_friends, 0.02, 0);
    UB_CHECK_CLOSE(sens_posts / sens_user_posts, g->sensitive_rate, 0.03, 0);
    UB_CHECK_CLOSE(n_proper / nu, g->mean_posts, 0, 0.25);
    qsort(per_user, c->n_users, sizeof *per_user, cmp_int_desc);
    double top = 0;
    for (size_t u = 0; u < c->n_users / 10; u++) top += per_user[u];
    printf("default profile: %zu users, %.0f corpus-proper posts (mean %.1f), top 10%% of users "
           "hold %.1f%%, max %d posts\n",
           c->n_users, n_proper, n_proper / nu, 100 * top / n_proper, per_user[0]);
    UB_CHECK_MSG(top / n_proper > 0.30, "top 10%% hold only %.3f", top / n_proper);
    UB_CHECK(per_user[c->n_users - 1] >= 1);
    free(per_user);
}

/* ---- configuration validation ---- */

static void expect_bad(corpus_gen_cfg g, const char *field) {
    ub_err e = {0};
    ub_status st = corpus_gen_check(&g, &e);
    UB_CHECK_MSG(st == UB_EARG && strstr(e.msg, field), "%s: got %d '%s'", field, st, e.msg);
}

static void test_check(void) {
    corpus_gen_cfg g, b;
    ub_err e = {0};
    UB_CHECK(corpus_gen_defaults(&g, "default", &e) == UB_OK);
    UB_CHECK(corpus_gen_check(&g, &e) == UB_OK);
    UB_CHECK(corpus_gen_defaults(&b, "huge", &e) == UB_EARG && strstr(e.msg, "huge"));
    b = g, b.frac_de = 1.5, expect_bad(b, "frac_de");
    b = g, b.frac_de = NAN, expect_bad(b, "frac_de");
    b = g, b.frac_de = 0.9, b.frac_bilingual = 0.2, expect_bad(b, "frac_bilingual");
    b = g, b.frac_minor = -0.1, expect_bad(b, "frac_minor");
    b = g, b.frac_private = 0.8, b.frac_friends = 0.3, expect_bad(b, "frac_friends");
    b = g, b.frac_object_before = 0.6, b.frac_object_after = 0.6, expect_bad(b, "frac_object_after");
    b = g, b.sensitive_rate = 2, expect_bad(b, "sensitive_rate");
    b = g, b.n_users = 0, expect_bad(b, "n_users");
    b = g, b.mean_posts = 0.5, expect_bad(b, "mean_posts");
    b = g, b.max_posts = 0, expect_bad(b, "max_posts");
    b = g, b.fresh_per_user = -1, expect_bad(b, "fresh_per_user");
    b = g, b.n_secret_counts = 0, expect_bad(b, "n_secret_counts");
    b = g, b.secret_counts[2] = -4, expect_bad(b, "secret_counts[2]");
    b = g, b.cutoff_time = b.start_time, expect_bad(b, "cutoff_time");
    b = g, b.end_time = b.cutoff_time - 1, expect_bad(b, "end_time");
    corpus c;
    corpus_init(&c);
    b = g, b.n_users = 0;
    UB_CHECK(corpus_generate(&c, &b, &e) == UB_EARG && c.n_users == 0);
    corpus_free(&c);
}

/* Users with more insertions than posts get extra posts; counts stay exact. */
static void test_many_insertions(void) {
    corpus_gen_cfg g;
    ub_err e = {0};
    UB_CHECK(corpus_gen_defaults(&g, "tiny", &e) == UB_OK);
    g.seed = 7, g.n_users = 120, g.mean_posts = 2, g.max_posts = 5, g.frac_secret_users = 1.0;
    g.n_secret_counts = 1, g.secret_counts[0] = 16, g.fresh_per_user = 2;
    corpus c;
    UB_CHECK(gen(&c, &g));
    UB_CHECK(c.n_secrets == 120);
    check_secrets(&g, &c);
    check_structure(&g, &c);
    corpus_free(&c);
}

/* Knowledge probes: every user with a special-category attribute has one whose cloze, filled
 * with the true value, appears verbatim in one of the user's posts (the fixed sentence every
 * such user writes); the true value is among the candidates, and the city probe names the
 * user's city. An import (source not "generated") has no probes. */
static void check_probes(const corpus *c) {
    size_t with_sens = 0, found = 0;
    char buf[256];
    for (size_t u = 0; u < c->n_users; u++) {
        corpus_probe p[2];
        int n = corpus_user_probes(c, (int64_t)u, p);
        const corpus_user *cu = &c->users[u];
        UB_CHECK(n >= 1 && n <= 2);
        UB_CHECK(n == 1 + (cu->sensitive_kind >= 0));
        UB_CHECK(p[0].kind == CORPUS_PROBE_CITY && p[0].truth >= 0 &&
                 !strcmp(p[0].values[p[0].truth], corpus_s(c, cu->city)));
        if (n < 2) continue;
        with_sens++;
        UB_CHECK(p[1].kind == CORPUS_PROBE_HEALTH + cu->sensitive_kind);
        UB_CHECK(p[1].n_values >= 2 && p[1].truth >= 0 && p[1].truth < p[1].n_values);
        snprintf(buf, sizeof buf, "%s%s%s", p[1].before, p[1].values[p[1].truth], p[1].after);
        int hit = 0;
        for (size_t i = 0; i < c->n_posts && !hit; i++)
            hit = c->posts[i].user == (int64_t)u && strstr(corpus_s(c, c->posts[i].text), buf);
        found += hit;
        UB_CHECK_MSG(hit || strcmp(corpus_s(c, cu->lang), "de+en") == 0,
                     "user %zu: no post contains \"%s\"", u, buf);
    }
    UB_CHECK(with_sens > 0 && found > 0);
    corpus imp = *c;
    snprintf(imp.source, sizeof imp.source, "import.jsonl");
    corpus_probe p[2];
    UB_CHECK(corpus_user_probes(&imp, 0, p) == 0);
}

int main(int argc, char **argv) {
    check_utf8_validator();
    test_check();
    test_determinism();
    test_many_insertions();

    corpus_gen_cfg g;
    ub_err e = {0};
    corpus c;
    UB_CHECK(corpus_gen_defaults(&g, "tiny", &e) == UB_OK);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        g.seed = seed;
        double t0 = ub_now();
        UB_CHECK(gen(&c, &g));
        if (seed == 1)
            printf("tiny profile: %zu users, %zu posts, %zu secrets in %.3f s\n", c.n_users,
                   c.n_posts, c.n_secrets, ub_now() - t0);
        check_structure(&g, &c);
        check_secrets(&g, &c);
        check_probes(&c);
        for (size_t i = 0, shown = 0; seed == 1 && i < c.n_posts && shown < 4; i++)
            if (c.posts[i].flags && (shown < 2) == !!(c.posts[i].flags & CORPUS_POST_SECRET)) {
                printf("  [%s flags=%u] %s\n", corpus_s(&c, c.users[c.posts[i].user].handle),
                       c.posts[i].flags, corpus_s(&c, c.posts[i].text));
                shown++;
            }
        if (seed == 1) printf("  persona: %s\n", corpus_s(&c, c.users[0].persona));
        corpus_free(&c);
    }

    UB_CHECK(corpus_gen_defaults(&g, "default", &e) == UB_OK);
    g.seed = 2024;
    double t0 = ub_now();
    UB_CHECK(gen(&c, &g));
    double dt = ub_now() - t0;
    printf("default profile: %zu posts (%zu secrets) in %.3f s = %.0f posts/s, pool %.1f MB\n",
           c.n_posts, c.n_secrets, dt, c.n_posts / dt, c.pool_len / 1e6);
    check_structure(&g, &c);
    check_fractions(&g, &c);
    /* a few sample posts, for eyeballing */
    for (size_t i = 0; i < c.n_posts; i += c.n_posts / 6)
        printf("  [%s] %s\n", corpus_s(&c, c.users[c.posts[i].user].handle),
               corpus_s(&c, c.posts[i].text));
    corpus_free(&c);

    if (argc > 1 && !strcmp(argv[1], "--large")) {
        UB_CHECK(corpus_gen_defaults(&g, "large", &e) == UB_OK);
        t0 = ub_now();
        UB_CHECK(gen(&c, &g));
        dt = ub_now() - t0;
        size_t proper = 0;
        for (size_t i = 0; i < c.n_posts; i++) proper += !c.posts[i].fresh;
        printf("large profile: %zu posts (%zu corpus proper) in %.2f s = %.0f posts/s, pool "
               "%.1f MB, peak RSS %.0f MB\n",
               c.n_posts, proper, dt, c.n_posts / dt, c.pool_len / 1e6, ub_peak_rss() / 1e6);
        check_structure(&g, &c);
        corpus_free(&c);
    }
    UB_TEST_END();
}

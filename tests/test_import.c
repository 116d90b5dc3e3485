/* tests/test_import.c: JSON Lines import (datasets/import.c).
 * Every file is written into a fresh mkdtemp directory under /tmp, removed at the end.
 * Prints the import speed of a large generated file (a figure to quote, not asserted).
 *
 * The memory check (large file, skipped under AddressSanitizer, whose quarantine and
 * copy-on-realloc make RSS meaningless): peak RSS growth during the import must stay below
 * what the corpus itself needs (pool bytes + post and line tables) plus a slack of a quarter
 * of the file size and 8 MiB. An importer that holds the whole file in memory needs at least
 * the file size on top of the corpus, so it fails; the test asserts that the bound is indeed
 * below "corpus + file". The growth is measured from the current RSS before the import (not
 * the earlier peak), so it can only be overestimated; the large test runs first so nothing
 * before it raised the peak. */
#include "corpus.h"
#include "ubtest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UB_ASAN 1
#endif
#endif
#ifndef UB_ASAN
#define UB_ASAN 0
#endif

/* ---- temporary files ---- */

static char g_dir[64];
static char g_files[64][128];
static int g_n_files;

static const char *tmp_path(const char *name) {
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

/* Write n bytes (n = 0: strlen) to dir/name; returns the path. */
static const char *write_file(const char *name, const char *s, size_t n) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fwrite(s, 1, n ? n : strlen(s), f);
    fclose(f);
    int seen = 0;
    for (int i = 0; i < g_n_files; i++) seen |= strcmp(g_files[i], path) == 0;
    if (!seen && g_n_files < 64) snprintf(g_files[g_n_files++], sizeof g_files[0], "%s", path);
    return path;
}

static ub_status import(corpus *c, const char *path, int skip, size_t *skipped, ub_err *e) {
    corpus_init(c);
    ub_err_clear(e);
    return corpus_import_jsonl(c, path, skip, skipped, e);
}

static size_t current_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- large file: counts, memory bound, speed ---- */

static void large_text(char *buf, size_t n, uint64_t i) {
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[k] = (k % 9 == 8) ? ' ' : (char)('a' + x % 26);
    }
    buf[n] = '\0';
}

static void test_large(void) {
    const size_t n_lines = UB_ASAN ? 20000 : 200000, n_users = 5000, text_len = 250;
    const char *path = write_file("large.jsonl", "", 1); /* registered for removal */
    FILE *f = fopen(path, "wb");
    char text[512];
    for (size_t i = 0; i < n_lines; i++) {
        large_text(text, text_len, i);
        fprintf(f, "{\"user\":\"user%zu\",\"text\":\"%s\",\"time\":\"2024-05-01T12:%02zu:00Z\"",
                i % n_users, text, i % 60);
        if (i % 10 == 9) fprintf(f, ",\"reply_to\":%zu", i); /* the line before (1-based i) */
        fputs(",\"visibility\":\"public\",\"lang\":\"en\"}\n", f);
    }
    long file_bytes = ftell(f);
    fclose(f);

    corpus c;
    ub_err e;
    size_t skipped = 99;
    size_t rss0 = current_rss();
    double t0 = ub_now();
    ub_status st = import(&c, path, 0, &skipped, &e);
    double dt = ub_now() - t0;
    size_t peak = ub_peak_rss();
    UB_CHECK_MSG(st == UB_OK, "%s", e.msg);
    UB_CHECK(skipped == 0);
    UB_CHECK(c.n_posts == n_lines);
    UB_CHECK(c.n_users == n_users);
    if (st == UB_OK && c.n_posts == n_lines) {
        size_t i = n_lines / 2 + 9; /* line i+1 replies to line i */
        large_text(text, text_len, i);
        UB_CHECK(strcmp(corpus_s(&c, c.posts[i].text), text) == 0);
        UB_CHECK(c.posts[i].reply_to == (int64_t)i - 1);
        UB_CHECK(c.posts[i - 1].reply_to == -1);
        UB_CHECK(c.posts[i].user == (int64_t)(i % n_users));
        UB_CHECK(strcmp(corpus_s(&c, c.users[7].handle), "@user7") == 0);
    }
    double mb = (double)file_bytes / 1e6;
    printf("large import: %zu lines, %.1f MB in %.3f s = %.0f MB/s%s\n", n_lines, mb, dt,
           mb / dt, UB_ASAN ? " (AddressSanitizer build)" : "");
    size_t growth = peak > rss0 ? peak - rss0 : 0;
    size_t needed = c.pool_len + c.n_posts * (sizeof(corpus_post) + sizeof(int64_t)) +
                    c.n_users * sizeof(corpus_user);
    size_t bound = needed + (size_t)file_bytes / 4 + (8u << 20);
    printf("large import: peak RSS growth %.1f MB, corpus needs %.1f MB, bound %.1f MB, "
           "corpus + file %.1f MB\n", growth / 1e6, needed / 1e6, bound / 1e6,
           (needed + (size_t)file_bytes) / 1e6);
    if (!UB_ASAN) {
        UB_CHECK(bound < needed + (size_t)file_bytes); /* the check can see a second copy */
        UB_CHECK_MSG(growth < bound, "peak RSS grew %zu bytes, bound %zu", growth, bound);
    }
    corpus_free(&c);
    remove(path);
}

/* ---- a good file with every field ---- */

static void test_good(void) {
    const char *good =
        "\xEF\xBB\xBF{\"user\":\"anna\",\"text\":\"Gr\xC3\xBC\xC3\x9F" "e aus M\xC3\xBCnchen "
        "\xF0\x9F\x8E\x89\",\"time\":\"2024-05-01\",\"visibility\":\"public\",\"lang\":\"de\","
        "\"is_adult\":true}\n"
        "{\"user\":\"@bob\",\"text\":\"hi\",\"time\":\"2024-05-01T12:30:00Z\",\"visibility\":"
        "\"friends\",\"lang\":\"en\",\"reply_to\":1}\r\n"
        "{\"user\":\"anna\",\"text\":\"zweiter\",\"time\":\"2024-05-01T12:30:00+02:00\","
        "\"visibility\":\"private\",\"reply_to\":null,\"extra\":{\"x\":[1,2]},\"lang\":null}\n"
        "{\"user\":\"carol\",\"text\":\"esc \\u00fc \\ud83d\\ude00 \\\"q\\\" \\n nl\",\"time\":"
        "\"2024-05-01T12:30:00.75-05:30\",\"is_adult\":false,\"lang\":\"en\",\"reply_to\":3}\n"
        "{\"user\":\"dave\",\"text\":\"\",\"time\":\"2024-02-29t23:59:59+0000\"}\n"
        "  {\"reply_to\":2,\"text\":\"again\",\"user\":\"anna\",\"is_adult\":true,\"lang\":\"en\","
        "\"time\":\"1969-12-31 23:59:59Z\"}  ";
    const char *path = write_file("good.jsonl", good, 0);
    corpus c;
    ub_err e;
    size_t skipped = 99;
    ub_status st = import(&c, path, 0, &skipped, &e);
    UB_CHECK_MSG(st == UB_OK, "%s", e.msg);
    UB_CHECK(skipped == 0);
    UB_CHECK(c.n_users == 4 && c.n_posts == 6);
    if (c.n_users != 4 || c.n_posts != 6) {
        corpus_free(&c);
        return;
    }
    UB_CHECK(strcmp(c.source, path) == 0 && c.seed == 0 && c.cutoff_time == 0);
    const char *handles[4] = {"@anna", "@bob", "@carol", "@dave"};
    const char *names[4] = {"anna", "@bob", "carol", "dave"};
    const char *langs[4] = {"de", "en", "en", ""};
    const int adult[4] = {1, -1, 0, -1};
    for (int u = 0; u < 4; u++) {
        const corpus_user *p = &c.users[u];
        UB_CHECK_MSG(strcmp(corpus_s(&c, p->handle), handles[u]) == 0, "user %d", u);
        UB_CHECK_MSG(strcmp(corpus_s(&c, p->name), names[u]) == 0, "user %d", u);
        UB_CHECK_MSG(strcmp(corpus_s(&c, p->lang), langs[u]) == 0, "user %d", u);
        UB_CHECK_MSG(p->is_adult == adult[u], "user %d: %d", u, p->is_adult);
        UB_CHECK(p->city == -1 && p->persona == -1 && p->age == -1);
        UB_CHECK(p->objection == CORPUS_OBJ_NONE && p->sensitive_kind == CORPUS_SENS_NONE);
        UB_CHECK(p->sensitive_value == -1 && p->objection_time == 0);
    }
    const int64_t user[6] = {0, 1, 0, 2, 3, 0};
    const int64_t times[6] = {1714521600, 1714566600, 1714559400, 1714586400, 1709251199, -1};
    const int64_t reply[6] = {-1, 0, -1, 2, -1, 1};
    const int vis[6] = {CORPUS_VIS_PUBLIC, CORPUS_VIS_FRIENDS, CORPUS_VIS_PRIVATE,
                        CORPUS_VIS_PUBLIC, CORPUS_VIS_PUBLIC, CORPUS_VIS_PUBLIC};
    const char *texts[6] = {"Gr\xC3\xBC\xC3\x9F" "e aus M\xC3\xBCnchen \xF0\x9F\x8E\x89", "hi",
                            "zweiter", "esc \xC3\xBC \xF0\x9F\x98\x80 \"q\" \n nl", "", "again"};
    for (int i = 0; i < 6; i++) {
        const corpus_post *p = &c.posts[i];
        UB_CHECK_MSG(p->user == user[i], "post %d", i);
        UB_CHECK_MSG(p->time == times[i], "post %d: time %lld", i, (long long)p->time);
        UB_CHECK_MSG(p->reply_to == reply[i], "post %d: reply_to %lld", i, (long long)p->reply_to);
        UB_CHECK_MSG(p->visibility == vis[i], "post %d", i);
        UB_CHECK_MSG(strcmp(corpus_s(&c, p->text), texts[i]) == 0, "post %d: %s", i,
                     corpus_s(&c, p->text));
        UB_CHECK(p->fresh == 0 && p->flags == 0 && p->secret == -1);
    }
    corpus_free(&c);

    /* No final newline; a text of exactly CORPUS_MAX_TEXT bytes written as \u escapes (a
     * line of ~196 KB: longer than any fixed buffer; the limit counts decoded bytes). */
    size_t cap = 6 * CORPUS_MAX_TEXT + 256, n = 0;
    char *big = malloc(cap);
    n += (size_t)sprintf(big, "{\"user\":\"x\",\"text\":\"a\"}\n{\"user\":\"x\",\"text\":\"");
    for (int k = 0; k < CORPUS_MAX_TEXT / 2; k++) n += (size_t)sprintf(big + n, "\\u00e9");
    n += (size_t)sprintf(big + n, "\"}");
    path = write_file("long.jsonl", big, n);
    st = import(&c, path, 0, NULL, &e);
    UB_CHECK_MSG(st == UB_OK, "%s", e.msg);
    UB_CHECK(c.n_posts == 2 && c.n_posts == 2 &&
             strlen(corpus_s(&c, c.posts[1].text)) == CORPUS_MAX_TEXT);
    corpus_free(&c);
    free(big);

    /* An empty file is an empty corpus; a non-empty corpus is refused. */
    path = write_file("empty.jsonl", "", 1);
    FILE *f = fopen(path, "wb");
    fclose(f);
    st = import(&c, path, 0, NULL, &e);
    UB_CHECK(st == UB_OK && c.n_posts == 0 && c.n_users == 0);
    corpus_str s = corpus_str_addz(&c, "x", &e);
    corpus_user u = {.handle = s};
    corpus_add_user(&c, &u, NULL, &e);
    ub_err_clear(&e);
    UB_CHECK(corpus_import_jsonl(&c, path, 0, NULL, &e) == UB_EARG);
    corpus_free(&c);
}

/* ---- bad lines ---- */

typedef struct bad_case {
    const char *line; /* "$L" is replaced by the line's own number */
    const char *why;  /* expected in the message after "PATH:LINE: " */
} bad_case;

static const bad_case bad_cases[] = {
    {"{\"user\":\"a\",\"text\":\"x\"", "invalid JSON at byte"},
    {"{\"user\":\"a\",\"text\":\"x\"} {}", "invalid JSON at byte"},
    {"{\"user\":\"a\",\"text\":\"\\ud800\"}", "invalid JSON"},
    {"[\"user\",\"text\"]", "not a JSON object but an array"},
    {"\"just a string\"", "not a JSON object but a string"},
    {"{\"user\":\"a\",\"text\":\"\xC0\xAF\"}", "invalid UTF-8 (overlong encoding) at byte 21"},
    {"{\"user\":\"a\",\"text\":\"\xE0\x80\xAF\"}", "invalid UTF-8 (overlong encoding)"},
    {"{\"user\":\"a\",\"text\":\"\xF0\x8F\xBF\xBF\"}", "invalid UTF-8 (overlong encoding)"},
    {"{\"user\":\"a\",\"text\":\"\xED\xA0\x80\"}", "invalid UTF-8 (surrogate code point)"},
    {"{\"user\":\"a\",\"text\":\"\xF4\x90\x80\x80\"}", "invalid UTF-8 (code point above U+10FFFF)"},
    {"{\"user\":\"a\",\"text\":\"\xF5\x80\x80\x80\"}", "invalid UTF-8 (code point above U+10FFFF)"},
    {"{\"user\":\"a\",\"text\":\"\xC3\"}", "invalid UTF-8 (truncated sequence)"},
    {"{\"user\":\"a\",\"text\":\"x\"} \xE2\x82", "invalid UTF-8 (truncated sequence)"},
    {"{\"user\":\"a\",\"text\":\"\x80\"}", "invalid UTF-8 (continuation byte without a lead"},
    {"{\"user\":\"a\",\"text\":\"a\\u0000b\"}", "\\u0000 (NUL) in a string"},
    {"{\"text\":\"x\"}", "missing field \"user\""},
    {"{\"user\":\"a\"}", "missing field \"text\""},
    {"{\"user\":42,\"text\":\"x\"}", "field \"user\" must be a string, not a number"},
    {"{\"user\":\"a\",\"text\":null}", "field \"text\" must be a string, not null"},
    {"{\"user\":\"\",\"text\":\"x\"}", "field \"user\" is empty"},
    {"{\"user\":\"a\",\"user\":\"b\",\"text\":\"x\"}", "duplicate field \"user\""},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":\"2024-13-01\"}", "bad time \"2024-13-01\": no such date"},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":\"2023-02-29\"}", "no such date"},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":\"2024-05-01T12:30:00\"}", "no time zone"},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":\"yesterday\"}", "bad time \"yesterday\""},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":\"2024-05-01T25:00Z\"}", "no such time of day"},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":\"2024-05-01T12:00Z junk\"}", "trailing characters"},
    {"{\"user\":\"a\",\"text\":\"x\",\"time\":1714521600}", "field \"time\" must be a string"},
    {"{\"user\":\"a\",\"text\":\"x\",\"visibility\":\"secret\"}", "unknown visibility \"secret\""},
    {"{\"user\":\"a\",\"text\":\"x\",\"reply_to\":999999}", "refers to line 999999, a later line"},
    {"{\"user\":\"a\",\"text\":\"x\",\"reply_to\":$L}", "reply_to refers to its own line"},
    {"{\"user\":\"a\",\"text\":\"x\",\"reply_to\":0}", "reply_to must be a line number"},
    {"{\"user\":\"a\",\"text\":\"x\",\"reply_to\":1.5}", "reply_to must be a line number"},
    {"{\"user\":\"a\",\"text\":\"x\",\"reply_to\":\"1\"}", "must be a line number or null"},
    {"{\"user\":\"a\",\"text\":\"x\",\"is_adult\":\"yes\"}", "must be true, false or null"},
    {"{\"user\":\"anna\",\"text\":\"x\",\"is_adult\":false}",
     "is_adult false conflicts with is_adult true on line 1 for user \"anna\""},
    {"{\"user\":\"@anna\",\"text\":\"x\"}", "user \"@anna\" has the same handle as user \"anna\" of line 1"},
    {"", "empty line"},
    {" \t\r", "empty line"},
    {NULL, "text is 65537 bytes, more than the limit of 65536"}, /* built below */
};
enum { N_BAD = sizeof bad_cases / sizeof *bad_cases };

static const char *const good_first = "{\"user\":\"anna\",\"text\":\"first\",\"is_adult\":true}\n";
static const char *const good_other = "{\"user\":\"bea\",\"text\":\"ok\",\"reply_to\":1}\n";

/* Append bad case k as line ln to buf (at *n). */
static void put_bad(char *buf, size_t *n, int k, size_t ln) {
    const char *s = bad_cases[k].line;
    if (!s) {
        *n += (size_t)sprintf(buf + *n, "{\"user\":\"a\",\"text\":\"");
        memset(buf + *n, 'y', CORPUS_MAX_TEXT + 1);
        *n += CORPUS_MAX_TEXT + 1;
        *n += (size_t)sprintf(buf + *n, "\"}\n");
        return;
    }
    const char *l = strstr(s, "$L");
    if (l) {
        *n += (size_t)sprintf(buf + *n, "%.*s%zu%s\n", (int)(l - s), s, ln, l + 2);
    } else {
        *n += (size_t)sprintf(buf + *n, "%s\n", s);
    }
}

static void test_bad_lines(void) {
    char *buf = malloc(4 * CORPUS_MAX_TEXT);
    corpus c;
    ub_err e;
    for (int k = 0; k < N_BAD; k++) { /* good, BAD, good: stops at line 2 */
        size_t n = (size_t)sprintf(buf, "%s", good_first);
        put_bad(buf, &n, k, 2);
        n += (size_t)sprintf(buf + n, "%s", good_other);
        const char *path = write_file("bad.jsonl", buf, n);
        ub_status st = import(&c, path, 0, NULL, &e);
        char want[300];
        snprintf(want, sizeof want, "%s:2: ", path);
        UB_CHECK_MSG(st == UB_EFORMAT, "case %d: status %d", k, st);
        UB_CHECK_MSG(strncmp(e.msg, want, strlen(want)) == 0 && strstr(e.msg, bad_cases[k].why),
                     "case %d: got \"%s\", want \"%s%s\"", k, e.msg, want, bad_cases[k].why);
        UB_CHECK_MSG(!strchr(e.msg, '\n'), "case %d: message is not one line", k);
        corpus_free(&c);
    }

    /* All of them in one file, each followed by a good line: skip_invalid keeps the good. */
    size_t cap = (size_t)N_BAD * 256 + 2 * CORPUS_MAX_TEXT, n = 0, ln = 1;
    char *all = malloc(cap);
    n += (size_t)sprintf(all, "%s", good_first);
    for (int k = 0; k < N_BAD; k++) {
        put_bad(all, &n, k, ++ln);
        n += (size_t)sprintf(all + n, "%s", good_other);
        ln++;
    }
    const char *path = write_file("all_bad.jsonl", all, n);
    size_t skipped = 0;
    ub_status st = import(&c, path, 1, &skipped, &e);
    UB_CHECK_MSG(st == UB_OK, "%s", e.msg);
    UB_CHECK_MSG(skipped == N_BAD, "skipped %zu of %d", skipped, N_BAD);
    UB_CHECK(c.n_posts == N_BAD + 1 && c.n_users == 2);
    if (c.n_users == 2) UB_CHECK(c.users[0].is_adult == 1); /* the conflicting line is left out */
    corpus_free(&c);
    st = import(&c, path, 0, &skipped, &e);
    UB_CHECK(st == UB_EFORMAT && skipped == 0);
    corpus_free(&c);

    /* reply_to a skipped line is bad too; later indexes follow the posts actually kept. */
    path = write_file("skip_reply.jsonl",
                      "{\"user\":\"a\",\"text\":\"1\"}\n"
                      "{\"user\":\"a\"}\n"
                      "{\"user\":\"b\",\"text\":\"3\",\"reply_to\":2}\n"
                      "{\"user\":\"b\",\"text\":\"4\"}\n"
                      "{\"user\":\"c\",\"text\":\"5\",\"reply_to\":4}\n"
                      "\n", 0);
    st = import(&c, path, 1, &skipped, &e);
    UB_CHECK_MSG(st == UB_OK, "%s", e.msg);
    UB_CHECK(skipped == 3 && c.n_posts == 3 && c.n_users == 3);
    if (c.n_posts == 3) UB_CHECK(c.posts[2].reply_to == 1 && c.posts[1].user == 1);
    corpus_free(&c);
    st = import(&c, path, 0, &skipped, &e);
    UB_CHECK(st == UB_EFORMAT && strstr(e.msg, ":2: missing field \"text\""));
    corpus_free(&c);

    /* The blank line after the last newline is the end of the file, one more is a bad line. */
    path = write_file("trail.jsonl", "{\"user\":\"a\",\"text\":\"1\"}\n\n", 0);
    st = import(&c, path, 0, NULL, &e);
    UB_CHECK(st == UB_EFORMAT && strstr(e.msg, ":2: empty line"));
    corpus_free(&c);

    /* A raw NUL byte. */
    path = write_file("nul.jsonl", "{\"user\":\"a\",\"text\":\"x\0y\"}\n", 26);
    st = import(&c, path, 0, NULL, &e);
    UB_CHECK_MSG(st == UB_EFORMAT && strstr(e.msg, ":1: NUL byte at byte 22"), "%s", e.msg);
    corpus_free(&c);
    free(all);
    free(buf);
}

static void test_missing(void) {
    corpus c;
    ub_err e;
    const char *path = tmp_path("does_not_exist.jsonl");
    ub_status st = import(&c, path, 0, NULL, &e);
    UB_CHECK(st == UB_EIO && strstr(e.msg, path));
    corpus_free(&c);
    st = import(&c, g_dir, 1, NULL, &e); /* a directory opens but cannot be read */
    UB_CHECK_MSG(st == UB_EIO && strstr(e.msg, g_dir), "%d %s", st, e.msg);
    corpus_free(&c);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/ub_import_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_large(); /* first: the memory check wants a low peak RSS before it */
    test_good();
    test_bad_lines();
    test_missing();
    for (int i = 0; i < g_n_files; i++) remove(g_files[i]);
    if (rmdir(g_dir) != 0) perror(g_dir);
    UB_TEST_END();
}

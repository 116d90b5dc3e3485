/* datasets/import.c: JSON Lines import into the in-memory corpus (contract in corpus.h).
 *
 * The file is streamed line by line (getline), so memory holds one line plus the corpus being
 * built, never the whole file. Each line is checked completely (raw UTF-8, JSON, every field,
 * the cross-line rules) before anything is added, so a skipped line leaves no trace: no user,
 * no string in the pool. Users are found through an open-addressing hash map on the handle.
 *
 * Choices beyond the header's contract:
 *   - a blank (or whitespace-only) line is a bad line, "empty line": nothing is dropped
 *     silently. The end of a file after its final newline is not a line;
 *   - an optional field given as null counts as absent (exporters write null for "unknown");
 *   - a time with a clock but no zone ("2024-05-01T12:30:00") is a bad line: its instant is
 *     unknown. A bare date is midnight UTC. Fractions of seconds are dropped (floor);
 *   - \u0000 in a string is a bad line (pool strings are NUL-terminated), as is a raw NUL byte;
 *   - repeating one of the six known fields in an object is a bad line (which one would win?);
 *   - "anna" and "@anna" would get the same handle: the second is a bad line naming the first;
 *   - a UTF-8 byte order mark at the start of line 1 is ignored;
 *   - the corpus must be empty (an import is a whole corpus: source, seed and cut-off are set).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cJSON.h>

#include "corpus.h"

/* ---- raw-byte checks ---- */

/* NULL if s[0..n) is valid UTF-8 with no NUL byte and no \u0000 escape; else the reason, with
 * the 0-based offset of the offending byte in *at. Overlong forms, surrogates (U+D800..DFFF),
 * code points above U+10FFFF and truncated sequences are all rejected. */
static const char *check_bytes(const unsigned char *s, size_t n, size_t *at) {
    size_t i = 0;
    while (i < n) {
        unsigned b = s[i];
        *at = i;
        if (b >= 0x20 && b < 0x80 && b != '\\') { /* the common case */
            i++;
            continue;
        }
        if (b == 0) return "NUL byte";
        if (b == '\\') { /* an escape: only matters for \u0000; skip the escaped character */
            if (i + 5 < n && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
                return "\\u0000 (NUL) in a string";
            i += (i + 1 < n && s[i + 1] < 0x80) ? 2 : 1;
            continue;
        }
        if (b < 0x80) { /* other control characters: cJSON's business */
            i++;
            continue;
        }
        size_t need;      /* continuation bytes */
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the first continuation byte */
        if (b < 0xC0) return "invalid UTF-8 (continuation byte without a lead byte)";
        if (b < 0xC2) return "invalid UTF-8 (overlong encoding)";
        if (b < 0xE0) {
            need = 1;
        } else if (b < 0xF0) {
            need = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b < 0xF5) {
            need = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else {
            return "invalid UTF-8 (code point above U+10FFFF)";
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80) return "invalid UTF-8 (truncated sequence)";
        }
        if (s[i + 1] < lo) return "invalid UTF-8 (overlong encoding)";
        if (s[i + 1] > hi)
            return b == 0xED ? "invalid UTF-8 (surrogate code point)"
                             : "invalid UTF-8 (code point above U+10FFFF)";
        i += need + 1;
    }
    return NULL;
}

/* Copy s into out (cap >= 8) for a one-line message: control characters and '"' escaped,
 * at most max bytes of s, "..." when cut. */
static const char *quote(char *out, size_t cap, const char *s, size_t max) {
    size_t o = 0, i = 0;
    for (; s[i] && i < max && o + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F) o += (size_t)snprintf(out + o, cap - o, "\\x%02X", ch);
        else if (ch == '"' || ch == '\\') { out[o++] = '\\'; out[o++] = (char)ch; }
        else out[o++] = (char)ch;
    }
    if (s[i] && o + 4 <= cap) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = '\0';
    return out;
}

static const char *json_type(const cJSON *v) {
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a bool";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* ---- ISO 8601 time ---- */

static int digits(const char *s, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DD[T ]HH:MM[:SS[.fff]]" + "Z" or "+HH:MM"/"+HHMM"
 * (or '-'). NULL and unix seconds in *t, or the reason. */
static const char *parse_time(const char *s, int64_t *t) {
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return "not an ISO 8601 date";
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return "no such date";
    const char *p = s + 10;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ') return "not an ISO 8601 date";
        if (!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi))
            return "not an ISO 8601 time of day";
        p += 6;
        if (*p == ':') {
            if (!digits(p + 1, 2, &sec)) return "not an ISO 8601 time of day";
            p += 3;
            if (*p == '.' || *p == ',') { /* fraction: dropped */
                p++;
                if (*p < '0' || *p > '9') return "not an ISO 8601 time of day";
                while (*p >= '0' && *p <= '9') p++;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return "no such time of day"; /* 60: leap second */
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om, sign = *p == '-' ? -1 : 1;
            if (!digits(p + 1, 2, &oh)) return "bad time zone offset";
            p += 3;
            if (*p == ':') p++;
            if (!digits(p, 2, &om) || oh > 23 || om > 59) return "bad time zone offset";
            p += 2;
            off = sign * (oh * 3600 + om * 60);
        } else if (*p == '\0') {
            return "no time zone (add Z or an offset like +02:00)";
        } else {
            return "not an ISO 8601 time of day";
        }
        if (*p) return "trailing characters";
    }
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return NULL;
}

/* ---- users by handle: open addressing, linear probing, load <= 1/2 ---- */

typedef struct user_map {
    uint64_t *hash;  /* (cap) */
    int64_t *user;   /* (cap) user index, -1 = empty slot */
    size_t cap;      /* power of two */
    size_t n;
} user_map;

static uint64_t hash_handle(const char *s, size_t n) { /* FNV-1a, then a final mix */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static ub_status map_resize(user_map *m, size_t cap, ub_err *e) {
    uint64_t *hash = ub_malloc(cap * sizeof *hash, "import user map", e);
    int64_t *user = ub_malloc(cap * sizeof *user, "import user map", e);
    if (!hash || !user) {
        free(hash);
        free(user);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++) user[i] = -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->user[i] < 0) continue;
        size_t j = m->hash[i] & (cap - 1);
        while (user[j] >= 0) j = (j + 1) & (cap - 1);
        hash[j] = m->hash[i];
        user[j] = m->user[i];
    }
    free(m->hash);
    free(m->user);
    m->hash = hash;
    m->user = user;
    m->cap = cap;
    return UB_OK;
}

/* The slot of handle (n bytes) with hash h: either holding it or the empty slot to fill. */
static size_t map_find(const user_map *m, const corpus *c, uint64_t h, const char *handle,
                       size_t n) {
    size_t j = h & (m->cap - 1);
    while (m->user[j] >= 0) {
        if (m->hash[j] == h) {
            const char *u = corpus_s(c, c->users[m->user[j]].handle);
            if (strncmp(u, handle, n) == 0 && u[n] == '\0') return j;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return j;
}

/* ---- one line ---- */

typedef struct line_rec {
    const char *user, *text, *lang; /* lang NULL if absent */
    size_t text_len;
    int64_t time, reply_to;         /* reply_to: post index or -1 */
    int vis, is_adult;
} line_rec;

/* Everything the import keeps besides the corpus. */
typedef struct importer {
    corpus *c;
    user_map map;
    int64_t *line_post;  /* (cap_lines) line number -> post index, -1 = no post */
    size_t cap_lines;
    int64_t *aux;        /* (cap_aux) per user u: [2u] the line that created it, [2u+1] the line
                            that set its is_adult (0 = none yet) */
    size_t cap_aux;
    char *handle;        /* (cap_handle) scratch: the handle of the current line (fits a line) */
    size_t cap_handle, handle_len;
    uint64_t handle_hash;
} importer;

static ub_status grow_i64(int64_t **a, size_t *cap, size_t need, const char *what, ub_err *e) {
    if (need <= *cap) return UB_OK;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need) nc *= 2;
    int64_t *p = realloc(*a, nc * sizeof *p);
    if (!p) return ub_fail(e, UB_ENOMEM, "out of memory growing the %s to %zu", what, nc);
    *a = p;
    *cap = nc;
    return UB_OK;
}

/* Check line ln (the parsed object o) against every rule; fills r. Returns NULL or the reason
 * (in why, cap bytes). Sets *user to the existing user's index or -1 for a new one, and
 * im->handle to the line's handle. */
static const char *check_line(importer *im, const cJSON *o, size_t ln, line_rec *r,
                              int64_t *user, char *why, size_t cap) {
    static const char *const known[] = {"user", "text", "time", "visibility", "lang",
                                        "reply_to", "is_adult"};
    enum { N_KNOWN = sizeof known / sizeof *known };
    const cJSON *f[N_KNOWN] = {0};
    char q[160], q2[160];
    for (const cJSON *v = o->child; v; v = v->next)
        for (int k = 0; k < N_KNOWN; k++)
            if (v->string && strcmp(v->string, known[k]) == 0) {
                if (f[k]) return snprintf(why, cap, "duplicate field \"%s\"", known[k]), why;
                f[k] = v;
            }
    for (int k = 0; k < 2; k++) { /* user, text: required strings */
        if (!f[k]) return snprintf(why, cap, "missing field \"%s\"", known[k]), why;
        if (!cJSON_IsString(f[k]))
            return snprintf(why, cap, "field \"%s\" must be a string, not %s", known[k],
                            json_type(f[k])), why;
    }
    for (int k = 2; k < N_KNOWN; k++) /* optional: null = absent */
        if (f[k] && cJSON_IsNull(f[k])) f[k] = NULL;
    const int want_string[N_KNOWN] = {1, 1, 1, 1, 1, 0, 0};
    for (int k = 2; k < N_KNOWN; k++) {
        if (!f[k]) continue;
        int ok = want_string[k] ? cJSON_IsString(f[k])
                                : k == 5 ? cJSON_IsNumber(f[k]) : cJSON_IsBool(f[k]);
        if (!ok)
            return snprintf(why, cap, "field \"%s\" must be %s, not %s", known[k],
                            want_string[k] ? "a string" : k == 5 ? "a line number or null"
                                                                 : "true, false or null",
                            json_type(f[k])), why;
    }
    r->user = f[0]->valuestring;
    r->text = f[1]->valuestring;
    r->text_len = strlen(r->text);
    if (!r->user[0]) return snprintf(why, cap, "field \"user\" is empty"), why;
    if (r->text_len > CORPUS_MAX_TEXT)
        return snprintf(why, cap, "text is %zu bytes, more than the limit of %d", r->text_len,
                        CORPUS_MAX_TEXT), why;
    r->time = 0;
    if (f[2]) {
        const char *bad = parse_time(f[2]->valuestring, &r->time);
        if (bad)
            return snprintf(why, cap, "bad time \"%s\": %s (want e.g. 2024-05-01 or "
                            "2024-05-01T12:30:00Z)", quote(q, sizeof q, f[2]->valuestring, 60),
                            bad), why;
    }
    r->vis = CORPUS_VIS_PUBLIC;
    if (f[3]) {
        const char *s = f[3]->valuestring;
        if (strcmp(s, "public") == 0) r->vis = CORPUS_VIS_PUBLIC;
        else if (strcmp(s, "friends") == 0) r->vis = CORPUS_VIS_FRIENDS;
        else if (strcmp(s, "private") == 0) r->vis = CORPUS_VIS_PRIVATE;
        else
            return snprintf(why, cap, "unknown visibility \"%s\" (want public, friends or "
                            "private)", quote(q, sizeof q, s, 60)), why;
    }
    r->lang = f[4] && f[4]->valuestring[0] ? f[4]->valuestring : NULL;
    r->reply_to = -1;
    if (f[5]) {
        double d = f[5]->valuedouble;
        if (!(d >= 1 && d <= 9e15 && d == floor(d)))
            return snprintf(why, cap, "reply_to must be a line number (an integer >= 1), not "
                            "%.15g", d), why;
        size_t to = (size_t)d;
        if (to == ln) return snprintf(why, cap, "reply_to refers to its own line"), why;
        if (to > ln) return snprintf(why, cap, "reply_to refers to line %zu, a later line", to), why;
        if (im->line_post[to] < 0)
            return snprintf(why, cap, "reply_to refers to line %zu, which holds no imported "
                            "post", to), why;
        r->reply_to = im->line_post[to];
    }
    r->is_adult = f[6] ? cJSON_IsTrue(f[6]) : -1;

    /* The user: handle = "@" + user unless it starts with '@'. */
    size_t ulen = strlen(r->user), at = r->user[0] != '@';
    if (ulen + 2 > im->cap_handle) /* the caller made room for the whole line */
        return snprintf(why, cap, "internal: handle buffer too small"), why;
    im->handle[0] = '@';
    memcpy(im->handle + at, r->user, ulen + 1);
    im->handle_len = ulen + at;
    im->handle_hash = hash_handle(im->handle, im->handle_len);
    size_t slot = map_find(&im->map, im->c, im->handle_hash, im->handle, im->handle_len);
    *user = im->map.user[slot];
    if (*user < 0) return NULL;
    const corpus_user *u = &im->c->users[*user];
    if (strcmp(corpus_s(im->c, u->name), r->user) != 0)
        return snprintf(why, cap, "user \"%s\" has the same handle as user \"%s\" of line %lld",
                        quote(q, sizeof q, r->user, 60), quote(q2, sizeof q2,
                        corpus_s(im->c, u->name), 60), (long long)im->aux[2 * *user]), why;
    if (r->is_adult >= 0 && u->is_adult >= 0 && r->is_adult != u->is_adult)
        return snprintf(why, cap, "is_adult %s conflicts with is_adult %s on line %lld for user "
                        "\"%s\"", r->is_adult ? "true" : "false", u->is_adult ? "true" : "false",
                        (long long)im->aux[2 * *user + 1], quote(q, sizeof q, r->user, 60)), why;
    return NULL;
}

/* Add the checked line: a new user if needed, then the post. */
static ub_status commit_line(importer *im, const line_rec *r, int64_t user, size_t ln,
                             ub_err *e) {
    corpus *c = im->c;
    ub_status st;
    if (user < 0) {
        corpus_user u = {.city = -1, .persona = -1, .lang = -1, .age = -1, .is_adult = -1,
                         .objection = CORPUS_OBJ_NONE, .sensitive_kind = CORPUS_SENS_NONE,
                         .sensitive_value = -1, .objection_time = 0};
        u.handle = corpus_str_add(c, im->handle, im->handle_len, e);
        u.name = u.handle < 0 ? -1 : corpus_str_addz(c, r->user, e);
        if (u.name < 0) return UB_ENOMEM;
        if ((st = corpus_add_user(c, &u, &user, e))) return st;
        if ((st = grow_i64(&im->aux, &im->cap_aux, 2 * c->n_users, "import user table", e)))
            return st;
        im->aux[2 * user] = (int64_t)ln;
        im->aux[2 * user + 1] = 0;
        if (2 * (im->map.n + 1) > im->map.cap &&
            (st = map_resize(&im->map, im->map.cap * 2, e)))
            return st;
        size_t slot = map_find(&im->map, c, im->handle_hash, im->handle, im->handle_len);
        im->map.hash[slot] = im->handle_hash;
        im->map.user[slot] = user;
        im->map.n++;
    }
    corpus_user *u = &c->users[user];
    if (r->lang && u->lang < 0) {
        corpus_str s = corpus_str_addz(c, r->lang, e);
        if (s < 0) return UB_ENOMEM;
        c->users[user].lang = s;
    }
    if (r->is_adult >= 0 && u->is_adult < 0) {
        u->is_adult = (int8_t)r->is_adult;
        im->aux[2 * user + 1] = (int64_t)ln;
    }
    corpus_post p = {.user = user, .time = r->time, .reply_to = r->reply_to,
                     .visibility = (int8_t)r->vis, .fresh = 0, .flags = 0, .secret = -1};
    p.text = corpus_str_add(c, r->text, r->text_len, e);
    if (p.text < 0) return UB_ENOMEM;
    int64_t idx;
    if ((st = corpus_add_post(c, &p, &idx, e))) return st;
    im->line_post[ln] = idx;
    return UB_OK;
}

/* ---- the import ---- */

ub_status corpus_import_jsonl(corpus *c, const char *path, int skip_invalid, size_t *skipped,
                              ub_err *e) {
    if (skipped) *skipped = 0;
    if (c->n_users || c->n_posts || c->n_secrets)
        return ub_fail(e, UB_EARG, "importing %s: the corpus must be empty", path);
    size_t plen = strlen(path);
    if (plen >= sizeof c->source) plen = sizeof c->source - 1;
    memcpy(c->source, path, plen);
    c->source[plen] = '\0';
    c->seed = 0;
    c->cutoff_time = 0;

    FILE *fp = fopen(path, "rb");
    if (!fp) return ub_fail(e, UB_EIO, "cannot open %s: %s", path, strerror(errno));
    importer im = {.c = c};
    ub_status st = map_resize(&im.map, 1024, e);
    char *line = NULL;
    size_t line_cap = 0, ln = 0, n_skipped = 0;
    ssize_t got;
    while (!st && (got = getline(&line, &line_cap, fp)) >= 0) {
        ln++;
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        if ((st = grow_i64(&im.line_post, &im.cap_lines, ln + 1, "import line table", e))) break;
        if (n + 2 > im.cap_handle) { /* a handle is at most the line plus '@' and a NUL */
            char *h = realloc(im.handle, line_cap + 2);
            if (!h) {
                st = ub_fail(e, UB_ENOMEM, "out of memory importing %s", path);
                break;
            }
            im.handle = h;
            im.cap_handle = line_cap + 2;
        }
        im.line_post[ln] = -1;
        char why[512];
        const char *bad = NULL;
        const char *s = line;
        if (ln == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3; /* BOM */
        size_t at = 0;
        size_t blank = 0;
        while (blank < n && (s[blank] == ' ' || s[blank] == '\t' || s[blank] == '\r')) blank++;
        if (blank == n) {
            bad = "empty line";
        } else if ((bad = check_bytes((const unsigned char *)s, n, &at))) {
            snprintf(why, sizeof why, "%s at byte %zu", bad, at + 1);
            bad = why;
        }
        cJSON *o = NULL;
        if (!bad) {
            const char *end = NULL;
            o = cJSON_ParseWithOpts(s, &end, 1);
            if (!o) {
                snprintf(why, sizeof why, "invalid JSON at byte %zu",
                         end && end >= s ? (size_t)(end - s) + 1 : (size_t)1);
                bad = why;
            } else if (!cJSON_IsObject(o)) {
                snprintf(why, sizeof why, "not a JSON object but %s", json_type(o));
                bad = why;
            }
        }
        line_rec r;
        int64_t user = -1;
        if (!bad) bad = check_line(&im, o, ln, &r, &user, why, sizeof why);
        if (!bad) st = commit_line(&im, &r, user, ln, e);
        cJSON_Delete(o);
        if (bad && !skip_invalid) st = ub_fail(e, UB_EFORMAT, "%s:%zu: %s", path, ln, bad);
        if (bad) n_skipped++;
    }
    if (!st && ferror(fp)) st = ub_fail(e, UB_EIO, "error reading %s: %s", path, strerror(errno));
    if (skipped) *skipped = st ? 0 : n_skipped;
    fclose(fp);
    free(line);
    free(im.map.hash);
    free(im.map.user);
    free(im.line_post);
    free(im.aux);
    free(im.handle);
    return st;
}

/* bench/unlearn/methods/registry.c: the registered methods, in report order; their settings
 * from a run's spec, and the settings of their sweep grids. */
#include "ul_private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const ul_method *const ul_methods[] = {
    &ul_finetune, &ul_gradient_ascent, &ul_gradient_difference, &ul_kl,
    &ul_npo,      &ul_relabel,         &ul_task_vector,         &ul_newton,
    &ul_simnpo,   &ul_undial,          &ul_whp,                 &ul_idkdpo,
    &ul_rmu,
};
const int ul_n_methods = (int)(sizeof ul_methods / sizeof ul_methods[0]);

const ul_method *ul_find(const char *name) {
    for (int i = 0; i < ul_n_methods; i++)
        if (strcmp(ul_methods[i]->name, name) == 0) return ul_methods[i];
    return NULL;
}

/* The key of item "k=v" (trimmed; the whole item when it has no '='). */
static size_t item_key(const char *it, size_t n, const char **k) {
    const char *eq = memchr(it, '=', n);
    size_t kn = eq ? (size_t)(eq - it) : n;
    while (kn && isspace((unsigned char)*it)) it++, kn--;
    while (kn && isspace((unsigned char)it[kn - 1])) kn--;
    *k = it;
    return kn;
}

/* Append item (n bytes) to the list out ("k=v,k=v"), replacing an item with the same key. */
static void put_item(char *out, size_t cap, const char *item, size_t n) {
    const char *k;
    size_t kn = item_key(item, n, &k);
    if (kn == 0) return; /* empty items are skipped, as the parser does */
    char rest[2048];
    size_t r = 0;
    rest[0] = '\0';
    for (const char *p = out; *p;) { /* keep the other keys, in order */
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *k2;
        size_t kn2 = item_key(p, len, &k2);
        if (!(kn2 == kn && !memcmp(k2, k, kn)) && kn2 && r + len + 2 < sizeof rest)
            r += (size_t)snprintf(rest + r, sizeof rest - r, "%s%.*s", r ? "," : "", (int)len, p);
        p = end ? end + 1 : p + len;
    }
    snprintf(out, cap, "%s%s%.*s", rest, r ? "," : "", (int)n, item);
}

void ul_method_params(const char *spec, const char *name, char *out, size_t cap) {
    out[0] = '\0';
    size_t ln = strlen(name);
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) p++, len--;
        if (len > ln && !strncmp(p, name, ln) && p[ln] == ':') {
            const char *it = p + ln + 1, *stop = p + len;
            while (it < stop) {
                const char *c = memchr(it, ',', (size_t)(stop - it));
                size_t n = c ? (size_t)(c - it) : (size_t)(stop - it);
                put_item(out, cap, it, n);
                it += n + (c ? 1 : 0);
            }
        }
        p = end ? end + 1 : NULL;
    }
}

int ul_grid_points(const char *grid, char (*out)[UL_GRID_LEN], int cap, ub_err *e) {
    enum { AXES = 8, VALUES = 16 };
    char key[AXES][64], val[AXES][VALUES][64];
    int nv[AXES], na = 0;
    for (const char *p = grid ? grid : ""; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p || na == AXES || (size_t)(eq - p) >= sizeof key[0]) {
            ub_fail(e, UB_EARG, "grid '%s': need axes \"key=v1|v2;key2=...\" (at most %d)", grid,
                    AXES);
            return -1;
        }
        snprintf(key[na], sizeof key[na], "%.*s", (int)(eq - p), p);
        nv[na] = 0;
        for (const char *v = eq + 1, *stop = p + len; v <= stop;) {
            const char *bar = memchr(v, '|', (size_t)(stop - v));
            size_t n = bar ? (size_t)(bar - v) : (size_t)(stop - v);
            if (n == 0 || n >= sizeof val[0][0] || nv[na] == VALUES) {
                ub_fail(e, UB_EARG, "grid '%s': axis %s has an empty or long value, or more "
                        "than %d", grid, key[na], VALUES);
                return -1;
            }
            snprintf(val[na][nv[na]++], sizeof val[0][0], "%.*s", (int)n, v);
            v += n + 1;
        }
        na++;
        p = end ? end + 1 : NULL;
    }
    long n = na ? 1 : 0;
    for (int a = 0; a < na; a++) n *= nv[a];
    if (n > cap) {
        ub_fail(e, UB_EARG, "grid '%s': %ld settings, at most %d", grid, n, cap);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        long r = i;
        char buf[UL_GRID_LEN] = "";
        size_t at = 0;
        int idx[AXES];
        for (int a = na - 1; a >= 0; a--) idx[a] = (int)(r % nv[a]), r /= nv[a];
        for (int a = 0; a < na; a++)
            at += (size_t)snprintf(buf + at, at < sizeof buf ? sizeof buf - at : 0, "%s%s=%s",
                                   a ? "," : "", key[a], val[a][idx[a]]);
        if (at >= sizeof buf) {
            ub_fail(e, UB_EARG, "grid '%s': a setting is longer than %d bytes", grid,
                    UL_GRID_LEN - 1);
            return -1;
        }
        memcpy(out[i], buf, sizeof buf);
    }
    return (int)n;
}

void ul_effective_params(const ul_method *m, const char *spec, char *out, size_t cap) {
    char given[1024];
    ul_method_params(spec, m->name, given, sizeof given);
    out[0] = '\0';
    const char *lists[2] = {m->params, given};
    for (int l = 0; l < 2; l++)
        for (const char *it = lists[l]; *it;) {
            const char *c = strchr(it, ',');
            size_t n = c ? (size_t)(c - it) : strlen(it);
            put_item(out, cap, it, n);
            it += n + (c ? 1 : 0);
        }
}

ub_status ul_params_canonical(const char *spec, char *out, size_t cap, ub_err *e) {
    out[0] = '\0';
    for (const char *p = spec; p && *p;) { /* every name must be a method's */
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) p++, len--;
        const char *colon = memchr(p, ':', len);
        if (len && !colon)
            return ub_fail(e, UB_EARG, "method-params '%.*s': need NAME:key=value,...", (int)len,
                           p);
        if (len) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            if (!ul_find(name))
                return ub_fail(e, UB_EARG, "method-params: unknown method '%s'", name);
        }
        p = end ? end + 1 : NULL;
    }
    size_t n = 0;
    for (int i = 0; i < ul_n_methods; i++) {
        char mp[1024];
        ul_method_params(spec, ul_methods[i]->name, mp, sizeof mp);
        if (!mp[0]) continue;
        int k = snprintf(out + n, cap - n, "%s%s:%s", n ? ";" : "", ul_methods[i]->name, mp);
        if (k < 0 || (size_t)k >= cap - n)
            return ub_fail(e, UB_EARG, "method-params: more than %zu bytes", cap - 1);
        n += (size_t)k;
    }
    return UB_OK;
}

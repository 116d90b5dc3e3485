/* bench/results/compare.c: is one seed's evidence in two results.h5 files the same? Byte for
 * byte (a re-run with the same binary and thread count: `unlearnbench verify`), or its metrics
 * within stated tolerances (another binary or thread count). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

typedef struct cmp_ctx {
    hid_t b;          /* the other file's seed group */
    int n;            /* differences */
    char *diff;
    size_t cap, used;
    ub_err *e;
} cmp_ctx;

static void note(cmp_ctx *c, const char *fmt, ...) {
    c->n++;
    if (c->n > 8 || c->used + 2 >= c->cap) return; /* the first few are enough to act on */
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(c->diff + c->used, c->cap - c->used, fmt, ap);
    va_end(ap);
    if (k > 0) c->used += (size_t)k < c->cap - c->used ? (size_t)k : c->cap - c->used - 1;
    if (c->used + 1 < c->cap) c->diff[c->used++] = '\n', c->diff[c->used] = '\0';
}

/* The strings of a dataset, concatenated with NUL separators (for comparing). */
typedef struct strs {
    char *buf;
    size_t n, cap;
} strs;
static ub_status take_str(void *ctx, size_t i, const char *s, size_t len, ub_err *e) {
    strs *x = ctx;
    if (x->n + len + 1 > x->cap) {
        size_t cap = 2 * (x->n + len + 1);
        char *w = realloc(x->buf, cap);
        if (!w) return ub_fail(e, UB_ENOMEM, "out of memory");
        x->buf = w, x->cap = cap;
    }
    memcpy(x->buf + x->n, s, len);
    x->buf[x->n + len] = '\0';
    x->n += len + 1;
    return UB_OK;
}

/* Does string dataset name hold the same strings under fa and fb? */
static int same_strings(hid_t fa, hid_t fb, const char *name, ub_err *e) {
    strs xa = {0}, xb = {0};
    size_t n;
    int eq = !ub_h5_read_strings(fa, name, "a", 0, &n, take_str, &xa, e) &&
             !ub_h5_read_strings(fb, name, "b", 0, &n, take_str, &xb, e) && xa.n == xb.n &&
             (xa.n == 0 || !memcmp(xa.buf, xb.buf, xa.n));
    free(xa.buf), free(xb.buf);
    return eq;
}

/* Raw bytes of dataset or attribute contents (file type as memory type). */
static void *raw(hid_t obj, int attr, hid_t type, size_t *bytes) {
    hid_t sp = attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    size_t sz = H5Tget_size(type);
    *bytes = np > 0 ? (size_t)np * sz : 0;
    void *buf = malloc(*bytes + 1);
    if (!buf) return NULL;
    herr_t r = *bytes == 0 ? 0
               : attr     ? H5Aread(obj, type, buf)
                          : H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (r < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int same_shape(hid_t a, hid_t b, int attr) {
    hid_t sa = attr ? H5Aget_space(a) : H5Dget_space(a), sb = attr ? H5Aget_space(b) : H5Dget_space(b);
    hsize_t da[8], db[8];
    int ra = H5Sget_simple_extent_dims(sa, da, NULL), rb = H5Sget_simple_extent_dims(sb, db, NULL);
    H5Sclose(sa), H5Sclose(sb);
    return ra == rb && ra >= 0 && !memcmp(da, db, (size_t)ra * sizeof(hsize_t));
}

/* Compare object a (dataset or attribute) with b; returns 1 when equal. */
static int same_values(hid_t a, hid_t b, int attr, hid_t loc_a, hid_t loc_b, const char *name,
                       ub_err *e) {
    hid_t ta = attr ? H5Aget_type(a) : H5Dget_type(a), tb = attr ? H5Aget_type(b) : H5Dget_type(b);
    int eq = H5Tequal(ta, tb) > 0 && same_shape(a, b, attr);
    if (eq && !attr && H5Tis_variable_str(ta) > 0) {
        eq = same_strings(loc_a, loc_b, name, e);
    } else if (eq && attr && H5Tis_variable_str(ta) > 0) { /* a scalar string attribute */
        char *sa = NULL, *sb = NULL;
        eq = H5Aread(a, ta, &sa) >= 0 && H5Aread(b, tb, &sb) >= 0 && sa && sb && !strcmp(sa, sb);
        if (sa) H5free_memory(sa);
        if (sb) H5free_memory(sb);
    } else if (eq) {
        size_t na, nb;
        void *ba = raw(a, attr, ta, &na), *bb = raw(b, attr, tb, &nb);
        eq = ba && bb && na == nb && !memcmp(ba, bb, na);
        free(ba), free(bb);
    }
    H5Tclose(ta), H5Tclose(tb);
    return eq;
}

/* Every attribute of object path p in a equals b's, and b has no other. */
static void obj_attrs(cmp_ctx *c, hid_t ga, const char *p) {
    hid_t oa = H5Oopen(ga, p, H5P_DEFAULT), ob = H5Oopen(c->b, p, H5P_DEFAULT);
    H5O_info_t ia, ib;
    H5Oget_info(oa, &ia), H5Oget_info(ob, &ib);
    if (ia.num_attrs != ib.num_attrs) note(c, "%s: %llu attributes, %llu in the other file", p,
                                           (unsigned long long)ia.num_attrs,
                                           (unsigned long long)ib.num_attrs);
    for (hsize_t i = 0; i < ia.num_attrs; i++) {
        char an[256];
        hid_t aa = H5Aopen_by_idx(oa, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        H5Aget_name(aa, sizeof an, an);
        if (H5Aexists(ob, an) <= 0) {
            note(c, "%s: attribute %s missing in the other file", p, an);
        } else {
            hid_t ab = H5Aopen(ob, an, H5P_DEFAULT);
            if (!same_values(aa, ab, 1, -1, -1, an, c->e)) note(c, "%s: attribute %s differs", p, an);
            H5Aclose(ab);
        }
        H5Aclose(aa);
    }
    H5Oclose(oa), H5Oclose(ob);
}

static herr_t visit(hid_t ga, const char *p, const H5O_info_t *info, void *op) {
    cmp_ctx *c = op;
    if (!strcmp(p, ".")) {
        obj_attrs(c, ga, ".");
        return 0;
    }
    if (H5Oexists_by_name(c->b, p, H5P_DEFAULT) <= 0) {
        note(c, "%s: missing in the other file", p);
        return 0;
    }
    H5O_info_t ib;
    H5Oget_info_by_name(c->b, p, &ib, H5P_DEFAULT);
    if (ib.type != info->type) {
        note(c, "%s: a %s here, not in the other file", p,
             info->type == H5O_TYPE_DATASET ? "dataset" : "group");
        return 0;
    }
    if (info->type == H5O_TYPE_DATASET) {
        hid_t da = H5Dopen2(ga, p, H5P_DEFAULT), db = H5Dopen2(c->b, p, H5P_DEFAULT);
        if (!same_values(da, db, 0, ga, c->b, p, c->e)) note(c, "%s: values differ", p);
        H5Dclose(da), H5Dclose(db);
    }
    obj_attrs(c, ga, p);
    return 0;
}

/* Objects of b's group that a's lacks. */
typedef struct extra_ctx {
    hid_t a;
    cmp_ctx *c;
} extra_ctx;
static herr_t visit_extra(hid_t gb, const char *p, const H5O_info_t *info, void *op) {
    (void)gb, (void)info;
    extra_ctx *x = op;
    if (strcmp(p, ".") && H5Oexists_by_name(x->a, p, H5P_DEFAULT) <= 0)
        note(x->c, "%s: only in the other file", p);
    return 0;
}

/* s's row index in f's `seeds`, -1 when absent. */
static int seed_row(hid_t f, const char *path, int64_t s, int *S, ub_err *e) {
    int rank;
    hsize_t d[8];
    H5T_class_t cls;
    if (ub_h5_shape(f, "seeds", path, &rank, d, &cls, e)) return -2;
    int64_t *v = calloc(d[0] + 1, sizeof(int64_t));
    int row = -1;
    if (v && !ub_h5_read(f, "seeds", path, H5T_NATIVE_INT64, v, 1, d, e))
        for (hsize_t i = 0; i < d[0]; i++)
            if (v[i] == s) row = (int)i;
    *S = (int)d[0];
    free(v);
    return row;
}

/* s's metrics rows of a and b, and their (models, metrics) shape. */
static ub_status metric_rows(hid_t fa, hid_t fb, const char *a, const char *b, int64_t s,
                             double **ra, double **rb, hsize_t *mk, ub_err *e) {
    hsize_t da[8], db[8];
    int rank;
    H5T_class_t cls;
    int Sa, Sb, ia = seed_row(fa, a, s, &Sa, e), ib = seed_row(fb, b, s, &Sb, e);
    if (ia == -2 || ib == -2) return e->code;
    if (ia < 0 || ib < 0)
        return ub_fail(e, UB_EARG, "seed %lld is not in %s", (long long)s, ia < 0 ? a : b);
    ub_status st = ub_h5_shape(fa, "metrics", a, &rank, da, &cls, e);
    if (!st) st = ub_h5_shape(fb, "metrics", b, &rank, db, &cls, e);
    if (st) return st;
    if (da[1] != db[1] || da[2] != db[2])
        return ub_fail(e, UB_EFORMAT, "%s and %s hold different models or metrics", a, b);
    mk[0] = da[1], mk[1] = da[2];
    size_t row = (size_t)(da[1] * da[2]);
    double *xa = malloc(((size_t)Sa * row + 1) * sizeof(double));
    double *xb = malloc(((size_t)Sb * row + 1) * sizeof(double));
    if (!xa || !xb) st = ub_fail(e, UB_ENOMEM, "out of memory");
    if (!st) st = ub_h5_read(fa, "metrics", a, H5T_NATIVE_DOUBLE, xa, 3, da, e);
    if (!st) st = ub_h5_read(fb, "metrics", b, H5T_NATIVE_DOUBLE, xb, 3, db, e);
    if (!st) {
        memmove(xa, xa + (size_t)ia * row, row * sizeof(double));
        memmove(xb, xb + (size_t)ib * row, row * sizeof(double));
        *ra = xa, *rb = xb;
        return UB_OK;
    }
    free(xa), free(xb);
    return st;
}

static ub_status open_both(const char *a, const char *b, hid_t *fa, hid_t *fb, ub_err *e) {
    *fa = *fb = -1;
    ub_status st = ub_h5_open(fa, a, e);
    if (!st) st = ub_h5_open(fb, b, e);
    if (st && *fa >= 0) H5Fclose(*fa), *fa = -1;
    return st;
}

ub_status res_compare_seed(const char *a, const char *b, int64_t s, int *n_diff, char *diff,
                           size_t cap, ub_err *e) {
    hid_t fa, fb;
    ub_status st = open_both(a, b, &fa, &fb, e);
    if (st) return st;
    char g[64];
    snprintf(g, sizeof g, "seed_%lld", (long long)s);
    cmp_ctx c = {-1, 0, diff, cap, 0, e};
    if (cap) diff[0] = '\0';
    if (H5Lexists(fa, g, H5P_DEFAULT) <= 0 || H5Lexists(fb, g, H5P_DEFAULT) <= 0)
        st = ub_fail(e, UB_EFORMAT, "/%s is missing in %s", g,
                     H5Lexists(fa, g, H5P_DEFAULT) <= 0 ? a : b);
    hid_t ga = st ? -1 : H5Gopen2(fa, g, H5P_DEFAULT);
    c.b = st ? -1 : H5Gopen2(fb, g, H5P_DEFAULT);
    if (!st) {
        H5Ovisit(ga, H5_INDEX_NAME, H5_ITER_INC, visit, &c);
        extra_ctx x = {ga, &c};
        H5Ovisit(c.b, H5_INDEX_NAME, H5_ITER_INC, visit_extra, &x);
    }
    if (ga >= 0) H5Gclose(ga);
    if (c.b >= 0) H5Gclose(c.b);
    if (!st && (!same_strings(fa, fb, "model_names", e) || !same_strings(fa, fb, "metric_names", e)))
        note(&c, "model_names or metric_names differ");
    double *ra = NULL, *rb = NULL;
    hsize_t mk[2];
    if (!st && c.n == 0) st = metric_rows(fa, fb, a, b, s, &ra, &rb, mk, e);
    if (!st && ra && memcmp(ra, rb, (size_t)(mk[0] * mk[1]) * sizeof(double)))
        note(&c, "metrics of seed %lld differ", (long long)s);
    free(ra), free(rb);
    H5Fclose(fa), H5Fclose(fb);
    *n_diff = c.n;
    return st;
}

ub_status res_compare_metrics(const char *a, const char *b, int64_t s, double tol_range,
                              double tol_rel, int *n_diff, char *diff, size_t cap, ub_err *e) {
    hid_t fa, fb;
    ub_status st = open_both(a, b, &fa, &fb, e);
    if (st) return st;
    cmp_ctx c = {-1, 0, diff, cap, 0, e};
    if (cap) diff[0] = '\0';
    if (!same_strings(fa, fb, "model_names", e) || !same_strings(fa, fb, "metric_names", e))
        st = ub_fail(e, UB_EFORMAT, "%s and %s hold different models or metrics", a, b);
    double *ra = NULL, *rb = NULL, *range = NULL;
    hsize_t mk[2];
    if (!st) st = metric_rows(fa, fb, a, b, s, &ra, &rb, mk, e);
    strs mn = {0}, kn = {0};
    size_t n;
    if (!st) {
        range = malloc((2 * mk[1] + 1) * sizeof(double));
        hsize_t dr[2] = {mk[1], 2};
        if (!range) st = ub_fail(e, UB_ENOMEM, "out of memory");
        if (!st) st = ub_h5_read(fa, "metric_range", a, H5T_NATIVE_DOUBLE, range, 2, dr, e);
        if (!st) st = ub_h5_read_strings(fa, "model_names", a, 0, &n, take_str, &mn, e);
        if (!st) st = ub_h5_read_strings(fa, "metric_names", a, 0, &n, take_str, &kn, e);
    }
    const char *mname = mn.buf;
    for (hsize_t m = 0; !st && m < mk[0]; m++, mname += strlen(mname) + 1) {
        const char *kname = kn.buf;
        for (hsize_t k = 0; k < mk[1]; k++, kname += strlen(kname) + 1) {
            double x = ra[m * mk[1] + k], y = rb[m * mk[1] + k];
            double lo = range[2 * k], hi = range[2 * k + 1];
            if (!strncmp(kname, "cost_", 5) || !strncmp(kname, "seconds", 7)) continue;
            if (isnan(x) && isnan(y)) continue;
            double tol = isfinite(lo) && isfinite(hi) ? tol_range * (hi - lo)
                                                      : tol_rel * fmax(fabs(x), fabs(y));
            if (!(fabs(x - y) <= tol))
                note(&c, "%s %s: %.6g here, %.6g re-run (tolerance %.3g)", mname, kname, x, y, tol);
        }
    }
    free(mn.buf), free(kn.buf), free(ra), free(rb), free(range);
    H5Fclose(fa), H5Fclose(fb);
    *n_diff = c.n;
    return st;
}

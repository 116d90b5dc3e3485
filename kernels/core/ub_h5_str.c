/* kernels/core/ub_h5_str.c: 1-D string datasets (variable-length UTF-8, what h5py reads with
 * .asstr()), each with the SHA-256 of its strings: they live in HDF5's global heap, which
 * Fletcher-32 does not cover, so the hash is what tells a changed byte there. */
#include "ub.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hid_t vlen_utf8(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* The hex of a finished SHA-256 digest (and the context freed). */
static void digest_hex(EVP_MD_CTX *md, char hex[65]) {
    unsigned char dg[32];
    unsigned len = 0;
    EVP_DigestFinal_ex(md, dg, &len);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", dg[i]);
}

/* SHA-256 of n strings, each followed by a NUL (NULL counts as ""). */
static void strings_sha256(const char *const *strs, size_t n, char hex[65]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++) {
        const char *x = strs[i] ? strs[i] : "";
        EVP_DigestUpdate(md, x, strlen(x) + 1);
    }
    digest_hex(md, hex);
}

ub_status ub_h5_write_strings(hid_t loc, const char *name, const char *const *strs, size_t n,
                              ub_err *e) {
    hsize_t d = n;
    hid_t t = vlen_utf8();
    hid_t space = H5Screate_simple(1, &d, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    if (n > 0) { /* chunked so the dataset can be read in pieces; VL data lives in the heap */
        hsize_t chunk = n < 65536 ? n : 65536;
        H5Pset_chunk(dcpl, 1, &chunk);
    }
    const char **tmp = NULL;
    ub_status st = UB_OK;
    for (size_t i = 0; i < n && !tmp; i++)
        if (!strs[i]) { /* HDF5 wants real pointers: NULL becomes "" */
            tmp = malloc(n * sizeof *tmp);
            if (!tmp) st = ub_fail(e, UB_ENOMEM, "out of memory writing %s", name);
            for (size_t j = 0; tmp && j < n; j++) tmp[j] = strs[j] ? strs[j] : "";
        }
    hid_t ds = st ? -1 : H5Dcreate2(loc, name, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = -1;
    if (ds >= 0 && n > 0) rc = H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp ? tmp : strs);
    if (ds >= 0 && n == 0) rc = 0;
    /* the strings live in the file's global heap, which Fletcher-32 does not cover: a SHA-256
     * of them (each followed by a NUL) as the dataset's attribute `sha256`, checked on read */
    char hex[65];
    if (ds >= 0 && rc >= 0) {
        strings_sha256(tmp ? tmp : (const char **)strs, n, hex);
        st = ub_h5_attr_str(ds, "sha256", hex, e);
    }
    if (ds >= 0) H5Dclose(ds);
    free(tmp);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(t);
    if (!st && (ds < 0 || rc < 0)) st = ub_h5_write_failed(loc, "string dataset", name, e);
    return st;
}

ub_status ub_h5_read_strings(hid_t loc, const char *name, const char *file, size_t n_expect,
                             size_t *n_out, ub_h5_str_fn fn, void *ctx, ub_err *e) {
    int rank;
    hsize_t dims[8];
    H5T_class_t cls;
    ub_status st = ub_h5_shape(loc, name, file, &rank, dims, &cls, e);
    if (st) return st;
    if (cls != H5T_STRING || rank != 1)
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s must be a 1-D string dataset", file, name);
    if (n_expect && dims[0] != n_expect)
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s has %llu entries, expected %zu", file, name,
                       (unsigned long long)dims[0], n_expect);
    if (n_out) *n_out = dims[0];
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    /* the SHA-256 the writer stored (files from before it existed have none) */
    char want[80] = "";
    if (H5Aexists(ds, "sha256") > 0 &&
        ub_h5_get_str(ds, "sha256", file, want, sizeof want, e) != UB_OK) {
        H5Dclose(ds);
        return e->code;
    }
    EVP_MD_CTX *md = want[0] ? EVP_MD_CTX_new() : NULL;
    if (md) EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    hid_t t = vlen_utf8();
    hid_t fspace = H5Dget_space(ds);
    const hsize_t block = 65536; /* read in pieces: bounded memory for large corpora */
    char **buf = malloc(block * sizeof *buf);
    if (!buf) st = ub_fail(e, UB_ENOMEM, "out of memory reading %s", name);
    for (hsize_t i0 = 0; !st && i0 < dims[0]; i0 += block) {
        hsize_t cnt = dims[0] - i0 < block ? dims[0] - i0 : block;
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &i0, NULL, &cnt, NULL);
        hid_t mspace = H5Screate_simple(1, &cnt, NULL);
        if (H5Dread(ds, t, mspace, fspace, H5P_DEFAULT, buf) < 0) {
            st = ub_fail(e, UB_EFORMAT, "%s: dataset %s cannot be read (truncated?)", file, name);
        } else {
            for (hsize_t j = 0; j < cnt; j++) {
                if (!st) {
                    const char *s = buf[j] ? buf[j] : "";
                    if (md) EVP_DigestUpdate(md, s, strlen(s) + 1);
                    st = fn(ctx, (size_t)(i0 + j), s, strlen(s), e);
                }
            }
            H5Dvlen_reclaim(t, mspace, H5P_DEFAULT, buf);
        }
        H5Sclose(mspace);
    }
    free(buf);
    if (md) {
        char hex[65];
        digest_hex(md, hex);
        if (!st && strcmp(hex, want))
            st = ub_fail(e, UB_EFORMAT, "%s: dataset %s fails its SHA-256 check (its strings "
                         "changed after writing: the file is corrupted)", file, name);
    }
    H5Sclose(fspace);
    H5Tclose(t);
    H5Dclose(ds);
    return st;
}

/* kernels/core/ub_h5.c: HDF5 helpers (see ub.h). All HDF5 calls happen on one thread: the serial
 * library holds a global lock, and none of these helpers is called from an OpenMP region. */
#include "ub.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ub_h5_quiet(void) {
    /* No library shutdown at exit: every file we write is closed by commit or abort, and after
     * a failed write (disk full, a file size limit) HDF5 1.10 keeps the broken file in its
     * tables and crashes closing it again at exit, turning a clean error into a segfault. */
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

ub_status ub_h5_write_failed(hid_t loc, const char *kind, const char *name, ub_err *e) {
    char file[4096] = "?";
    if (H5Fget_name(loc, file, sizeof file) < 0) snprintf(file, sizeof file, "?");
    return ub_fail(e, UB_EIO, "%s: cannot write %s %s (disk full, quota or file size limit?)",
                   file, kind, name);
}

/* File-access properties: HDF5 1.8+ object format (lifts the 64 KiB attribute limit). */
static hid_t fapl_new(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    return fapl;
}

ub_status ub_h5_create(ub_h5out *o, const char *path, ub_err *e) {
    o->file = -1;
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
        return ub_fail(e, UB_EARG, "%s: path too long", path);
    /* the process id keeps two processes that write the same file (grid tasks sharing a
     * model cache) out of each other's temporary file; the rename is atomic either way */
    ub_tmp_name(path, o->tmp, sizeof o->tmp);
    /* HDF5 builds the file in memory (the core driver) and writes it out at commit: a full disk
     * or a file size limit then fails that one write, never a write in the middle of an
     * operation, whose error paths in libhdf5 1.10 crash (H5Ocopy's chunk copy) */
    hid_t fapl = fapl_new();
    H5Pset_fapl_core(fapl, (size_t)1 << 20, 1);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0); /* the root group, too, without timestamps */
    H5Pset_userblock(fcpl, UB_H5_SEAL_BYTES); /* room for the seal (ub_h5_seal.c) */
    o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fapl);
    H5Pclose(fcpl);
    if (o->file < 0)
        return ub_fail(e, UB_EIO, "%s: cannot create file (%s)", o->tmp,
                       errno ? strerror(errno) : "HDF5 error");
    return UB_OK;
}

static int fsync_path(const char *path, int dir) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

ub_status ub_h5_commit(ub_h5out *o, ub_err *e) {
    if (o->file < 0) return ub_fail(e, UB_EINTERNAL, "%s: commit without an open file", o->path);
    herr_t fl = H5Fflush(o->file, H5F_SCOPE_GLOBAL);
    herr_t cl = H5Fclose(o->file);
    o->file = -1;
    if (fl < 0 || cl < 0) {
        unlink(o->tmp);
        return ub_fail(e, UB_EIO, "%s: cannot write the file (disk full, quota or file size "
                       "limit?)", o->tmp);
    }
    ub_status st = ub_h5_seal(o->tmp, e);
    if (st) {
        unlink(o->tmp);
        return st;
    }
    if (fsync_path(o->tmp, 0) != 0) {
        int err = errno;
        unlink(o->tmp);
        return ub_fail(e, UB_EIO, "%s: fsync failed: %s", o->tmp, strerror(err));
    }
    if (rename(o->tmp, o->path) != 0) {
        int err = errno;
        unlink(o->tmp);
        return ub_fail(e, UB_EIO, "%s: cannot rename to %s: %s", o->tmp, o->path, strerror(err));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", o->path);
    fsync_path(dirname(dir), 1); /* make the rename itself durable; best effort */
    return UB_OK;
}

void ub_h5_abort(ub_h5out *o) {
    if (o->file >= 0) H5Fclose(o->file);
    o->file = -1;
    unlink(o->tmp);
}

static ub_status open_mode(hid_t *file, const char *path, unsigned mode, ub_err *e) {
    *file = -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return ub_fail(e, UB_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ub_fail(e, UB_EIO, "%s: is a directory", path);
    FILE *f = fopen(path, mode == H5F_ACC_RDONLY ? "rb" : "r+b");
    if (!f) return ub_fail(e, UB_EIO, "%s: %s", path, strerror(errno));
    fclose(f);
    ub_status sst = ub_h5_check_seal(path, e);
    if (sst) return sst;
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) return ub_fail(e, UB_EFORMAT, "%s: not an HDF5 file", path);
    hid_t fapl = fapl_new();
    *file = H5Fopen(path, mode, fapl);
    H5Pclose(fapl);
    /* H5Fis_hdf5 only reads the superblock; H5Fopen notices a file cut short. */
    if (*file < 0)
        return ub_fail(e, UB_EFORMAT, "%s: HDF5 file is truncated or damaged (cannot open)",
                       path);
    return UB_OK;
}

ub_status ub_h5_open(hid_t *file, const char *path, ub_err *e) {
    return open_mode(file, path, H5F_ACC_RDONLY, e);
}

ub_status ub_h5_check_format(hid_t file, const char *path, const char *format, int version,
                             const char *what, ub_err *e) {
    char fmt[64] = "";
    ub_err tmp = {0}; /* a missing or odd attribute gets the one message below */
    if (H5Aexists(file, "format") <= 0 ||
        ub_h5_get_str(file, "format", path, fmt, sizeof fmt, &tmp) || strcmp(fmt, format) != 0)
        return ub_fail(e, UB_EFORMAT, "%s: not an unlearnbench %s (root attribute format != "
                       "'%s')", path, what, format);
    int64_t ver = 0;
    ub_status st = ub_h5_get_i64(file, "format_version", path, &ver, e);
    if (!st && ver != version)
        st = ub_fail(e, UB_EFORMAT, "%s: %s format_version %lld, this build reads %d", path, what,
                     (long long)ver, version);
    return st;
}

hid_t ub_h5_group(hid_t loc, const char *name, ub_err *e) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0) ub_fail(e, UB_EIO, "cannot create group %s", name);
    return g;
}

int ub_h5_exists(hid_t loc, const char *name) {
    /* H5Lexists fails on a missing intermediate group; walk the path one component at a time. */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf + (buf[0] == '/'); ; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
            if (c == '\0') return 1;
            *p = '/';
        }
    }
}

static hid_t file_type_for(hid_t memtype) {
    if (H5Tequal(memtype, H5T_NATIVE_FLOAT) > 0) return H5T_IEEE_F32LE;
    if (H5Tequal(memtype, H5T_NATIVE_DOUBLE) > 0) return H5T_IEEE_F64LE;
    if (H5Tequal(memtype, H5T_NATIVE_INT32) > 0) return H5T_STD_I32LE;
    if (H5Tequal(memtype, H5T_NATIVE_INT64) > 0) return H5T_STD_I64LE;
    if (H5Tequal(memtype, H5T_NATIVE_UINT8) > 0) return H5T_STD_U8LE;
    if (H5Tequal(memtype, H5T_NATIVE_INT8) > 0) return H5T_STD_I8LE;
    return -1;
}

ub_status ub_h5_write(hid_t loc, const char *name, hid_t memtype, const void *data, int rank,
                      const hsize_t *dims, int compress, ub_err *e) {
    hid_t ftype = file_type_for(memtype);
    if (ftype < 0) return ub_fail(e, UB_EINTERNAL, "%s: unsupported memory type", name);
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if (rank > 0 && total > 0) {
        /* Chunks of about 1 MiB along the first dimension; Fletcher-32 needs chunking. */
        hsize_t chunk[8];
        size_t esize = H5Tget_size(memtype);
        hsize_t row = esize;
        for (int i = 1; i < rank; i++) row *= dims[i];
        hsize_t rows = (1u << 20) / (row ? row : 1);
        if (rows < 1) rows = 1;
        chunk[0] = dims[0] < rows ? dims[0] : rows;
        for (int i = 1; i < rank; i++) chunk[i] = dims[i];
        /* Chunk bytes must stay below 4 GiB; shrink trailing dims if a single row is huge. */
        H5Pset_chunk(dcpl, rank, chunk);
        if (compress) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 4);
        }
        H5Pset_fletcher32(dcpl);
    }
    hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = -1;
    if (ds >= 0) rc = H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (ds < 0 || rc < 0) return ub_h5_write_failed(loc, "dataset", name, e);
    return UB_OK;
}

ub_status ub_h5_shape(hid_t loc, const char *name, const char *file, int *rank, hsize_t *dims,
                      H5T_class_t *cls, ub_err *e) {
    if (!ub_h5_exists(loc, name))
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s is missing", file, name);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return ub_fail(e, UB_EFORMAT, "%s: %s is not a dataset", file, name);
    hid_t space = H5Dget_space(ds);
    int r = H5Sget_simple_extent_ndims(space);
    if (r < 0 || r > 8) {
        H5Sclose(space);
        H5Dclose(ds);
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s has unsupported rank", file, name);
    }
    H5Sget_simple_extent_dims(space, dims, NULL);
    hid_t t = H5Dget_type(ds);
    if (cls) *cls = H5Tget_class(t);
    *rank = r;
    H5Tclose(t);
    H5Sclose(space);
    H5Dclose(ds);
    return UB_OK;
}

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    default: return "non-numeric";
    }
}

static ub_status check_dataset(hid_t loc, const char *name, const char *file, hid_t memtype,
                               int rank, const hsize_t *expect, hsize_t *dims, ub_err *e) {
    int r;
    H5T_class_t cls;
    ub_status st = ub_h5_shape(loc, name, file, &r, dims, &cls, e);
    if (st) return st;
    H5T_class_t want = H5Tget_class(memtype);
    if (cls != want)
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s has dtype %s, expected %s", file, name,
                       class_name(cls), class_name(want));
    if (rank >= 0 && r != rank)
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s has rank %d, expected %d", file, name, r,
                       rank);
    for (int i = 0; expect && i < r; i++)
        if (expect[i] && dims[i] != expect[i])
            return ub_fail(e, UB_EFORMAT,
                           "%s: dataset %s has dimension %d of size %llu, expected %llu", file,
                           name, i, (unsigned long long)dims[i], (unsigned long long)expect[i]);
    return UB_OK;
}

ub_status ub_h5_read(hid_t loc, const char *name, const char *file, hid_t memtype, void *out,
                     int rank, const hsize_t *expect_dims, ub_err *e) {
    hsize_t dims[8];
    ub_status st = check_dataset(loc, name, file, memtype, rank, expect_dims, dims, e);
    if (st) return st;
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    herr_t rc = H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(ds);
    if (rc < 0)
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s cannot be read (truncated or checksum "
                       "mismatch)", file, name);
    return UB_OK;
}

ub_status ub_h5_read_rows(hid_t loc, const char *name, const char *file, hid_t memtype,
                          void *out, hsize_t row0, hsize_t nrows, ub_err *e) {
    hsize_t dims[8];
    ub_status st = check_dataset(loc, name, file, memtype, -1, NULL, dims, e);
    if (st) return st;
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t fspace = H5Dget_space(ds);
    int r = H5Sget_simple_extent_ndims(fspace);
    if (row0 + nrows > dims[0]) {
        H5Sclose(fspace);
        H5Dclose(ds);
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s has %llu rows, asked for %llu..%llu", file,
                       name, (unsigned long long)dims[0], (unsigned long long)row0,
                       (unsigned long long)(row0 + nrows));
    }
    hsize_t start[8] = {0}, count[8];
    start[0] = row0;
    count[0] = nrows;
    for (int i = 1; i < r; i++) count[i] = dims[i];
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t mspace = H5Screate_simple(r, count, NULL);
    herr_t rc = H5Dread(ds, memtype, mspace, fspace, H5P_DEFAULT, out);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Dclose(ds);
    if (rc < 0)
        return ub_fail(e, UB_EFORMAT, "%s: dataset %s cannot be read (truncated or checksum "
                       "mismatch)", file, name);
    return UB_OK;
}

static ub_status attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                            const void *v, ub_err *e) {
    hid_t space = H5Screate(H5S_SCALAR);
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a >= 0 ? H5Awrite(a, mtype, v) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    if (rc < 0) return ub_h5_write_failed(obj, "attribute", name, e);
    return UB_OK;
}

ub_status ub_h5_attr_i64(hid_t obj, const char *name, int64_t v, ub_err *e) {
    return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, e);
}

ub_status ub_h5_attr_f64(hid_t obj, const char *name, double v, ub_err *e) {
    return attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, e);
}

ub_status ub_h5_attr_str(hid_t obj, const char *name, const char *v, ub_err *e) {
    /* Variable-length UTF-8: h5py reads it as str. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    ub_status st = attr_write(obj, name, t, t, &v, e);
    H5Tclose(t);
    return st;
}

static ub_status attr_open(hid_t obj, const char *name, const char *file, hid_t *a, ub_err *e) {
    *a = -1;
    if (H5Aexists(obj, name) <= 0)
        return ub_fail(e, UB_EFORMAT, "%s: attribute %s is missing", file, name);
    *a = H5Aopen(obj, name, H5P_DEFAULT);
    if (*a < 0) return ub_fail(e, UB_EFORMAT, "%s: attribute %s cannot be opened", file, name);
    return UB_OK;
}

static ub_status attr_num(hid_t obj, const char *name, const char *file, hid_t mtype, void *v,
                          ub_err *e) {
    hid_t a = -1;
    ub_status st = attr_open(obj, name, file, &a, e);
    if (st) return st;
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    hid_t sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    herr_t rc = -1;
    if ((c == H5T_INTEGER || c == H5T_FLOAT) && n == 1) rc = H5Aread(a, mtype, v);
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    if (rc < 0)
        return ub_fail(e, UB_EFORMAT, "%s: attribute %s is not a number", file, name);
    return UB_OK;
}

ub_status ub_h5_get_i64(hid_t obj, const char *name, const char *file, int64_t *v, ub_err *e) {
    return attr_num(obj, name, file, H5T_NATIVE_INT64, v, e);
}

ub_status ub_h5_get_f64(hid_t obj, const char *name, const char *file, double *v, ub_err *e) {
    return attr_num(obj, name, file, H5T_NATIVE_DOUBLE, v, e);
}

ub_status ub_h5_get_str(hid_t obj, const char *name, const char *file, char *buf, size_t len,
                        ub_err *e) {
    hid_t a = -1;
    ub_status st = attr_open(obj, name, file, &a, e);
    if (st) return st;
    hid_t t = H5Aget_type(a);
    st = UB_OK;
    if (H5Tget_class(t) != H5T_STRING) {
        st = ub_fail(e, UB_EFORMAT, "%s: attribute %s is not a string", file, name);
    } else if (H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        char *s = NULL;
        if (H5Aread(a, mt, &s) < 0 || !s) {
            st = ub_fail(e, UB_EFORMAT, "%s: attribute %s cannot be read", file, name);
        } else {
            snprintf(buf, len, "%s", s);
            H5free_memory(s);
        }
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(t);
        char *tmp = calloc(sz + 1, 1);
        if (!tmp || H5Aread(a, t, tmp) < 0)
            st = ub_fail(e, UB_EFORMAT, "%s: attribute %s cannot be read", file, name);
        else
            snprintf(buf, len, "%s", tmp);
        free(tmp);
    }
    H5Tclose(t);
    H5Aclose(a);
    return st;
}

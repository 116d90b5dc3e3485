/* kernels/core/ub.h: the core every layer above the kernels shares (library ub_core).
 *   - status codes and a one-line error message carried in an explicit ub_err struct;
 *   - HDF5 helpers: atomic output files (NAME.tmp, fsync, rename), typed reads that check dtype
 *     and shape, attributes, reproducible bytes (no object timestamps);
 *   - a counter-based RNG (Philox4x32-10 from Random123): the numbers depend only on
 *     (seed, stream, counter), never on thread count or call order across streams;
 *   - SHA-256 of byte ranges and files (OpenSSL EVP) for content hashes;
 *   - a sink for progress lines (ub_log), so that libraries report progress without printing.
 * Library code returns a ub_status and fills ub_err; only the CLI prints the message and exits.
 */
#ifndef UB_CORE_H
#define UB_CORE_H

#include <hdf5.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    UB_OK = 0,
    UB_EIO,        /* a file is missing, unreadable or could not be written */
    UB_EFORMAT,    /* a file's content is wrong: not HDF5, truncated, wrong dtype/shape/value */
    UB_EARG,       /* a bad argument, option or configuration value */
    UB_ENOMEM,     /* an allocation failed */
    UB_ENUMERIC,   /* NaN or Inf appeared (training diverged) */
    UB_EINTERNAL   /* a bug: should not happen */
} ub_status;

typedef struct ub_err {
    ub_status code;
    char msg[1024];
} ub_err;

const char *ub_status_str(ub_status s);
/* Record a formatted message (first one wins) and return code. */
ub_status ub_fail(ub_err *e, ub_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ub_err_clear(ub_err *e);

/* Allocation helpers that fail with a message naming what was allocated. */
void *ub_malloc(size_t bytes, const char *what, ub_err *e);
void *ub_calloc(size_t n, size_t size, const char *what, ub_err *e);

/* --------------------------------------------------------------------------------------------
 * HDF5
 * -------------------------------------------------------------------------------------------- */
/* Silence HDF5's own stack dumps (our one-line messages replace them) and skip its shutdown at
 * exit (ub_h5.c says why). Call once at start, before any other HDF5 call. */
void ub_h5_quiet(void);

/* An output file being written under a temporary name. */
typedef struct ub_h5out {
    hid_t file;
    char path[4096];
    char tmp[4200];
} ub_h5out;
/* Create path.tmp (truncating an old one). */
ub_status ub_h5_create(ub_h5out *o, const char *path, ub_err *e);
/* Flush, close, fsync, rename over path, fsync the directory. The file is closed either way. */
ub_status ub_h5_commit(ub_h5out *o, ub_err *e);
/* Close and remove the temporary file (on error paths). */
void ub_h5_abort(ub_h5out *o);

/* Every file ub_h5_commit writes is sealed: HDF5 starts 512 bytes in (a user block, which HDF5
 * and h5py skip), and those 512 bytes say, as text, the SHA-256 and length of the rest
 * (ub_h5_seal.c; bench/FORMAT.md). ub_h5_open checks the seal before HDF5 reads a byte, so a
 * changed byte anywhere in the file is an error naming it. Files other tools write (HDF5 from
 * offset 0, no seal) are read as they are. */
#define UB_H5_SEAL_BYTES 512
/* Write the seal into the user block of the closed file at path. */
ub_status ub_h5_seal(const char *path, ub_err *e);
/* UB_OK for a sealed file whose seal holds and for a plain HDF5 file, else one error naming the
 * path (seal damaged, bytes changed, length changed). */
ub_status ub_h5_check_seal(const char *path, ub_err *e);

/* Open an existing file read-only; a missing file, a non-HDF5 file, a broken seal and a
 * truncated file each get their own message naming the path. */
ub_status ub_h5_open(hid_t *file, const char *path, ub_err *e);

/* Check the root attributes `format` == format and `format_version` == version of an open file;
 * `what` names the kind in the message ("checkpoint", "corpus"). */
ub_status ub_h5_check_format(hid_t file, const char *path, const char *format, int version,
                             const char *what, ub_err *e);

/* Create a group without timestamps. Returns <0 on failure (message in e). */
hid_t ub_h5_group(hid_t loc, const char *name, ub_err *e);
/* Does link `name` exist under loc? (intermediate groups are checked too) */
int ub_h5_exists(hid_t loc, const char *name);

/* "FILE: cannot write KIND NAME (disk full, ...)" with the file loc belongs to: a failed write
 * names the file it went to. Returns UB_EIO. */
ub_status ub_h5_write_failed(hid_t loc, const char *kind, const char *name, ub_err *e);

/* Write a dataset. memtype is a native type (H5T_NATIVE_FLOAT, _INT32, _INT64, _DOUBLE).
 * rank 0 writes a scalar. Chunked with a Fletcher-32 checksum so silent corruption is caught on
 * read; compress adds shuffle+deflate (for integer data). */
ub_status ub_h5_write(hid_t loc, const char *name, hid_t memtype, const void *data, int rank,
                      const hsize_t *dims, int compress, ub_err *e);
/* Shape of dataset `name`: rank and dims (up to 8) and class (H5T_FLOAT / H5T_INTEGER). */
ub_status ub_h5_shape(hid_t loc, const char *name, const char *file, int *rank, hsize_t *dims,
                      H5T_class_t *cls, ub_err *e);
/* Read a whole dataset after checking its class and shape. expect_dims entries equal to 0 mean
 * "any". `file` only names the file in messages. */
ub_status ub_h5_read(hid_t loc, const char *name, const char *file, hid_t memtype, void *out,
                     int rank, const hsize_t *expect_dims, ub_err *e);
/* Read rows [row0, row0+nrows) of a dataset whose first dimension is rows. */
ub_status ub_h5_read_rows(hid_t loc, const char *name, const char *file, hid_t memtype,
                          void *out, hsize_t row0, hsize_t nrows, ub_err *e);

/* Variable-length UTF-8 string datasets (h5py: ds.asstr()[...]). strs (n); NULL reads as "". */
ub_status ub_h5_write_strings(hid_t loc, const char *name, const char *const *strs, size_t n,
                              ub_err *e);
/* Read a 1-D string dataset of n_expect entries (0 = any; *n_out gets the count). Calls
 * fn(ctx, i, s, len) for each entry in order; a non-zero return stops with that status. */
typedef ub_status (*ub_h5_str_fn)(void *ctx, size_t i, const char *s, size_t len, ub_err *e);
ub_status ub_h5_read_strings(hid_t loc, const char *name, const char *file, size_t n_expect,
                             size_t *n_out, ub_h5_str_fn fn, void *ctx, ub_err *e);

/* Attributes (scalar). Getters fail with a message naming file, object and attribute. */
ub_status ub_h5_attr_i64(hid_t obj, const char *name, int64_t v, ub_err *e);
ub_status ub_h5_attr_f64(hid_t obj, const char *name, double v, ub_err *e);
ub_status ub_h5_attr_str(hid_t obj, const char *name, const char *v, ub_err *e);
ub_status ub_h5_get_i64(hid_t obj, const char *name, const char *file, int64_t *v, ub_err *e);
ub_status ub_h5_get_f64(hid_t obj, const char *name, const char *file, double *v, ub_err *e);
ub_status ub_h5_get_str(hid_t obj, const char *name, const char *file, char *buf, size_t len,
                        ub_err *e);

/* --------------------------------------------------------------------------------------------
 * Counter-based RNG
 * -------------------------------------------------------------------------------------------- */
typedef struct ub_rng {
    uint64_t seed, stream, counter; /* the whole state: save these three to resume */
    uint32_t buf[4];
    int have;                       /* unused words left in buf */
} ub_rng;
void ub_rng_init(ub_rng *r, uint64_t seed, uint64_t stream);
uint32_t ub_rng_u32(ub_rng *r);
uint64_t ub_rng_u64(ub_rng *r);
/* Uniform in [0,1) with 53 random bits. */
double ub_rng_uniform(ub_rng *r);
/* Standard normal (Box-Muller, both values used in turn). */
double ub_rng_normal(ub_rng *r);
/* Uniform integer in [0,n), unbiased. */
uint64_t ub_rng_below(ub_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx (n). */
void ub_rng_shuffle(ub_rng *r, int64_t *idx, int64_t n);

/* --------------------------------------------------------------------------------------------
 * Hashing and small utilities
 * -------------------------------------------------------------------------------------------- */
/* hex (65 bytes incl. NUL) = SHA-256 of data (n bytes). */
void ub_sha256_hex(const void *data, size_t n, char hex[65]);
/* hex = SHA-256 of the bytes of the file at path. */
ub_status ub_sha256_file(const char *path, char hex[65], ub_err *e);
/* hex = SHA-256 of the file's bytes from offset to its end; n_bytes (may be NULL) = how many. */
ub_status ub_sha256_file_at(const char *path, long offset, char hex[65], uint64_t *n_bytes,
                            ub_err *e);
/* out = "PATH.tmp.HOST.PID": the temporary name of a file being written by this process (host
 * and process id keep processes sharing a directory, even over NFS, out of each other's). */
void ub_tmp_name(const char *path, char *out, size_t cap);
/* 1 if the file name `name` (no directory) is a temporary name of this host whose process is
 * gone (a run killed while writing it), else 0. */
int ub_tmp_is_stale(const char *name);
/* Monotonic seconds. */
double ub_now(void);
/* Peak resident set size of this process in bytes (from getrusage). */
size_t ub_peak_rss(void);

/* Where progress lines go: the CLI prints them, a library only formats them. A NULL sink (or
 * line == NULL) drops them, which is how --quiet works. */
typedef struct ub_log {
    void (*line)(void *ctx, const char *text); /* one line, without its newline */
    void *ctx;
} ub_log;
void ub_logf(const ub_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

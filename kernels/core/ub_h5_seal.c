/* kernels/core/ub_h5_seal.c: the seal of every HDF5 file we write (see ub.h).
 *
 * Why: HDF5's Fletcher-32 covers dataset chunks, and the 1.8+ object format checksums object
 * headers, but the global heap (where variable-length strings live) has no checksum, and a
 * flipped byte in its bookkeeping can crash libhdf5 itself. A SHA-256 over the whole file,
 * checked before HDF5 parses it, covers every byte, names the file, and costs one read.
 *
 * Layout of the first UB_H5_SEAL_BYTES bytes (HDF5's user block, which HDF5 and h5py skip):
 *
 *   unlearnbench sealed HDF5 1\n
 *   sha256 <64 lowercase hex digits>\n
 *   bytes <decimal length of the rest>\n
 *   <one line saying how to check it by hand>\n
 *   NUL bytes up to 512
 *
 * The check rebuilds those 512 bytes from the digest and length it reads and compares all of
 * them, so a changed byte in the seal itself (padding included) is an error too. */
#include "ub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char magic[] = "unlearnbench sealed HDF5 1\n";
static const char hdf5_sig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

static void seal_text(char out[UB_H5_SEAL_BYTES], const char *hex, uint64_t n) {
    memset(out, 0, UB_H5_SEAL_BYTES);
    snprintf(out, UB_H5_SEAL_BYTES,
             "%ssha256 %s\nbytes %" PRIu64 "\n"
             "(the SHA-256 of this file after its first 512 bytes: tail -c +513 FILE | sha256sum;"
             " HDF5 starts at byte 512)\n",
             magic, hex, n);
}

ub_status ub_h5_seal(const char *path, ub_err *e) {
    char hex[65], block[UB_H5_SEAL_BYTES];
    uint64_t n = 0;
    ub_status st = ub_sha256_file_at(path, UB_H5_SEAL_BYTES, hex, &n, e);
    if (st) return st;
    seal_text(block, hex, n);
    FILE *f = fopen(path, "r+b");
    if (!f) return ub_fail(e, UB_EIO, "%s: cannot seal: %s", path, strerror(errno));
    int bad = fwrite(block, 1, sizeof block, f) != sizeof block;
    bad |= fclose(f) != 0;
    if (bad)
        return ub_fail(e, UB_EIO, "%s: cannot write the seal (disk full, quota or file size "
                       "limit?)", path);
    return UB_OK;
}

ub_status ub_h5_check_seal(const char *path, ub_err *e) {
    char block[UB_H5_SEAL_BYTES];
    FILE *f = fopen(path, "rb");
    if (!f) return ub_fail(e, UB_EIO, "%s: %s", path, strerror(errno));
    size_t got = fread(block, 1, sizeof block, f);
    fclose(f);
    if (got >= sizeof hdf5_sig && !memcmp(block, hdf5_sig, sizeof hdf5_sig))
        return UB_OK; /* a plain HDF5 file, as other tools write them */
    if (got < sizeof magic - 1 || memcmp(block, magic, sizeof magic - 1))
        return ub_fail(e, UB_EFORMAT, "%s: not an HDF5 file, or its unlearnbench seal (first "
                       "line) is damaged", path);
    if (got < sizeof block)
        return ub_fail(e, UB_EFORMAT, "%s: sealed file is truncated (%zu bytes)", path, got);
    char hex[65] = "";
    uint64_t n = 0;
    char want[UB_H5_SEAL_BYTES];
    int ok = sscanf(block + sizeof magic - 1, "sha256 %64[0-9a-f]\nbytes %" SCNu64, hex, &n) == 2;
    if (ok) seal_text(want, hex, n);
    if (!ok || memcmp(want, block, sizeof block))
        return ub_fail(e, UB_EFORMAT, "%s: the unlearnbench seal (first 512 bytes) is damaged",
                       path);
    char have[65];
    uint64_t m = 0;
    ub_status st = ub_sha256_file_at(path, UB_H5_SEAL_BYTES, have, &m, e);
    if (st) return st;
    if (m != n)
        return ub_fail(e, UB_EFORMAT, "%s: file is truncated or extended (%" PRIu64 " bytes after "
                       "the seal, the seal says %" PRIu64 ")", path, m, n);
    if (strcmp(have, hex))
        return ub_fail(e, UB_EFORMAT, "%s: bytes changed since it was written (SHA-256 %.16s..., "
                       "the seal says %.16s...)", path, have, hex);
    return UB_OK;
}

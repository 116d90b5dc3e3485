/* tests/fuzz/fuzz.h: what the fuzz targets share. Each target is one LLVMFuzzerTestOneInput
 * over a file our readers take by path: the input is written to a file of this process's own
 * and read back through the real entry point. Built with clang -fsanitize=fuzzer by
 * scripts/fuzz.sh, or with replay.c (any compiler) to run saved inputs in CTest. */
#ifndef UB_FUZZ_H
#define UB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* path = a file named `name` in this process's scratch directory, holding data (n bytes).
 * Returns 0, or -1 if it cannot be written (the input is then skipped). */
static inline int fuzz_file(const char *name, const uint8_t *data, size_t n, char *path,
                            size_t cap) {
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("UB_FUZZ_TMP");
        snprintf(dir, sizeof dir, "%s/ubfuzz-%ld", base ? base : "/tmp", (long)getpid());
        mkdir(dir, 0700);
        ub_h5_quiet();
    }
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int bad = n && fwrite(data, 1, n, f) != n;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

#endif

/* kernels/core/ub_core.c: status codes, allocation, RNG, hashing, clocks (see ub.h). */
#include "ub.h"

#include <Random123/philox.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

const char *ub_status_str(ub_status s) {
    switch (s) {
    case UB_OK: return "ok";
    case UB_EIO: return "i/o error";
    case UB_EFORMAT: return "bad file content";
    case UB_EARG: return "bad argument";
    case UB_ENOMEM: return "out of memory";
    case UB_ENUMERIC: return "numerical failure";
    case UB_EINTERNAL: return "internal error";
    }
    return "unknown status";
}

ub_status ub_fail(ub_err *e, ub_status code, const char *fmt, ...) {
    if (e && e->code == UB_OK) { /* keep the first, most specific message */
        e->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ub_err_clear(ub_err *e) {
    e->code = UB_OK;
    e->msg[0] = '\0';
}

void *ub_malloc(size_t bytes, const char *what, ub_err *e) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) ub_fail(e, UB_ENOMEM, "out of memory allocating %zu bytes for %s", bytes, what);
    return p;
}

void *ub_calloc(size_t n, size_t size, const char *what, ub_err *e) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) ub_fail(e, UB_ENOMEM, "out of memory allocating %zu x %zu bytes for %s", n, size, what);
    return p;
}

/* ---- RNG: Philox4x32-10, key = seed (64 bits), counter = (counter 64 bits, stream 64 bits) ---- */
void ub_rng_init(ub_rng *r, uint64_t seed, uint64_t stream) {
    r->seed = seed;
    r->stream = stream;
    r->counter = 0;
    r->have = 0;
}

static void rng_refill(ub_rng *r) {
    philox4x32_ctr_t c = {{(uint32_t)r->counter, (uint32_t)(r->counter >> 32), (uint32_t)r->stream,
                           (uint32_t)(r->stream >> 32)}};
    philox4x32_key_t k = {{(uint32_t)r->seed, (uint32_t)(r->seed >> 32)}};
    philox4x32_ctr_t out = philox4x32(c, k);
    memcpy(r->buf, out.v, sizeof r->buf);
    r->counter++;
    r->have = 4;
}

uint32_t ub_rng_u32(ub_rng *r) {
    if (r->have == 0) rng_refill(r);
    return r->buf[4 - r->have--];
}

uint64_t ub_rng_u64(ub_rng *r) {
    uint64_t hi = ub_rng_u32(r);
    return (hi << 32) | ub_rng_u32(r);
}

double ub_rng_uniform(ub_rng *r) { return (double)(ub_rng_u64(r) >> 11) * 0x1.0p-53; }

double ub_rng_normal(ub_rng *r) {
    /* Box-Muller, one value per call: simpler state (no cached second value to save). */
    double u1 = ub_rng_uniform(r), u2 = ub_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

uint64_t ub_rng_below(ub_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do x = ub_rng_u64(r);
    while (x >= limit);
    return x % n;
}

void ub_rng_shuffle(ub_rng *r, int64_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ub_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

void ub_sha256_hex(const void *data, size_t n, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
}

ub_status ub_sha256_file(const char *path, char hex[65], ub_err *e) {
    return ub_sha256_file_at(path, 0, hex, NULL, e);
}

ub_status ub_sha256_file_at(const char *path, long offset, char hex[65], uint64_t *n_bytes,
                            ub_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return ub_fail(e, UB_EIO, "cannot open %s", path);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ub_status st = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL)
                       ? UB_OK
                       : ub_fail(e, UB_ENOMEM, "%s: cannot start SHA-256", path);
    if (!st && fseek(f, offset, SEEK_SET) != 0) st = ub_fail(e, UB_EIO, "cannot read %s", path);
    unsigned char buf[1 << 16];
    size_t n;
    uint64_t total = 0;
    while (!st && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(md, buf, n);
        total += n;
    }
    if (!st && ferror(f)) st = ub_fail(e, UB_EIO, "cannot read %s", path);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!st) EVP_DigestFinal_ex(md, out, &len);
    for (unsigned i = 0; !st && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", out[i]);
    if (!st) hex[64] = '\0';
    if (n_bytes) *n_bytes = total;
    EVP_MD_CTX_free(md);
    fclose(f);
    return st;
}

static void host_name(char *h, size_t cap) {
    if (gethostname(h, cap) != 0) snprintf(h, cap, "localhost");
    h[cap - 1] = '\0';
    for (char *p = h; *p; p++)
        if (*p == '.' || *p == '/') *p = '_'; /* one field of the name */
}

void ub_tmp_name(const char *path, char *out, size_t cap) {
    char h[64];
    host_name(h, sizeof h);
    snprintf(out, cap, "%s.tmp.%s.%ld", path, h, (long)getpid());
}

int ub_tmp_is_stale(const char *name) {
    char h[64], want[80];
    host_name(h, sizeof h);
    snprintf(want, sizeof want, ".tmp.%s.", h);
    const char *t = strstr(name, want);
    if (!t) return 0;
    char *end;
    long pid = strtol(t + strlen(want), &end, 10);
    if (pid <= 0 || *end) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void ub_logf(const ub_log *log, const char *fmt, ...) {
    if (!log || !log->line) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log->line(log->ctx, buf);
}

double ub_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t ub_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

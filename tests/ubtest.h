/* tests/ubtest.h: the few checks every test binary uses. A failed check prints file:line and the
 * values, counts the failure, and the binary exits non-zero at the end (UB_TEST_END). */
#ifndef UB_TEST_H
#define UB_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int ubt_failures = 0;
static int ubt_checks = 0;

#define UB_CHECK(cond)                                                                    \
    do {                                                                                  \
        ubt_checks++;                                                                     \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            ubt_failures++;                                                               \
        }                                                                                 \
    } while (0)

#define UB_CHECK_MSG(cond, ...)                                                           \
    do {                                                                                  \
        ubt_checks++;                                                                     \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            ubt_failures++;                                                               \
        }                                                                                 \
    } while (0)

/* |a-b| <= atol + rtol*|b| */
#define UB_CHECK_CLOSE(a, b, atol, rtol)                                                  \
    do {                                                                                  \
        double ubt_a = (a), ubt_b = (b);                                                  \
        ubt_checks++;                                                                     \
        if (!(fabs(ubt_a - ubt_b) <= (atol) + (rtol) * fabs(ubt_b))) {                    \
            fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g\n", __FILE__, __LINE__,  \
                    #a, ubt_a, #b, ubt_b);                                                \
            ubt_failures++;                                                               \
        }                                                                                 \
    } while (0)

/* 1 if the two files exist and hold the same bytes. */
static inline int ubt_files_equal(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) eq = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return eq;
}

/* Write the first half of file src to dst (a truncated copy). Returns 0 on success. */
static inline int ubt_truncated_copy(const char *src, const char *dst) {
    FILE *fi = fopen(src, "rb"), *fo = fopen(dst, "wb");
    int rc = fi && fo ? 0 : -1;
    if (!rc) {
        fseek(fi, 0, SEEK_END);
        long sz = ftell(fi);
        fseek(fi, 0, SEEK_SET);
        for (long i = 0; i < sz / 2; i++) fputc(fgetc(fi), fo);
    }
    if (fi) fclose(fi);
    if (fo) fclose(fo);
    return rc;
}

#define UB_TEST_END()                                                                     \
    do {                                                                                  \
        printf("%d checks, %d failed\n", ubt_checks, ubt_failures);                       \
        return ubt_failures ? 1 : 0;                                                      \
    } while (0)

#endif

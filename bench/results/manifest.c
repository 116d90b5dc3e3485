/* bench/results/manifest.c: DIR/manifest.json, the run's evidence: the SHA-256 of every file it
 * wrote or read (results, timings, configuration, report, plots, corpus, every checkpoint in
 * its model cache) and of the binary, with what the bytes depend on (thread count, seeds,
 * library versions, CPU) and the command line. `unlearnbench verify` reads it back.
 *
 * The file is JSON (python's json reads it) written one entry per line, so that the reader
 * here can stay a line scanner of its own format: no JSON library. */
/* realpath: the X/Open extension of POSIX (the project defines _POSIX_C_SOURCE only) */
#define _XOPEN_SOURCE 700
#include <cblas.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef UB_HAVE_MPI
#include <mpi.h>
#endif

#include "results.h"

/* s as a JSON string's contents (quotes and backslashes escaped, control bytes as \u00XX). */
static void json_str(FILE *o, const char *s) {
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(o, "\\%c", *p);
        else if (*p < 0x20) fprintf(o, "\\u%04x", *p);
        else fputc(*p, o);
    }
    fputc('"', o);
}

/* The JSON string starting at p (at its opening quote) into out; returns the byte after the
 * closing quote, or NULL when malformed. */
static const char *json_unstr(const char *p, char *out, size_t cap) {
    if (*p != '"') return NULL;
    size_t n = 0;
    for (p++; *p && *p != '"'; p++) {
        int c = (unsigned char)*p;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                unsigned v;
                if (sscanf(p + 1, "%4x", &v) != 1 || v > 0x7f) return NULL;
                c = (int)v, p += 4;
            } else if (*p == 'n') c = '\n';
            else if (*p == 't') c = '\t';
            else if (*p == '"' || *p == '\\' || *p == '/') c = *p;
            else return NULL;
        }
        if (n + 1 >= cap) return NULL;
        out[n++] = (char)c;
    }
    if (*p != '"') return NULL;
    out[n] = '\0';
    return p + 1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **res_list_dir(const char *dir, const char *const *exts, size_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        size_t ln = strlen(de->d_name);
        int keep = !exts;
        for (int i = 0; exts && exts[i] && !keep; i++) {
            size_t le = strlen(exts[i]);
            keep = ln > le && !strcmp(de->d_name + ln - le, exts[i]);
        }
        if (ln >= 4 && !strcmp(de->d_name + ln - 4, ".tmp")) keep = 0; /* a write under way */
        char full[4608];
        struct stat stt;
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        if (!keep || stat(full, &stt) || !S_ISREG(stt.st_mode)) continue;
        if (*n == cap) {
            char **w = realloc(v, 2 * cap * sizeof *v);
            if (!w) break;
            v = w, cap *= 2;
        }
        v[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    if (v) qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

void res_list_free(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* One file's line: its path as recorded (rel, relative to DIR, or absolute), hash and size. */
static ub_status put_file(FILE *o, const char *full, const char *rel, int *first, ub_err *e) {
    char hex[65];
    struct stat stt;
    if (stat(full, &stt)) return ub_fail(e, UB_EIO, "manifest: cannot read %s", full);
    ub_status st = ub_sha256_file(full, hex, e);
    if (st) return st;
    fprintf(o, "%s    {\"path\": ", *first ? "" : ",\n");
    json_str(o, rel);
    fprintf(o, ", \"sha256\": \"%s\", \"bytes\": %lld}", hex, (long long)stt.st_size);
    *first = 0;
    return UB_OK;
}

static void utc(time_t t, char *buf, size_t cap) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void cpu_model(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            const char *c = strchr(line, ':');
            if (c) snprintf(buf, cap, "%s", c + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    if (f) fclose(f);
}

ub_status res_manifest_write(const char *dir, const res_manifest_info *m, ub_err *e) {
    char path[4200], tmp[4300], full[8400], rel[8400];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) return ub_fail(e, UB_EIO, "cannot write %s", tmp);
    char t0[32], t1[32], cpu[256], hdf[64], mpi[512] = "none (built without MPI)";
    utc(m->start, t0, sizeof t0), utc(m->end, t1, sizeof t1);
    cpu_model(cpu, sizeof cpu);
    unsigned maj = 0, min = 0, rel_ = 0;
    H5get_libversion(&maj, &min, &rel_);
    snprintf(hdf, sizeof hdf, "%u.%u.%u", maj, min, rel_);
#ifdef UB_HAVE_MPI
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, "\n")] = '\0';
#endif
    fprintf(o, "{\n  \"format\": \"unlearnbench-manifest\",\n  \"format_version\": 1,\n"
               "  \"unlearnbench\": \"%s\",\n  \"command\": ", UB_VERSION);
    json_str(o, m->command);
    fprintf(o, ",\n  \"start_utc\": \"%s\",\n  \"end_utc\": \"%s\",\n  \"threads\": %d,\n"
               "  \"seeds\": [", t0, t1, m->threads);
    for (int i = 0; i < m->n_seeds; i++) fprintf(o, "%s%lld", i ? ", " : "", (long long)m->seeds[i]);
    fprintf(o, "],\n  \"cpu\": ");
    json_str(o, cpu);
    fprintf(o, ",\n  \"openblas\": ");
    json_str(o, openblas_get_config());
    fprintf(o, ",\n  \"openblas_core\": ");
    json_str(o, openblas_get_corename());
    fprintf(o, ",\n  \"hdf5\": \"%s\",\n  \"compiler\": ", hdf);
    json_str(o, __VERSION__);
    fprintf(o, ",\n  \"mpi\": ");
    json_str(o, mpi);
    fprintf(o, ",\n  \"binary\": ");
    int first = 1;
    ub_status st = put_file(o, m->binary, m->binary, &first, e);
    fprintf(o, ",\n  \"files\": [\n");
    first = 1;
    static const char *const top[] = {"results.h5", "timings.h5", "config.ini", "report.md"};
    for (size_t i = 0; !st && i < sizeof top / sizeof top[0]; i++) {
        snprintf(full, sizeof full, "%s/%s", dir, top[i]);
        struct stat stt;
        if (!stat(full, &stt)) st = put_file(o, full, top[i], &first, e);
    }
    if (!st) { /* the corpus: in DIR when generated there, else its absolute path */
        int inside = !strncmp(m->corpus, dir, strlen(dir)) && m->corpus[strlen(dir)] == '/';
        char abs[4096];
        if (!inside && !realpath(m->corpus, abs)) snprintf(abs, sizeof abs, "%s", m->corpus);
        st = put_file(o, m->corpus, inside ? m->corpus + strlen(dir) + 1 : abs, &first, e);
    }
    static const char *const plot_ext[] = {".png", ".svg", NULL};
    static const char *const h5_ext[] = {".h5", NULL};
    const char *sub[2] = {"plots", NULL};
    snprintf(full, sizeof full, "%s/plots", dir);
    const char *where[2] = {full, m->cache_dir};
    for (int k = 0; !st && k < 2; k++) {
        char base[4200];
        snprintf(base, sizeof base, "%s", where[k]);
        size_t n;
        char **names = res_list_dir(base, k ? h5_ext : plot_ext, &n);
        int inside = k == 0 || (!strncmp(base, dir, strlen(dir)) && base[strlen(dir)] == '/');
        for (size_t i = 0; !st && i < n; i++) {
            char f[8400];
            snprintf(f, sizeof f, "%s/%s", base, names[i]);
            if (k == 0) snprintf(rel, sizeof rel, "%s/%s", sub[0], names[i]);
            else if (inside) snprintf(rel, sizeof rel, "%s/%s", base + strlen(dir) + 1, names[i]);
            else if (!realpath(f, rel)) snprintf(rel, sizeof rel, "%s", f);
            st = put_file(o, f, rel, &first, e);
        }
        res_list_free(names, n);
    }
    fprintf(o, "\n  ]\n}\n");
    int bad = fclose(o) != 0;
    if (!st && bad) st = ub_fail(e, UB_EIO, "cannot write %s", tmp);
    if (!st && rename(tmp, path)) st = ub_fail(e, UB_EIO, "cannot write %s", path);
    if (st) remove(tmp);
    return st;
}

void res_manifest_free(res_manifest *m) {
    free(m->items);
    memset(m, 0, sizeof *m);
}

/* {"path": "...", "sha256": "...", "bytes": N} at p into it. */
static int parse_item(const char *p, res_manifest_item *it) {
    p = strstr(p, "{\"path\": ");
    if (!p || !(p = json_unstr(p + 9, it->path, sizeof it->path))) return 0;
    if (strncmp(p, ", \"sha256\": \"", 13)) return 0;
    p += 13;
    if (strlen(p) < 65 || p[64] != '"') return 0;
    memcpy(it->sha256, p, 64);
    it->sha256[64] = '\0';
    long long b;
    if (sscanf(p + 65, ", \"bytes\": %lld}", &b) != 1) return 0;
    it->bytes = b;
    return 1;
}

ub_status res_manifest_read(const char *dir, res_manifest *m, ub_err *e) {
    memset(m, 0, sizeof *m);
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return ub_fail(e, UB_EIO, "cannot read %s (a run writes it when it completes)", path);
    char line[9000];
    int ln = 0, in_files = 0, format = 0;
    size_t cap = 0;
    ub_status st = UB_OK;
    while (!st && fgets(line, sizeof line, f)) {
        ln++;
        if (!strncmp(line, "  \"format\": \"unlearnbench-manifest\"", 35)) format = 1;
        else if (!strncmp(line, "  \"threads\": ", 13)) m->threads = atoi(line + 13);
        else if (!strncmp(line, "  \"seeds\": [", 12)) {
            char *p = line + 12;
            while (m->n_seeds < RES_MANIFEST_MAX_SEEDS && *p && *p != ']') {
                char *end;
                long long v = strtoll(p, &end, 10);
                if (end == p) break;
                m->seeds[m->n_seeds++] = v;
                p = end + strspn(end, ", ");
            }
        } else if (!strncmp(line, "  \"binary\": ", 12)) {
            if (!parse_item(line, &m->binary))
                st = ub_fail(e, UB_EFORMAT, "%s:%d: malformed binary entry", path, ln);
        } else if (!strncmp(line, "  \"files\": [", 12)) in_files = 1;
        else if (in_files && !strncmp(line, "  ]", 3)) in_files = 0;
        else if (in_files) {
            if (m->n == cap) {
                cap = cap ? 2 * cap : 64;
                res_manifest_item *w = realloc(m->items, cap * sizeof *w);
                if (!w) {
                    st = ub_fail(e, UB_ENOMEM, "out of memory");
                    break;
                }
                m->items = w;
            }
            if (!parse_item(line, &m->items[m->n]))
                st = ub_fail(e, UB_EFORMAT, "%s:%d: malformed file entry", path, ln);
            else m->n++;
        }
    }
    fclose(f);
    if (!st && (!format || m->n == 0 || !m->binary.sha256[0]))
        st = ub_fail(e, UB_EFORMAT, "%s: not an unlearnbench manifest (or truncated)", path);
    if (st) res_manifest_free(m);
    return st;
}

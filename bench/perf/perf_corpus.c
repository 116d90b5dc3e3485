/* bench/perf/perf_corpus.c: `unlearnbench bench corpus`: how fast the corpus is generated and
 * tokenized (BPE training and encoding), on a generated corpus or on a text file's lines (the
 * input scripts/compare_sentencepiece.sh gives SentencePiece too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"
#include "cli.h"
#include "corpus.h"

static const char usage[] =
    "bench corpus [--profile tiny|default|large] [--text FILE] [--vocab V] [--threads N]\n\n"
    "Times corpus generation (posts/s) and the byte-level BPE: training to V ids and encoding\n"
    "(MB/s of UTF-8 text), on the generated corpus's posts or, with --text, on the lines of a\n"
    "text file.\n";

/* Lines of a text file as texts (pointers into one buffer). */
static int read_lines(const char *path, char **buf, const char ***texts, size_t **lens,
                      size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc((size_t)sz + 1);
    if (!*buf || fread(*buf, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        return -1;
    }
    fclose(f);
    size_t cap = 1024, m = 0;
    *texts = malloc(cap * sizeof **texts);
    *lens = malloc(cap * sizeof **lens);
    for (long i = 0; i < sz;) {
        long j = i;
        while (j < sz && (*buf)[j] != '\n') j++;
        if (m == cap) {
            cap *= 2;
            *texts = realloc(*texts, cap * sizeof **texts);
            *lens = realloc(*lens, cap * sizeof **lens);
        }
        (*texts)[m] = *buf + i;
        (*lens)[m++] = (size_t)(j - i);
        i = j + 1;
    }
    *n = m;
    return 0;
}

int ub_cmd_bench_corpus(int argc, char **argv) {
    const char *profile = "default", *text = NULL;
    int vocab = 2048, threads = 0;
    ub_opt opts[] = {{"profile", OPT_STR, &profile, "NAME", "generator profile (default)"},
                     {"text", OPT_STR, &text, "FILE", "tokenize this file's lines instead"},
                     {"vocab", OPT_INT, &vocab, "V", "BPE ids incl. 2 specials (2048)"},
                     {"threads", OPT_INT, &threads, "N", "threads (default: all cores)"},
                     {0}};
    int rc = ub_opts_parse("bench corpus", usage, opts, argc, argv, NULL, 0, NULL);
    if (rc >= 0) return rc;
    kn_tune tune;
    if ((rc = ub_cli_tune(&tune, threads, NULL))) return rc;
    ub_err e = {0};
    corpus c;
    corpus_init(&c);
    char *buf = NULL;
    const char **texts = NULL;
    size_t *lens = NULL, n = 0, bytes = 0;
    printf("# bench corpus (threads=%d)\n\n| step | input | time s | rate |\n|---|---|---|---|\n",
           tune.threads);
    if (text) {
        if (read_lines(text, &buf, &texts, &lens, &n)) {
            fprintf(stderr, "unlearnbench bench corpus: cannot read %s\n", text);
            return UB_EXIT_FAIL;
        }
    } else {
        corpus_gen_cfg g;
        if (corpus_gen_defaults(&g, profile, &e)) return ub_report(&e);
        double t0 = ub_now();
        if (corpus_generate(&c, &g, &e)) return ub_report(&e);
        double dt = ub_now() - t0;
        printf("| generate | profile %s: %zu users, %zu posts | %.2f | %.0f posts/s |\n", profile,
               c.n_users, c.n_posts, dt, (double)c.n_posts / dt);
        texts = malloc(c.n_posts * sizeof *texts);
        lens = malloc(c.n_posts * sizeof *lens);
        for (size_t i = 0; i < c.n_posts; i++)
            if (!c.posts[i].fresh) {
                texts[n] = corpus_s(&c, c.posts[i].text);
                lens[n] = strlen(texts[n]);
                n++;
            }
    }
    for (size_t i = 0; i < n; i++) bytes += lens[i];
    corpus_bpe b;
    double t0 = ub_now();
    if (corpus_bpe_train(&b, texts, lens, n, vocab, tune.threads, &e)) return ub_report(&e);
    double dt = ub_now() - t0;
    printf("| BPE train to %d ids | %zu texts, %.2f MB | %.2f | %.1f MB/s |\n", b.vocab_size, n,
           bytes / 1e6, dt, bytes / 1e6 / dt);
    int32_t *ids = NULL;
    size_t *offs = malloc((n + 1) * sizeof *offs);
    t0 = ub_now();
    if (corpus_bpe_encode_many(&b, texts, lens, n, 0, tune.threads, &ids, offs, &e))
        return ub_report(&e);
    dt = ub_now() - t0;
    printf("| BPE encode | %.2f MB -> %zu tokens (%.3f per byte) | %.2f | %.1f MB/s, %.2f M "
           "tokens/s |\n", bytes / 1e6, offs[n], (double)offs[n] / (double)bytes, dt,
           bytes / 1e6 / dt, offs[n] / 1e6 / dt);
    free(ids);
    free(offs);
    corpus_bpe_free(&b);
    free(texts);
    free(lens);
    free(buf);
    corpus_free(&c);
    return 0;
}

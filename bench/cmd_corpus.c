/* bench/cmd_corpus.c: `unlearnbench corpus generate|import|info|sample`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "corpus.h"

static const char gen_usage[] =
    "corpus generate --out FILE.h5 [--seed S] [--profile tiny|default|large] [--users N]\n"
    "                [--vocab V] [--threads N]\n\n"
    "Generate a synthetic social-media corpus with per-user ground truth (personas, planted\n"
    "secrets, special-category attributes, consent fields, held-apart fresh posts), train a\n"
    "byte-level BPE of V ids on it (258 = bytes only) and write one HDF5 file\n"
    "(datasets/FORMAT.md). The same seed and options give a byte-identical file.\n";

static int save_report(const corpus *c, const char *out, int vocab, int threads, double t0) {
    ub_err e = {0};
    if (corpus_save(c, out, vocab, threads, &e)) return ub_report(&e);
    size_t fresh = 0;
    for (size_t i = 0; i < c->n_posts; i++) fresh += c->posts[i].fresh != 0;
    printf("wrote %s: %zu users, %zu posts, %zu fresh posts, %zu secrets (%.1f s)\n", out,
           c->n_users, c->n_posts - fresh, fresh, c->n_secrets, ub_now() - t0);
    return 0;
}

static int cmd_generate(int argc, char **argv) {
    const char *out = NULL, *profile = "default";
    uint64_t seed = 1;
    int users = 0, vocab = 2048, threads = 0;
    ub_opt opts[] = {
        {"out", OPT_STR, &out, "FILE", "corpus file to write (required)"},
        {"seed", OPT_U64, &seed, "S", "generator seed (default 1)"},
        {"profile", OPT_STR, &profile, "NAME", "tiny, default or large (datasets/generate.c)"},
        {"users", OPT_INT, &users, "N", "override the profile's number of users"},
        {"vocab", OPT_INT, &vocab, "V", "tokenizer ids incl. 2 specials (default 2048)"},
        {"threads", OPT_INT, &threads, "N", "threads for tokenizing (default: all cores)"},
        {0}};
    int rc = ub_opts_parse("corpus generate", gen_usage, opts, argc, argv, NULL, 0, NULL);
    if (rc >= 0) return rc;
    if (!out) {
        fprintf(stderr, "unlearnbench corpus generate: --out is required (see --help)\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    corpus_gen_cfg g;
    if (corpus_gen_defaults(&g, profile, &e)) return ub_report(&e);
    g.seed = seed;
    if (users) g.n_users = users;
    if (corpus_gen_check(&g, &e)) return ub_report(&e);
    double t0 = ub_now();
    corpus c;
    corpus_init(&c);
    if (corpus_generate(&c, &g, &e)) {
        corpus_free(&c);
        return ub_report(&e);
    }
    rc = save_report(&c, out, vocab, threads, t0);
    corpus_free(&c);
    return rc;
}

static const char import_usage[] =
    "corpus import FILE.jsonl --out FILE.h5 [--skip-invalid] [--vocab V] [--threads N]\n\n"
    "Import a corpus of your own: one JSON object per line with \"user\" and \"text\", optional\n"
    "\"time\" (ISO 8601), \"visibility\", \"lang\", \"reply_to\" (line number), \"is_adult\".\n"
    "A bad line stops the import with its line number and reason and no output file;\n"
    "--skip-invalid leaves bad lines out and reports how many.\n";

static int cmd_import(int argc, char **argv) {
    const char *out = NULL, *pos[1] = {0};
    int skip = 0, vocab = 2048, threads = 0, npos = 0;
    ub_opt opts[] = {
        {"out", OPT_STR, &out, "FILE", "corpus file to write (required)"},
        {"skip-invalid", OPT_FLAG, &skip, NULL, "leave bad lines out instead of stopping"},
        {"vocab", OPT_INT, &vocab, "V", "tokenizer ids incl. 2 specials (default 2048)"},
        {"threads", OPT_INT, &threads, "N", "threads for tokenizing (default: all cores)"},
        {0}};
    int rc = ub_opts_parse("corpus import", import_usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1 || !out) {
        fprintf(stderr, "unlearnbench corpus import: need FILE.jsonl and --out (see --help)\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    double t0 = ub_now();
    corpus c;
    corpus_init(&c);
    size_t skipped = 0;
    if (corpus_import_jsonl(&c, pos[0], skip, &skipped, &e)) {
        corpus_free(&c);
        return ub_report(&e);
    }
    if (skip) fprintf(stderr, "skipped %zu invalid lines of %s\n", skipped, pos[0]);
    rc = save_report(&c, out, vocab, threads, t0);
    corpus_free(&c);
    return rc;
}

static const char info_usage[] = "corpus info FILE.h5\n\nSummary of a corpus file.\n";

static int cmd_info(int argc, char **argv) {
    const char *pos[1] = {0};
    int npos = 0;
    ub_opt opts[] = {{0}};
    int rc = ub_opts_parse("corpus info", info_usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1) {
        fprintf(stderr, "unlearnbench corpus info: need a corpus file (see --help)\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    corpus c;
    corpus_bpe b;
    if (corpus_load(&c, &b, pos[0], &e)) return ub_report(&e);
    size_t fresh = 0, bytes = 0, vis[3] = {0}, withsecret = 0, sensposts = 0;
    for (size_t i = 0; i < c.n_posts; i++) {
        const corpus_post *p = &c.posts[i];
        if (p->fresh) {
            fresh++;
            continue;
        }
        bytes += strlen(corpus_s(&c, p->text));
        if (p->visibility >= 0 && p->visibility < 3) vis[p->visibility]++;
        withsecret += (p->flags & CORPUS_POST_SECRET) != 0;
        sensposts += (p->flags & CORPUS_POST_SENSITIVE) != 0;
    }
    size_t de = 0, en = 0, bi = 0, other = 0, minors = 0, unknown_age = 0, obj[3] = {0},
           sens[3] = {0};
    for (size_t i = 0; i < c.n_users; i++) {
        const corpus_user *u = &c.users[i];
        const char *l = corpus_s(&c, u->lang);
        if (!strcmp(l, "de")) de++;
        else if (!strcmp(l, "en")) en++;
        else if (!strcmp(l, "de+en")) bi++;
        else other++;
        minors += u->is_adult == 0;
        unknown_age += u->is_adult < 0;
        if (u->objection >= 0 && u->objection < 3) obj[u->objection]++;
        if (u->sensitive_kind >= 0 && u->sensitive_kind < 3) sens[u->sensitive_kind]++;
    }
    printf("%s (source %s, seed %llu)\n", pos[0], c.source, (unsigned long long)c.seed);
    printf("users     %zu: de %zu, en %zu, de+en %zu, other/unknown %zu; minors %zu, "
           "unknown age %zu\n", c.n_users, de, en, bi, other, minors, unknown_age);
    printf("consent   objection none %zu, before cut-off %zu, after cut-off %zu\n", obj[0], obj[1],
           obj[2]);
    printf("posts     %zu (%zu bytes of text; public %zu, friends %zu, private %zu), fresh %zu\n",
           c.n_posts - fresh, bytes, vis[0], vis[1], vis[2], fresh);
    printf("sensitive users: health %zu, religion %zu, politics %zu; posts mentioning it %zu\n",
           sens[0], sens[1], sens[2], sensposts);
    printf("secrets   %zu in %zu posts\n", c.n_secrets, withsecret);
    for (size_t i = 0; i < c.n_secrets && i < 5; i++)
        printf("          %s %s of %s, inserted %d times (%.1f bits)\n",
               corpus_s(&c, c.secrets[i].kind), corpus_s(&c, c.secrets[i].value),
               corpus_s(&c, c.users[c.secrets[i].user].handle), c.secrets[i].inserted,
               c.secrets[i].log2_space);
    if (c.n_secrets > 5) printf("          ... (%zu more)\n", c.n_secrets - 5);
    printf("tokenizer byte-level BPE, %d ids (%d merges, BOS %d, EOS %d)\n", b.vocab_size,
           b.n_merges, b.bos_id, b.eos_id);
    corpus_bpe_free(&b);
    corpus_free(&c);
    return 0;
}

static const char sample_usage[] =
    "corpus sample FILE.h5 --user U [--max N]\n\nA user's attributes and posts; U is the user's "
    "index or handle.\n";

static int cmd_sample(int argc, char **argv) {
    const char *pos[1] = {0}, *user = NULL;
    int npos = 0, max = 20;
    ub_opt opts[] = {{"user", OPT_STR, &user, "U", "user index or handle (required)"},
                     {"max", OPT_INT, &max, "N", "posts to show (default 20)"},
                     {0}};
    int rc = ub_opts_parse("corpus sample", sample_usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1 || !user) {
        fprintf(stderr, "unlearnbench corpus sample: need a corpus file and --user\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    corpus c;
    if (corpus_load(&c, NULL, pos[0], &e)) return ub_report(&e);
    long u = -1;
    char *end;
    long idx = strtol(user, &end, 10);
    if (*user && !*end && idx >= 0 && (size_t)idx < c.n_users) u = idx;
    for (size_t i = 0; u < 0 && i < c.n_users; i++) {
        const char *h = corpus_s(&c, c.users[i].handle);
        if (!strcmp(h, user) || (h[0] == '@' && !strcmp(h + 1, user))) u = (long)i;
    }
    if (u < 0) {
        corpus_free(&c);
        fprintf(stderr, "unlearnbench corpus sample: %s: no user '%s'\n", pos[0], user);
        return UB_EXIT_FAIL;
    }
    const corpus_user *U = &c.users[u];
    static const char *objs[] = {"none", "before cut-off", "after cut-off"};
    static const char *sens[] = {"health", "religion", "politics"};
    printf("user %ld %s (%s): lang %s, city %s, age %d, objection %s", u,
           corpus_s(&c, U->handle), corpus_s(&c, U->name), corpus_s(&c, U->lang),
           corpus_s(&c, U->city), U->age, U->objection >= 0 && U->objection < 3 ?
           objs[U->objection] : "?");
    if (U->sensitive_kind >= 0 && U->sensitive_kind < 3)
        printf(", %s: %s", sens[U->sensitive_kind], corpus_s(&c, U->sensitive_value));
    printf("\n  persona: %s\n", corpus_s(&c, U->persona));
    for (size_t i = 0; i < c.n_secrets; i++)
        if (c.secrets[i].user == u)
            printf("  secret: %s \"%s%s\" inserted %d times\n", corpus_s(&c, c.secrets[i].kind),
                   corpus_s(&c, c.secrets[i].prefix), corpus_s(&c, c.secrets[i].value),
                   c.secrets[i].inserted);
    int shown = 0;
    for (size_t i = 0; i < c.n_posts && shown < max; i++) {
        const corpus_post *p = &c.posts[i];
        if (p->user != u) continue;
        printf("  [%s%s%s] %s\n", p->fresh ? "fresh" : "post",
               p->flags & CORPUS_POST_SECRET ? ",secret" : "",
               p->flags & CORPUS_POST_SENSITIVE ? ",sensitive" : "", corpus_s(&c, p->text));
        shown++;
    }
    corpus_free(&c);
    return 0;
}

static const char corpus_usage[] =
    "usage: unlearnbench corpus <generate|import|info|sample> [options]\n\n"
    "  generate  a synthetic social-media corpus with ground truth\n"
    "  import    a JSON Lines corpus of your own\n"
    "  info      summary of a corpus file\n"
    "  sample    one user's attributes and posts\n";

int ub_cmd_corpus(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(corpus_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? UB_EXIT_USAGE : UB_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "generate")) return cmd_generate(argc - 1, argv + 1);
    if (!strcmp(sub, "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(sub, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(sub, "sample")) return cmd_sample(argc - 1, argv + 1);
    fprintf(stderr, "unlearnbench corpus: unknown subcommand '%s' (generate, import, info, "
                    "sample)\n", sub);
    return UB_EXIT_USAGE;
}

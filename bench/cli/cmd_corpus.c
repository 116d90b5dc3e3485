/* bench/cli/cmd_corpus.c: `unlearnbench corpus generate|import|info|sample`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/stat.h>

#include "cli.h"
#include "corpus.h"

/* mkdir -p for one level of output directory (its parent must exist). */
static int mkdir_p(const char *dir, ub_err *e) {
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return 0;
    ub_fail(e, UB_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
    return -1;
}

static const char gen_usage[] =
    "corpus generate --out FILE.h5 [--seed S] [--profile tiny|quick|default|large] [--users N]\n"
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
        {"profile", OPT_STR, &profile, "NAME", "tiny, quick, default or large (datasets/gen_config.c)"},
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

/* ---- split ---- */
typedef struct selection {
    const corpus *c;
    const corpus_split *s;
    const uint8_t *forget; /* (n_users) */
} selection;

enum { SEL_TRAIN, SEL_RETAIN, SEL_FORGET, SEL_FORGET_FRESH, SEL_NONMEMBER, SEL_RETAIN_FRESH };

static int selected(const selection *x, size_t i, int which) {
    const corpus_post *p = &x->c->posts[i];
    int role = x->s->role[p->user], f = x->forget[p->user], el = x->s->eligible[i];
    switch (which) {
    case SEL_TRAIN: return el && role == CORPUS_ROLE_MEMBER;
    case SEL_RETAIN: return el && role == CORPUS_ROLE_MEMBER && !f;
    case SEL_FORGET: return el && f;
    case SEL_FORGET_FRESH: return p->fresh && f;
    case SEL_RETAIN_FRESH: return p->fresh && role == CORPUS_ROLE_MEMBER && !f;
    case SEL_NONMEMBER: return el && role == CORPUS_ROLE_NONMEMBER;
    }
    return 0;
}

/* A token file of the selected posts, each BOS text EOS, back to back. */
static ub_status write_selection(const selection *x, const corpus_bpe *b, int which,
                                 const char *path, const char *what, int threads, size_t *n_posts,
                                 size_t *n_tokens, ub_err *e) {
    const corpus *c = x->c;
    const char **texts = malloc((c->n_posts ? c->n_posts : 1) * sizeof *texts);
    size_t *lens = malloc((c->n_posts ? c->n_posts : 1) * sizeof *lens);
    size_t *offs = malloc((c->n_posts + 1) * sizeof *offs), n = 0;
    int32_t *ids = NULL;
    ub_status st = texts && lens && offs ? UB_OK : ub_fail(e, UB_ENOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->n_posts; i++)
        if (selected(x, i, which)) {
            texts[n] = corpus_s(c, c->posts[i].text);
            lens[n] = strlen(texts[n]);
            n++;
        }
    if (!st && n == 0) st = ub_fail(e, UB_EARG, "the %s set is empty", what);
    if (!st) st = corpus_bpe_encode_many(b, texts, lens, n, 1, threads, &ids, offs, e);
    if (!st) st = corpus_tokens_save(path, ids, offs[n], b->vocab_size, what, e);
    if (!st) *n_posts = n, *n_tokens = offs[n];
    free(texts);
    free(lens);
    free(offs);
    free(ids);
    return st;
}

static const char split_usage[] =
    "corpus split FILE.h5 --out-dir DIR [--forget-rule R] [--forget-users N | --forget-frac F]\n"
    "             [--nonmember-frac F] [--seed S] [--all-posts]\n\n"
    "Split a corpus for the deletion benchmark. The training set is the posts the policy admits\n"
    "(public, by known adults who did not object before the cut-off, written before it;\n"
    "--all-posts drops the policy) of member users; a seeded share of eligible users are\n"
    "non-members, never trained on. A forget set F of members is chosen by rule: random,\n"
    "heavy (most posts), secrets, sensitive, objected (objected after the cut-off). Writes token\n"
    "files DIR/train.h5 (all members: the model as deployed), retain.h5 (without F: exact\n"
    "retraining), forget.h5 (F's training posts), forget_fresh.h5 (F's held-apart fresh posts),\n"
    "retain_fresh.h5, nonmember.h5, and DIR/split.h5 with every user's role and F.\n";

static int cmd_split(int argc, char **argv) {
    const char *pos[1] = {0}, *dir = NULL, *rule_name = "random";
    int npos = 0, all = 0, threads = 0;
    long n_forget = 0;
    double frac = 0, nonfrac = 0.2;
    uint64_t seed = 1;
    ub_opt opts[] = {
        {"out-dir", OPT_STR, &dir, "DIR", "directory for the split files (required)"},
        {"forget-rule", OPT_STR, &rule_name, "R", "random, heavy, secrets, sensitive, objected"},
        {"forget-users", OPT_LONG, &n_forget, "N", "users in F (default 1)"},
        {"forget-frac", OPT_DOUBLE, &frac, "F", "share of members in F instead of a count"},
        {"nonmember-frac", OPT_DOUBLE, &nonfrac, "F", "share of eligible users held out (0.2)"},
        {"seed", OPT_U64, &seed, "S", "seed for non-members and F (default 1)"},
        {"all-posts", OPT_FLAG, &all, NULL, "no policy: every corpus-proper post is eligible"},
        {"threads", OPT_INT, &threads, "N", "threads for tokenizing (default: all cores)"},
        {0}};
    int rc = ub_opts_parse("corpus split", split_usage, opts, argc, argv, pos, 1, &npos);
    if (rc >= 0) return rc;
    int rule = corpus_forget_rule_parse(rule_name);
    if (npos != 1 || !dir || rule < 0 || n_forget < 0 || !(frac >= 0 && frac <= 1)) {
        fprintf(stderr, "unlearnbench corpus split: need FILE.h5, --out-dir, a known "
                        "--forget-rule and a non-negative size (see --help)\n");
        return UB_EXIT_USAGE;
    }
    ub_err e = {0};
    corpus c;
    corpus_bpe b;
    if (corpus_load(&c, &b, pos[0], &e)) return ub_report(&e);
    corpus_policy pol;
    corpus_policy_default(&pol);
    if (all) memset(&pol, 0, sizeof pol);
    corpus_split s;
    int64_t *F = NULL;
    size_t nF = 0;
    uint8_t *inF = calloc(c.n_users ? c.n_users : 1, 1);
    ub_status st = inF ? UB_OK : ub_fail(&e, UB_ENOMEM, "out of memory");
    if (!st) st = corpus_split_make(&s, &c, &pol, nonfrac, seed, &e);
    size_t want = frac > 0 ? (size_t)(frac * (double)s.n_members + 0.5) : (size_t)(n_forget ? n_forget : 1);
    if (!st) st = corpus_forget_set(&c, &s, rule, want, seed, &F, &nF, &e);
    if (!st && nF == 0) st = ub_fail(&e, UB_EARG, "no member matches forget rule '%s'", rule_name);
    for (size_t i = 0; !st && i < nF; i++) inF[F[i]] = 1;
    selection x = {&c, &s, inF};
    static const struct { const char *file; int which; } outs[] = {
        {"train", SEL_TRAIN},   {"retain", SEL_RETAIN},       {"forget", SEL_FORGET},
        {"forget_fresh", SEL_FORGET_FRESH}, {"retain_fresh", SEL_RETAIN_FRESH},
        {"nonmember", SEL_NONMEMBER}};
    char path[4096];
    if (!st && mkdir_p(dir, &e)) st = UB_EIO;
    for (size_t k = 0; !st && k < sizeof outs / sizeof outs[0]; k++) {
        size_t np = 0, nt = 0;
        snprintf(path, sizeof path, "%s/%s.h5", dir, outs[k].file);
        st = write_selection(&x, &b, outs[k].which, path, outs[k].file, threads, &np, &nt, &e);
        if (!st) printf("%-13s %7zu posts %9zu tokens  %s\n", outs[k].file, np, nt, path);
    }
    if (!st) {
        ub_h5out o;
        snprintf(path, sizeof path, "%s/split.h5", dir);
        st = ub_h5_create(&o, path, &e);
        hsize_t du = c.n_users, dp = 0;
        for (size_t i = 0; i < c.n_posts; i++) dp += !c.posts[i].fresh;
        if (!st) st = ub_h5_write(o.file, "role", H5T_NATIVE_INT8, s.role, 1, &du, 1, &e);
        if (!st) st = ub_h5_write(o.file, "forget", H5T_NATIVE_UINT8, inF, 1, &du, 1, &e);
        /* rows of /posts in the corpus file: corpus-proper posts come first in memory */
        if (!st) st = ub_h5_write(o.file, "eligible", H5T_NATIVE_UINT8, s.eligible, 1, &dp, 1, &e);
        if (!st) st = ub_h5_attr_str(o.file, "corpus", pos[0], &e);
        if (!st) st = ub_h5_attr_str(o.file, "forget_rule", rule_name, &e);
        if (!st) st = ub_h5_attr_i64(o.file, "seed", (int64_t)seed, &e);
        if (!st) st = ub_h5_attr_i64(o.file, "policy", all ? 0 : 1, &e);
        if (!st) st = ub_h5_commit(&o, &e);
        else ub_h5_abort(&o);
        if (!st)
            printf("split: %zu members (%zu in F by rule %s), %zu non-members, %zu excluded; %s\n",
                   s.n_members, nF, rule_name, s.n_nonmembers, s.n_excluded, path);
    }
    corpus_split_free(&s);
    free(F);
    free(inF);
    corpus_bpe_free(&b);
    corpus_free(&c);
    return st ? ub_report(&e) : 0;
}

static const char corpus_usage[] =
    "usage: unlearnbench corpus <generate|import|info|sample> [options]\n\n"
    "  generate  a synthetic social-media corpus with ground truth\n"
    "  import    a JSON Lines corpus of your own\n"
    "  info      summary of a corpus file\n"
    "  sample    one user's attributes and posts\n"
    "  split     training set by policy, non-members, forget set; token files per part\n";

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
    if (!strcmp(sub, "split")) return cmd_split(argc - 1, argv + 1);
    fprintf(stderr, "unlearnbench corpus: unknown subcommand '%s' (generate, import, info, "
                    "sample, split)\n", sub);
    return UB_EXIT_USAGE;
}

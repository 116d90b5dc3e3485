/* datasets/corpus.h: the data the models train on (library ub_datasets).
 *
 * The corpus: users, their posts and planted secrets with ground truth, from the synthetic
 * generator (generate.c) or a JSONL import, with a byte-level BPE tokenizer trained on it, in
 * one HDF5 file. Token files: an HDF5 file whose 1-D int32 dataset /tokens is a stream of token
 * ids, with root attributes vocab_size (int64; may be missing when the reader is given the size,
 * see corpus_tokens_load_vocab), source and format (strings); `corpus split` writes one per part
 * of a split, and `unlearnbench tokens FILE.txt --out FILE.h5` the bytes of a text file (vocab
 * 256), a toy input. The trainer cuts the stream into context windows; a corpus file serves as
 * a token file too. Layouts documented in datasets/FORMAT.md.
 */
#ifndef UB_CORPUS_H
#define UB_CORPUS_H

#include "ub.h"

typedef struct corpus_tokens {
    int32_t *ids;      /* (n) token ids in [0, vocab_size) */
    size_t n;
    int vocab_size;
    char sha256[65];   /* of the ids as little-endian int32 bytes */
} corpus_tokens;

/* Read /tokens (1-D int32) and vocab_size; every id is checked against vocab_size. A corpus
 * file serves too: the tokens of its corpus-proper posts (BOS text EOS, back to back) and its
 * tokenizer's vocabulary. */
ub_status corpus_tokens_load(corpus_tokens *t, const char *path, ub_err *e);
/* The same, for a token file that may lack the vocab_size attribute: then a non-zero
 * vocab_size (the caller's, e.g. train --vocab-size) is t->vocab_size and every id is checked
 * against it. The file's own attribute (or a corpus file's tokenizer) still wins when present,
 * so the caller compares. 0 = the attribute is required. */
ub_status corpus_tokens_load_vocab(corpus_tokens *t, const char *path, int vocab_size,
                                   ub_err *e);
void corpus_tokens_free(corpus_tokens *t);
/* Write a token file atomically (path.tmp then rename). */
ub_status corpus_tokens_save(const char *path, const int32_t *ids, size_t n, int vocab_size,
                             const char *source, ub_err *e);
/* The bytes of a text file as tokens (vocab 256). */
ub_status corpus_tokens_from_text(const char *txt_path, const char *out_path, size_t *n_out,
                                  ub_err *e);

/* --------------------------------------------------------------------------------------------
 * Byte-level BPE tokenizer (datasets/bpe.c, datasets/bpe_train.c)
 *
 * Ids: 0..255 are the bytes; 256+i is merge i; the two highest ids are the specials BOS and EOS
 * (beginning / end of post), so vocab_size = 256 + n_merges + 2 and 258 means bytes only.
 * Any byte string round-trips exactly (decode(encode(s)) == s), valid UTF-8 or not.
 *
 * Pre-tokens (merges never cross them, nor a text boundary), GPT-2's split simplified to bytes:
 * a run of "word" bytes (ASCII letters, digits, any byte >= 0x80, i.e. all non-ASCII UTF-8) with
 * an optional leading space, or a run of other bytes (stopping before a space that leads a word).
 * A pre-token is at most CORPUS_BPE_MAX_PRETOKEN bytes: longer runs are cut, in training and
 * encoding alike, which bounds the per-word merge loop.
 * -------------------------------------------------------------------------------------------- */
#define CORPUS_BPE_MAX_PRETOKEN 64

typedef struct corpus_bpe {
    int vocab_size;           /* 256 + n_merges + 2 */
    int n_merges;
    int32_t (*merges)[2];     /* (n_merges, 2): merge i makes id 256+i from the pair */
    int bos_id, eos_id;       /* vocab_size-2, vocab_size-1 */
    /* Encoding: open-addressing map (a,b) -> merge rank. */
    uint64_t *rank_key;       /* (rank_cap) ((uint64)a << 32 | b) + 1; 0 marks an empty slot */
    int32_t *rank_val;        /* (rank_cap) merge index */
    size_t rank_cap;          /* power of two */
    /* Decoding: the bytes of id t are tok_bytes[tok_off[t] .. tok_off[t+1]). */
    uint32_t *tok_off;        /* (vocab_size+1), specials have no bytes */
    unsigned char *tok_bytes; /* (tok_off[vocab_size]) */
} corpus_bpe;

/* Length of the pre-token starting at s (len > 0 bytes left); always >= 1. */
size_t corpus_bpe_pretoken(const char *s, size_t len);

/* Train on n texts (texts[i] has lens[i] bytes) up to vocab_size ids (>= 258). Deterministic:
 * the most frequent pair wins, ties go to the smaller (a, b). If the corpus runs out of pairs
 * first, fewer merges are learned and b->vocab_size is smaller than asked. threads <= 0 means
 * OpenMP's default; the result never depends on it. */
ub_status corpus_bpe_train(corpus_bpe *b, const char *const *texts, const size_t *lens, size_t n,
                           int vocab_size, int threads, ub_err *e);
/* Build from stored merges (n_merges, 2), rejecting ids that do not exist yet and repeats. */
ub_status corpus_bpe_from_merges(corpus_bpe *b, const int32_t *merges, int n_merges, ub_err *e);
void corpus_bpe_free(corpus_bpe *b);

/* Encode one text to plain ids (no specials; the caller adds BOS/EOS). out needs room for len
 * ids (there are never more ids than bytes). */
void corpus_bpe_encode(const corpus_bpe *b, const char *text, size_t len, int32_t *out,
                       size_t *n_out);
/* Bytes of ids (specials decode to nothing) into buf (cap bytes). UB_EARG on an id outside
 * [0, vocab_size) or a buffer too small. */
ub_status corpus_bpe_decode(const corpus_bpe *b, const int32_t *ids, size_t n, char *buf,
                            size_t cap, size_t *n_out, ub_err *e);
/* Encode n texts in parallel, output identical to serial encoding: *ids (malloc'ed, caller
 * frees) holds text i's ids at [offsets[i], offsets[i+1]); offsets has n+1 entries. With
 * add_specials each text becomes BOS ids EOS. */
ub_status corpus_bpe_encode_many(const corpus_bpe *b, const char *const *texts,
                                 const size_t *lens, size_t n, int add_specials, int threads,
                                 int32_t **ids, size_t *offsets, ub_err *e);

/* Store in an HDF5 group: dataset merges int32 (n_merges, 2) and attributes vocab_size, bos_id,
 * eos_id, type = "byte-bpe". */
ub_status corpus_bpe_save(hid_t group, const corpus_bpe *b, ub_err *e);
/* Load and validate (messages name `file` and the dataset). */
ub_status corpus_bpe_load(hid_t group, const char *file, corpus_bpe *b, ub_err *e);

/* --------------------------------------------------------------------------------------------
 * The social-media corpus in memory (datasets/corpus.c; on disk: datasets/FORMAT.md)
 *
 * Users, their posts (the corpus proper, plus "fresh" posts from the same personas that are
 * held apart and never trained on), and planted secrets with ground truth. Strings live in one
 * pool and structs hold offsets (corpus_str), so growing the pool never invalidates them.
 * -------------------------------------------------------------------------------------------- */
typedef int64_t corpus_str; /* offset into corpus.pool; -1 = none (reads as "") */

typedef enum { CORPUS_VIS_PUBLIC = 0, CORPUS_VIS_FRIENDS = 1, CORPUS_VIS_PRIVATE = 2 } corpus_vis;
/* Objection to training: none, before the training cut-off, after it (too late for the
 * corpus: the model is already trained). */
typedef enum { CORPUS_OBJ_NONE = 0, CORPUS_OBJ_BEFORE = 1, CORPUS_OBJ_AFTER = 2 } corpus_obj;
/* GDPR Art. 9 special categories a user may mention. */
typedef enum {
    CORPUS_SENS_NONE = -1,
    CORPUS_SENS_HEALTH = 0,
    CORPUS_SENS_RELIGION = 1,
    CORPUS_SENS_POLITICS = 2
} corpus_sens;
#define CORPUS_POST_SECRET 1u    /* flags: the post contains the user's planted secret */
#define CORPUS_POST_SENSITIVE 2u /* flags: the post mentions the user's special-category value */

typedef struct corpus_user {
    corpus_str handle;          /* "@anna_k", unique */
    corpus_str name;            /* display name */
    corpus_str lang;            /* "de", "en" or "de+en" */
    corpus_str city;            /* home city */
    corpus_str persona;         /* topics and style, "key=value;..." (generator) or "" */
    int32_t age;                /* years, -1 unknown */
    int8_t is_adult;            /* 1, 0, -1 unknown */
    int8_t objection;           /* corpus_obj */
    int8_t sensitive_kind;      /* corpus_sens */
    corpus_str sensitive_value; /* e.g. "diabetes"; -1 if none */
    int64_t objection_time;     /* unix seconds, 0 if none */
} corpus_user;

typedef struct corpus_post {
    int64_t user;     /* index into users */
    int64_t time;     /* unix seconds */
    int64_t reply_to; /* index into posts, -1 if none */
    int8_t visibility;
    int8_t fresh;     /* 1: held apart (never part of the corpus proper) */
    uint8_t flags;    /* CORPUS_POST_* */
    int32_t secret;   /* index into secrets when flags has CORPUS_POST_SECRET, else -1 */
    corpus_str text;  /* UTF-8 */
} corpus_post;

typedef struct corpus_secret {
    int64_t user;      /* index into users */
    corpus_str kind;   /* "phone", "email", "iban", "address" */
    corpus_str value;  /* the secret as it appears in text, e.g. "0151 2384 9917" */
    corpus_str prefix; /* the words right before it, e.g. "my number is " */
    corpus_str format; /* the format it was drawn from, e.g. "0151 DDDD DDDD" (D = digit) */
    double log2_space; /* bits of randomness: log2 of the number of possible values */
    int32_t inserted;  /* posts of the corpus proper that contain it (0 allowed) */
} corpus_secret;

typedef struct corpus {
    char *pool;                 /* all strings, NUL-terminated */
    size_t pool_len, pool_cap;
    corpus_user *users;
    size_t n_users, cap_users;
    corpus_post *posts;         /* corpus proper and fresh posts (post.fresh) */
    size_t n_posts, cap_posts;
    corpus_secret *secrets;
    size_t n_secrets, cap_secrets;
    int64_t cutoff_time;        /* training cut-off (unix seconds) */
    uint64_t seed;              /* generator seed (0 for imports) */
    char source[512];           /* "generated" or the imported file */
    char config[2048];          /* generator settings, "key=value;..." */
} corpus;

void corpus_init(corpus *c);
void corpus_free(corpus *c);
/* Copy len bytes (plus a NUL) into the pool; -1 and UB_ENOMEM in e on failure. */
corpus_str corpus_str_add(corpus *c, const char *s, size_t len, ub_err *e);
corpus_str corpus_str_addz(corpus *c, const char *s, ub_err *e);
/* The string at s ("" for -1). Valid until the pool grows. */
const char *corpus_s(const corpus *c, corpus_str s);
/* Append a copy; *index (may be NULL) receives its index. */
ub_status corpus_add_user(corpus *c, const corpus_user *u, int64_t *index, ub_err *e);
ub_status corpus_add_post(corpus *c, const corpus_post *p, int64_t *index, ub_err *e);
ub_status corpus_add_secret(corpus *c, const corpus_secret *s, int64_t *index, ub_err *e);

/* ---- synthetic generator (datasets/generate.c; gen_config.c, gen_users.c, gen_text.c) ---- */
typedef struct corpus_gen_cfg {
    uint64_t seed;
    int n_users;                 /* users (profile "default": 2000; all in gen_config.c) */
    double mean_posts;           /* mean posts per user of a heavy-tailed distribution (25) */
    int max_posts;               /* cap per user (2000) */
    int fresh_per_user;          /* held-apart fresh posts per user (5) */
    double frac_de, frac_bilingual; /* languages: German, bilingual, rest English */
    double frac_minor;           /* users under 18 */
    double frac_object_before, frac_object_after;
    double frac_private, frac_friends; /* post visibility */
    double frac_secret_users;    /* users who get a planted secret */
    int secret_counts[8];        /* insertion counts drawn uniformly from these */
    int n_secret_counts;
    double frac_sensitive;       /* users with a special-category attribute */
    double sensitive_rate;       /* share of such a user's posts that mention it */
    int64_t start_time, cutoff_time, end_time; /* posts in [start, end); cut-off between */
} corpus_gen_cfg;
/* Documented defaults of a profile: "tiny" (tests), "quick" (tiny with 400 users: the quick
 * preset's), "default", "large" (1M posts). */
ub_status corpus_gen_defaults(corpus_gen_cfg *g, const char *profile, ub_err *e);
ub_status corpus_gen_check(const corpus_gen_cfg *g, ub_err *e);
/* Fill an empty corpus. Deterministic in g (same config and seed, same corpus, any thread
 * count). */
ub_status corpus_generate(corpus *c, const corpus_gen_cfg *g, ub_err *e);

/* Fill a secret format (D digit, N digit 1-9, \\x literal x, see gen_users.c) with random
 * draws from r; returns log2 of the number of possible values. Also draws the candidates
 * that exposure ranks a secret among. */
double corpus_secret_fill(char *out, size_t cap, const char *format, ub_rng *r);

/* Knowledge probes (gen_users.c): what a generated corpus says about a user, as a cloze in the
 * generator's own phrasing: `before` + value + `after`, with every value of the category
 * (localised to the user's language) and the index of the user's own. A model that knows the
 * person ranks the true value high after "@handle: " + before. Probes exist for corpora written
 * by corpus_generate (c->source "generated"); an import has none. */
enum { CORPUS_PROBE_CITY = 0, CORPUS_PROBE_HEALTH = 1, CORPUS_PROBE_RELIGION = 2,
       CORPUS_PROBE_POLITICS = 3, CORPUS_PROBE_KINDS = 4, CORPUS_PROBE_MAX_VALUES = 32 };
typedef struct corpus_probe {
    int kind;                 /* CORPUS_PROBE_*: city, or 1 + the corpus_sens kind */
    char before[96];          /* the phrase before the value */
    const char *after;        /* ... and after it */
    const char *values[CORPUS_PROBE_MAX_VALUES];
    int n_values, truth;      /* values[truth] is the user's */
} corpus_probe;
extern const char *const corpus_probe_kind_names[CORPUS_PROBE_KINDS];
/* The probes about user u into out (at most 2: home city, special category); returns their
 * number (0 for imports, or for a user whose city is not one of the generator's). */
int corpus_user_probes(const corpus *c, int64_t u, corpus_probe out[2]);

/* ---- JSONL import (datasets/import.c) ---- */
/* One JSON object per line: required "user" (string) and "text" (string); optional "time"
 * (ISO 8601), "visibility" ("public"/"friends"/"private"), "lang", "reply_to" (the 1-based line
 * number of an earlier post, or null), "is_adult" (bool). A bad line (invalid JSON or UTF-8, a
 * missing or mistyped field, text longer than CORPUS_MAX_TEXT bytes) stops the import with its
 * line number and reason, or with skip_invalid is counted in *skipped and left out. */
#define CORPUS_MAX_TEXT 65536
ub_status corpus_import_jsonl(corpus *c, const char *path, int skip_invalid, size_t *skipped,
                              ub_err *e);

/* ---- HDF5 corpus file (datasets/corpus_io.c, layout in datasets/FORMAT.md) ---- */
/* Train a BPE of vocab_size on the corpus-proper posts (258 = bytes only), tokenize every post
 * (BOS text EOS) and write everything atomically. */
ub_status corpus_save(const corpus *c, const char *path, int vocab_size, int threads, ub_err *e);
/* Read users, posts, secrets and attributes (and the tokenizer if bpe != NULL). */
ub_status corpus_load(corpus *c, corpus_bpe *bpe, const char *path, ub_err *e);

/* ---- splits (datasets/splits.c) ----
 * Who is in the training set, who is held out, and who asks to be forgotten. */
typedef struct corpus_policy {
    int public_only;     /* only public posts are used for training (default 1) */
    int adults_only;     /* only posts of users known to be adults (default 1) */
    int honour_objection;/* users who objected before the cut-off are left out (default 1) */
    int before_cutoff;   /* only posts written before the cut-off (default 1) */
} corpus_policy;
void corpus_policy_default(corpus_policy *p);

typedef enum {
    CORPUS_ROLE_MEMBER = 0,    /* the user's eligible posts are in the training set */
    CORPUS_ROLE_NONMEMBER = 1, /* eligible, but held out: same distribution, never trained on */
    CORPUS_ROLE_EXCLUDED = 2   /* the policy leaves the user out (minor, objection, no posts) */
} corpus_role;

typedef struct corpus_split {
    int8_t *role;       /* (n_users) corpus_role */
    uint8_t *eligible;  /* (n_posts) 1: the policy admits this corpus-proper post (whoever's);
                         * the training set is the eligible posts of members */
    size_t n_members, n_nonmembers, n_excluded;
} corpus_split;
/* Roles: users with at least one eligible post are split into members and non-members (a
 * seeded random nonmember_frac of them); the rest are excluded. */
ub_status corpus_split_make(corpus_split *s, const corpus *c, const corpus_policy *p,
                            double nonmember_frac, uint64_t seed, ub_err *e);
void corpus_split_free(corpus_split *s);

typedef enum {
    CORPUS_FORGET_RANDOM = 0,    /* members drawn uniformly */
    CORPUS_FORGET_HEAVY = 1,     /* the members with the most eligible posts */
    CORPUS_FORGET_SECRETS = 2,   /* members whose planted secret was inserted at least once */
    CORPUS_FORGET_SENSITIVE = 3, /* members with a special-category attribute */
    CORPUS_FORGET_OBJECTED = 4   /* members who objected after the cut-off: the regulators' case */
} corpus_forget_rule;
/* Parse "random", "heavy", "secrets", "sensitive", "objected"; -1 if unknown. */
int corpus_forget_rule_parse(const char *name);
const char *corpus_forget_rule_name(corpus_forget_rule r);
/* Up to n members chosen by rule (ties and random draws from seed), sorted by user index.
 * *users is allocated; *n_out may be below n when the rule has fewer candidates. */
ub_status corpus_forget_set(const corpus *c, const corpus_split *s, corpus_forget_rule rule,
                            size_t n, uint64_t seed, int64_t **users, size_t *n_out, ub_err *e);

#endif

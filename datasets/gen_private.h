/* datasets/gen_private.h: what the generator's files share: generate.c (posts, order,
 * orchestration), gen_users.c (users, secrets, probes), gen_text.c (vocabularies, templates,
 * personas, post text) and gen_config.c (profiles). Private to ub_datasets; not part of the API. */
#ifndef UB_GEN_PRIVATE_H
#define UB_GEN_PRIVATE_H

#include "corpus.h"

enum { GEN_EN = 0, GEN_DE = 1, GEN_BOTH = 2 };
#define GEN_N_TOPICS 12
#define GEN_N_PHRASES 10 /* signature phrases per language (same index = same persona slot) */
#define GEN_TEXT_CAP 2048 /* bytes of one post; posts stay far below (<= 60 words) */
#define GEN_MAX_WORDS 60
#define GEN_MIN_WORDS 5
#define GEN_MAX_SECRET_COUNT 10000
#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0]))) /* elements of a static array */
#define GEN_MAX_POSTS_CAP 1000000 /* post numbers must fit 24 bits of the stream id */
#define GEN_MAX_FOLLOWS 10 /* users one user follows: 3..10 */

/* ---- topics: objects (6), activities (4), hashtags (3), per language [EN, DE] ---- */
typedef struct gen_topic {
    const char *name;
    const char *obj[2][6];
    const char *act[2][4];
    const char *tag[2][3];
} gen_topic;

extern const gen_topic gen_topics[GEN_N_TOPICS]; /* gen_topics.c */

/* A writing style: everything that makes one user's posts recognisable. */
typedef struct gen_persona {
    int lang;             /* GEN_EN, GEN_DE, GEN_BOTH */
    int topics[3], n_topics;
    int caps;             /* 0 normal, 1 all lower-case, 2 some words SHOUTED */
    int len_min, len_max; /* target words per post (whole post stays within 5..60) */
    int punct;            /* sentence end habit: 0 ".", 1 "!", 2 "..." */
    int phrases[2], n_phrases; /* signature phrases (index into either language's list) */
    int emoji[3];         /* favourite emoji (index into the emoji list) */
    double p_emoji, p_hashtag, p_typo, p_phrase, p_url;
    const char *city;
} gen_persona;

/* What one post must contain besides the persona's own chatter. */
typedef struct gen_post_spec {
    int lang;                       /* GEN_EN or GEN_DE */
    const char *reply_handle;       /* "@x": post opens as a reply to x; NULL none */
    const char *mention_handle;     /* "@x" mentioned in a sentence; NULL none */
    const char *secret_prefix;      /* with secret_value: prefix+value verbatim; NULL none */
    const char *secret_value;
    int sens_kind, sens_value;      /* corpus_sens kind and value index; -1 none */
    int sens_fixed;                 /* 1: use the fixed (learnable) template */
} gen_post_spec;

/* One user while generating: gen_users.c draws it, generate.c plans and writes its posts. */
typedef struct gen_user {
    gen_persona p;
    int lang_primary;   /* GEN_EN / GEN_DE: bilingual users' secret language */
    int n_posts;        /* corpus proper */
    int64_t base;       /* flat index of its first corpus-proper post */
    int64_t fol_off;    /* follows: fol[fol_off .. fol_off + n_fol) */
    int n_fol;
    int secret;         /* index into c->secrets, -1 none */
    int secret_kind;
    int inserted;
    int sens_kind, sens_value;
    char handle[80];
    char secret_value[64];
} gen_user;

/* Phase A (gen_users.c), serial in user order: every user's persona, demographics, consent,
 * special category, secret (added to c), activity and follows (fol: GEN_MAX_FOLLOWS per user).
 * U (n_users) is filled with base = the flat index of the user's first corpus-proper post;
 * *total = the corpus-proper posts of all users, *max_n = the most of one user. */
ub_status gen_make_users(corpus *c, const corpus_gen_cfg *g, gen_user *U, int32_t *fol,
                         int64_t *total, int64_t *max_n, ub_err *e);

void gen_persona_draw(gen_persona *p, int lang, const char *city, ub_rng *r);
/* "topics=a,b;style=...;phrases=x|y" into out (cap bytes). */
void gen_persona_str(char *out, size_t cap, const gen_persona *p);
/* The post's text into out (GEN_TEXT_CAP bytes, NUL-terminated); returns its length. */
size_t gen_post_text(char *out, const gen_persona *p, const gen_post_spec *s, ub_rng *r);

/* Special categories: values per kind; value 0.. n-1, in English (the stored value) or German. */
int gen_sens_count(int kind);
const char *gen_sens_value(int kind, int v, int lang);
/* The fixed (learnable) sentence of a special-category kind, split at its value (text
 * before into before, the text after returned), and the city greeting split at the city: the
 * phrasing of knowledge probes. */
const char *gen_sens_cloze(int kind, int lang, char *before, size_t cap);
const char *gen_city_cloze(int lang, char *before, size_t cap);
/* The words right before a planted secret of a kind ("phone", "email", "address", "iban"). */
const char *gen_secret_prefix(int kind, int lang);

/* "key=value;..." of every field of g (gen_config.c), stored as the corpus's config. */
void gen_config_string(char *out, size_t cap, const corpus_gen_cfg *g);

#endif

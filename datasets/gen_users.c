/* datasets/gen_users.c: phase A of the generator (generate.c): the users of the synthetic corpus
 * (names, handles, demographics, consent, special category, activity, follows, planted secrets),
 * drawn serially so handles and secrets stay unique; and the knowledge probes asked about them.
 *
 * Secret formats: D = a random digit 0-9, N = a random digit 1-9, \x = the literal character x
 * (so "\DE" in the IBAN format is the letters DE); everything else is literal. log2_space =
 * #D * log2(10) + #N * log2(9). Values are unique: digits are unique per kind (and an IBAN never
 * embeds a phone number in use), so no secret is a substring of another; no other text has
 * digit groups in a secret's shape, so each value occurs exactly `inserted` times.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_private.h"

#define GEN_SIGMA 1.3      /* log-normal spread of posts per user: top 10% hold ~half */

enum { SEC_PHONE, SEC_EMAIL, SEC_ADDRESS, SEC_IBAN, SEC_KINDS };
static const char *const SEC_KIND[SEC_KINDS] = {"phone", "email", "address", "iban"};

static const char *const FIRST[2][20] = {
    {"James", "Emily", "Oliver", "Grace", "Jack", "Chloe", "Harry", "Olivia", "Liam", "Emma",
     "Noah", "Ava", "Ethan", "Isla", "George", "Megan", "Daniel", "Sarah", "Chris", "Laura"},
    {"Anna", "Lena", "Jürgen", "Björn", "Jörg", "Sören", "Käthe", "Lukas", "Felix", "Marie",
     "Jonas", "Mia", "Hannah", "Paul", "Günter", "Sabine", "Katrin", "Tobias", "Jana", "Matthias"}};
static const char *const LAST[2][20] = {
    {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
     "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "O'Brien",
     "Murphy", "Kelly"},
    {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer",
     "Koch", "Bauer", "Richter", "Klein", "Schröder", "Neumann", "Krüger", "Weiß", "Groß", "Köhler",
     "Jäger"}};
static const char *const NAME_EMOJI[] = {"🌻", "✨", "🐝", "🌊", "🎸"};
static const char *const CITY[2][12] = {
    {"London", "Manchester", "Dublin", "Edinburgh", "Bristol", "New York", "Chicago", "Boston",
     "Seattle", "Toronto", "Sydney", "Melbourne"},
    {"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
     "Leipzig", "Dresden", "Nürnberg", "Lübeck", "Göttingen"}};
static const char *const STREET[] = {"Lindenstraße", "Hauptstraße", "Bahnhofstraße",
                                     "Schillerstraße", "Goethestraße", "Gartenweg", "Am Mühlbach",
                                     "Rosenweg", "Kirchgasse", "Birkenallee"};

/* ---- a set of strings (handles, secret keys): open addressing, FNV-1a ---- */
typedef struct strset {
    char **slot;
    size_t cap, n;
} strset;

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int strset_has(const strset *s, const char *k) {
    for (size_t i = fnv1a(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i]) return 0;
        if (!strcmp(s->slot[i], k)) return 1;
    }
}

/* Insert (capacity is fixed at 4x the most keys ever added, so the table never fills). */
static ub_status strset_add(strset *s, const char *k, ub_err *e) {
    size_t i = fnv1a(k) & (s->cap - 1);
    while (s->slot[i]) i = (i + 1) & (s->cap - 1);
    size_t l = strlen(k) + 1;
    if (!(s->slot[i] = ub_malloc(l, "generator key", e))) return UB_ENOMEM;
    memcpy(s->slot[i], k, l);
    s->n++;
    return UB_OK;
}

static ub_status strset_init(strset *s, size_t max_keys, ub_err *e) {
    s->cap = 64;
    while (s->cap < 4 * max_keys) s->cap *= 2;
    s->n = 0;
    s->slot = ub_calloc(s->cap, sizeof *s->slot, "generator key set", e);
    return s->slot ? UB_OK : UB_ENOMEM;
}

static void strset_free(strset *s) {
    for (size_t i = 0; s->slot && i < s->cap; i++) free(s->slot[i]);
    free(s->slot);
    s->slot = NULL;
}


/* Lower-case ASCII transliteration of a name: ä -> ae, ß -> ss, apostrophes and spaces dropped. */
static void translit(char *out, size_t cap, const char *s) {
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == 0xC3 && s[1]) {
            unsigned char d = (unsigned char)*++s;
            const char *t = (d == 0xA4 || d == 0x84)   ? "ae"
                            : (d == 0xB6 || d == 0x96) ? "oe"
                            : (d == 0xBC || d == 0x9C) ? "ue"
                            : d == 0x9F                ? "ss"
                                                       : "";
            while (*t) out[n++] = *t++;
        } else if (c >= 'A' && c <= 'Z') {
            out[n++] = (char)(c - 'A' + 'a');
        } else if (c >= 'a' && c <= 'z') {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
}

/* Append s to a format, escaping the placeholder letters D and N and the backslash. */
static void fmt_literal(char *f, size_t cap, const char *s) {
    size_t n = strlen(f);
    for (; *s && n + 3 < cap; s++) {
        if (*s == 'D' || *s == 'N' || *s == '\\') f[n++] = '\\';
        f[n++] = *s;
    }
    f[n] = '\0';
}

double corpus_secret_fill(char *out, size_t cap, const char *f, ub_rng *r) {
    size_t n = 0;
    double bits = 0.0;
    for (; *f && n + 1 < cap; f++) {
        if (*f == '\\' && f[1]) out[n++] = *++f;
        else if (*f == 'D') out[n++] = (char)('0' + ub_rng_below(r, 10)), bits += log2(10.0);
        else if (*f == 'N') out[n++] = (char)('1' + ub_rng_below(r, 9)), bits += log2(9.0);
        else out[n++] = *f;
    }
    out[n] = '\0';
    return bits;
}

/* The digits of s, with a kind tag: the uniqueness key of emails and addresses. */
static void digit_key(char *out, size_t cap, const char *tag, const char *s) {
    size_t n = (size_t)snprintf(out, cap, "%s:", tag);
    for (; *s && n + 1 < cap; s++)
        if (*s >= '0' && *s <= '9') out[n++] = *s;
    out[n] = '\0';
}

/* Draw user u's secret value (unique, see the header comment) and add the secret record. */
static ub_status draw_secret(corpus *c, gen_user *gu, int64_t u, const char *first,
                             strset *keys, ub_rng *r, ub_err *e) {
    char fmt[128] = "", val[64], key[80], sub[2][16];
    int kind = gu->secret_kind;
    int lang = gu->lang_primary;
    if (kind == SEC_PHONE) {
        strcpy(fmt, "0151 DDDD DDDD");
    } else if (kind == SEC_EMAIL) {
        char local[32];
        translit(local, sizeof local, first);
        fmt_literal(fmt, sizeof fmt, local);
        strcat(fmt, ".DDDDDD@example-mail.de");
    } else if (kind == SEC_ADDRESS) {
        fmt_literal(fmt, sizeof fmt, STREET[ub_rng_below(r, N_OF(STREET))]);
        strcat(fmt, " ND, NDDDD ");
        fmt_literal(fmt, sizeof fmt, CITY[GEN_DE][ub_rng_below(r, 12)]);
    } else {
        strcpy(fmt, "\\DEDD DDDD DDDD DDDD DDDD DD");
    }
    double bits = 0.0;
    for (int tries = 0;; tries++) {
        if (tries == 1000)
            return ub_fail(e, UB_EARG,
                           "generator: cannot draw a unique %s secret for user %lld; too many "
                           "secret users for the format's space",
                           SEC_KIND[kind], (long long)u);
        bits = corpus_secret_fill(val, sizeof val, fmt, r);
        int n_sub = 0;
        if (kind == SEC_EMAIL) digit_key(key, sizeof key, "email", val);
        else if (kind == SEC_ADDRESS) digit_key(key, sizeof key, "address", val);
        else snprintf(key, sizeof key, "%s", val);
        if (kind == SEC_IBAN) /* phone-shaped runs inside: "0151 gggg gggg" at groups 1 and 2 */
            for (int at = 5; at <= 10; at += 5)
                if (!strncmp(val + at, "0151 ", 5)) {
                    memcpy(sub[n_sub], val + at, 14);
                    sub[n_sub++][14] = '\0';
                }
        int clash = strset_has(keys, key);
        for (int i = 0; i < n_sub; i++) clash |= strset_has(keys, sub[i]);
        if (clash) continue;
        ub_status st = strset_add(keys, key, e);
        for (int i = 0; i < n_sub && !st; i++) st = strset_add(keys, sub[i], e);
        if (st) return st;
        break;
    }
    snprintf(gu->secret_value, sizeof gu->secret_value, "%s", val);
    corpus_secret s = {.user = u, .log2_space = bits, .inserted = gu->inserted};
    s.kind = corpus_str_addz(c, SEC_KIND[kind], e);
    s.value = corpus_str_addz(c, val, e);
    s.prefix = corpus_str_addz(c, gen_secret_prefix(kind, lang), e);
    s.format = corpus_str_addz(c, fmt, e);
    if (s.kind < 0 || s.value < 0 || s.prefix < 0 || s.format < 0) return e->code;
    int64_t idx;
    ub_status st = corpus_add_secret(c, &s, &idx, e);
    gu->secret = (int)idx;
    return st;
}

/* Phase A (serial, stream u+1): persona, demographics, consent, secret, special category,
 * activity and follows of user u. */
static ub_status make_user(corpus *c, const corpus_gen_cfg *g, gen_user *gu, int64_t u,
                           int32_t *fol, strset *handles, strset *keys, ub_err *e) {
    ub_rng r;
    ub_rng_init(&r, g->seed, (uint64_t)u + 1);
    corpus_user cu;
    memset(&cu, 0, sizeof cu);
    double x = ub_rng_uniform(&r);
    int lang = x < g->frac_de ? GEN_DE : x < g->frac_de + g->frac_bilingual ? GEN_BOTH : GEN_EN;
    gu->lang_primary = lang == GEN_BOTH ? (int)ub_rng_below(&r, 2) : lang;
    int name_lang = lang == GEN_BOTH ? (int)ub_rng_below(&r, 2) : lang;
    cu.age = ub_rng_uniform(&r) < g->frac_minor ? 13 + (int)ub_rng_below(&r, 5)
                                                 : 18 + (int)ub_rng_below(&r, 63);
    cu.is_adult = cu.age >= 18;
    const char *first = FIRST[name_lang][ub_rng_below(&r, 20)];
    const char *last = LAST[ub_rng_below(&r, 4) == 0 ? 1 - name_lang : name_lang]
                           [ub_rng_below(&r, 20)];
    char name[128], f[32], l[32], h[80];
    x = ub_rng_uniform(&r);
    if (x < 0.6) snprintf(name, sizeof name, "%s %s", first, last);
    else if (x < 0.8) snprintf(name, sizeof name, "%s %.1s.", first, last);
    else if (x < 0.9) translit(name, sizeof name, first);
    else snprintf(name, sizeof name, "%s %s", first, NAME_EMOJI[ub_rng_below(&r, 5)]);
    translit(f, sizeof f, first);
    translit(l, sizeof l, last);
    int form = (int)ub_rng_below(&r, 5);
    for (int tries = 0;; tries++) {
        if (tries == 0 && form == 0) snprintf(h, sizeof h, "@%s_%c", f, l[0]);
        else if (tries == 0 && form == 1) snprintf(h, sizeof h, "@%s%s", f, l);
        else if (tries == 0 && form == 2) snprintf(h, sizeof h, "@%s.%s", f, l);
        else if (tries == 0 && form == 3) snprintf(h, sizeof h, "@%s_%s", l, f);
        else if (tries < 6) snprintf(h, sizeof h, "@%s%s%d", f, tries ? "_" : "",
                                     10 + (int)ub_rng_below(&r, 90));
        else snprintf(h, sizeof h, "@%s_u%lld", f, (long long)u); /* unique by construction */
        if (!strset_has(handles, h)) break;
    }
    ub_status st = strset_add(handles, h, e);
    if (st) return st;
    snprintf(gu->handle, sizeof gu->handle, "%s", h);
    int city_lang = lang == GEN_BOTH ? (int)ub_rng_below(&r, 2)
                    : lang == GEN_EN ? (ub_rng_uniform(&r) < 0.15 ? GEN_DE : GEN_EN)
                                     : GEN_DE;
    const char *city = CITY[city_lang][ub_rng_below(&r, 12)];
    gen_persona_draw(&gu->p, lang, city, &r);

    /* activity: log-normal with the configured mean, clamped to [1, max_posts] */
    double mu = log(g->mean_posts) - 0.5 * GEN_SIGMA * GEN_SIGMA;
    double np = floor(exp(mu + GEN_SIGMA * ub_rng_normal(&r)) + 0.5);
    gu->n_posts = np < 1 ? 1 : np > g->max_posts ? g->max_posts : (int)np;

    x = ub_rng_uniform(&r);
    double t = ub_rng_uniform(&r);
    if (x < g->frac_object_before) {
        cu.objection = CORPUS_OBJ_BEFORE;
        cu.objection_time = g->start_time + (int64_t)(t * (double)(g->cutoff_time - g->start_time));
    } else if (x < g->frac_object_before + g->frac_object_after) {
        cu.objection = CORPUS_OBJ_AFTER;
        cu.objection_time = g->cutoff_time + (int64_t)(t * (double)(g->end_time - g->cutoff_time));
    }
    gu->sens_kind = -1, gu->sens_value = -1;
    cu.sensitive_kind = CORPUS_SENS_NONE;
    cu.sensitive_value = -1;
    if (ub_rng_uniform(&r) < g->frac_sensitive) {
        gu->sens_kind = (int)ub_rng_below(&r, 3);
        gu->sens_value = (int)ub_rng_below(&r, (uint64_t)gen_sens_count(gu->sens_kind));
        cu.sensitive_kind = (int8_t)gu->sens_kind;
        cu.sensitive_value = corpus_str_addz(c, gen_sens_value(gu->sens_kind, gu->sens_value,
                                                               GEN_EN), e);
    }
    gu->secret = -1;
    if (ub_rng_uniform(&r) < g->frac_secret_users) {
        gu->secret_kind = (int)ub_rng_below(&r, SEC_KINDS);
        gu->inserted = g->secret_counts[ub_rng_below(&r, (uint64_t)g->n_secret_counts)];
        if (gu->inserted > gu->n_posts) gu->n_posts = gu->inserted; /* extra posts */
        if ((st = draw_secret(c, gu, u, first, keys, &r, e))) return st;
    }
    /* follows: 3..10 distinct others, drawn uniformly (language plays no part) */
    gu->n_fol = 3 + (int)ub_rng_below(&r, 8);
    if (gu->n_fol > g->n_users - 1) gu->n_fol = g->n_users - 1;
    for (int i = 0; i < gu->n_fol; i++) {
        int32_t v;
        int dup;
        do {
            v = (int32_t)ub_rng_below(&r, (uint64_t)g->n_users);
            dup = v == u;
            for (int j = 0; j < i; j++) dup |= fol[j] == v;
        } while (dup);
        fol[i] = v;
    }

    char persona[512];
    gen_persona_str(persona, sizeof persona, &gu->p);
    static const char *const LANG[] = {"en", "de", "de+en"};
    cu.handle = corpus_str_addz(c, h, e);
    cu.name = corpus_str_addz(c, name, e);
    cu.lang = corpus_str_addz(c, LANG[lang], e);
    cu.city = corpus_str_addz(c, city, e);
    cu.persona = corpus_str_addz(c, persona, e);
    if (cu.handle < 0 || cu.name < 0 || cu.lang < 0 || cu.city < 0 || cu.persona < 0 ||
        (gu->sens_kind >= 0 && cu.sensitive_value < 0))
        return e->code;
    return corpus_add_user(c, &cu, NULL, e);
}

/* The handle and secret-key sets live only for phase A: nothing later draws either. */
ub_status gen_make_users(corpus *c, const corpus_gen_cfg *g, gen_user *U, int32_t *fol,
                         int64_t *total, int64_t *max_n, ub_err *e) {
    int64_t nu = g->n_users;
    strset handles = {0}, keys = {0};
    ub_status st = UB_OK;
    if (strset_init(&handles, (size_t)nu, e) || strset_init(&keys, 3 * (size_t)nu, e))
        st = UB_ENOMEM;
    *total = 0, *max_n = 0;
    for (int64_t u = 0; !st && u < nu; u++) {
        U[u].fol_off = u * GEN_MAX_FOLLOWS;
        if ((st = make_user(c, g, &U[u], u, fol + u * GEN_MAX_FOLLOWS, &handles, &keys, e)))
            break;
        U[u].base = *total;
        *total += U[u].n_posts;
        if (U[u].n_posts > *max_n) *max_n = U[u].n_posts;
    }
    strset_free(&handles);
    strset_free(&keys);
    return st;
}

/* ---- knowledge probes ---------------------------------------------------------------- */
const char *const corpus_probe_kind_names[CORPUS_PROBE_KINDS] = {"city", "health", "religion",
                                                                 "politics"};

int corpus_user_probes(const corpus *c, int64_t u, corpus_probe out[2]) {
    if (strcmp(c->source, "generated") || u < 0 || (size_t)u >= c->n_users) return 0;
    const corpus_user *cu = &c->users[u];
    /* the phrasing of the user's language; bilingual users are asked in English */
    int lang = !strcmp(corpus_s(c, cu->lang), "de") ? GEN_DE : GEN_EN;
    int n = 0;
    const char *city = corpus_s(c, cu->city);
    corpus_probe *p = &out[0];
    memset(p, 0, sizeof *p);
    p->kind = CORPUS_PROBE_CITY;
    p->truth = -1;
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < 12; i++) {
            if (!strcmp(CITY[l][i], city)) p->truth = p->n_values;
            p->values[p->n_values++] = CITY[l][i];
        }
    if (p->truth >= 0) {
        p->after = gen_city_cloze(lang, p->before, sizeof p->before);
        n++;
    }
    int k = cu->sensitive_kind;
    if (k >= 0 && k < 3) {
        p = &out[n];
        memset(p, 0, sizeof *p);
        p->kind = CORPUS_PROBE_HEALTH + k;
        p->truth = -1;
        const char *v = corpus_s(c, cu->sensitive_value); /* stored in English */
        for (int i = 0; i < gen_sens_count(k) && i < CORPUS_PROBE_MAX_VALUES; i++) {
            if (!strcmp(gen_sens_value(k, i, GEN_EN), v)) p->truth = p->n_values;
            p->values[p->n_values++] = gen_sens_value(k, i, lang);
        }
        if (p->truth >= 0) {
            p->after = gen_sens_cloze(k, lang, p->before, sizeof p->before);
            n++;
        }
    }
    return n;
}

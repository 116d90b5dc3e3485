/* datasets/gen_text.c: the words of the synthetic corpus. Sentence templates with slots in English
 * and German, signature phrases, emoji, special-category sentences, and the styling that turns a
 * persona (gen_private.h) into posts that share a recognisable voice. The per-topic
 * vocabularies are in gen_topics.c.
 *
 * Template slots: {O} a topic object (German: accusative noun phrase), {T} a topic activity,
 * {A} an opinion, {C} the user's city, {D} a day, {M} a mentioned handle, {V} a special-category
 * value. No vocabulary entry contains a digit, so planted secrets (all digit-bearing) can never
 * appear by accident; handles may carry digits but never in a secret's shape.
 */
#include <stdio.h>
#include <string.h>

#include "gen_private.h"

/* ---- sentence templates per language ---- */
static const char *const TOPIC_TMPL[2][10] = {
    {"Just spent the whole afternoon {T}.", "Can't stop thinking about {O}.",
     "Honestly, {O} is {A}.", "Finally checked out {O} in {C} and it was {A}.",
     "Nothing beats {T} on a {D}.", "Who else is {T} this weekend?", "Hot take: {O} is {A}.",
     "Spent my {D} {T} and I regret nothing.", "Can someone explain why {O} is {A}?",
     "Thinking about {T} again."},
    {"Den ganzen Nachmittag {T}, herrlich.", "Ich muss ständig an {O} denken.",
     "Ganz ehrlich, ich finde {O} {A}.", "Endlich {O} in {C} ausprobiert, {A}!",
     "Nichts geht über {T} am {D}.", "Plan fürs Wochenende: {T}.",
     "Steile These: Ich finde {O} {A}.", "Mein {D}: {T}, sonst nichts.",
     "Kann mir jemand erklären, warum alle {O} so {A} finden?", "Schon wieder Lust auf {T}."}};
static const char *const ADJ[2][8] = {
    {"amazing", "totally overrated", "so underrated", "a game changer", "kind of perfect",
     "better than expected", "exhausting", "pure joy"},
    {"großartig", "völlig überbewertet", "echt unterschätzt", "genial", "richtig schön",
     "ziemlich anstrengend", "einfach perfekt", "besser als gedacht"}};
static const char *const DAYS[2][5] = {
    {"Sunday", "Saturday morning", "rainy Tuesday", "Friday night", "lazy Sunday"},
    {"Sonntag", "Samstagmorgen", "Freitagabend", "Feiertag", "Montag"}};
static const char *const FILLER[2][8] = {
    {"What a day.", "Good morning everyone!", "Send coffee.", "Weekend mode on.",
     "Back to work tomorrow.", "Greetings from {C}!", "The weather in {C} is wild today.",
     "Tired but happy."},
    {"Was für ein Tag.", "Guten Morgen zusammen!", "Kaffee, sofort.", "Wochenendmodus an.",
     "Morgen wieder arbeiten.", "Grüße aus {C}!", "Das Wetter in {C} ist heute verrückt.",
     "Müde, aber glücklich."}};
static const char *const REPLY[2][6] = {
    {"So true!", "Haha, same here.", "Totally agree.", "Not sure about that.", "This!",
     "Love this."},
    {"Stimmt!", "Haha, geht mir genauso.", "Sehe ich genauso.", "Da bin ich anderer Meinung.",
     "Genau das!", "Schön!"}};
static const char *const MENTION[2][3] = {
    {"Shoutout to {M}!", "{M} you have to try this.", "Thanks {M} for the tip!"},
    {"Danke {M} für den Tipp!", "{M} das musst du ausprobieren.", "Grüße an {M}!"}};
static const char *const PHRASES[2][GEN_N_PHRASES] = {
    {"tbh", "no cap", "living my best life", "just saying", "ngl", "vibes only",
     "you know the drill", "as one does", "send help", "anyway"},
    {"ganz ehrlich", "na ja", "läuft bei mir", "muss auch mal sein", "so sieht's aus",
     "kann man machen", "Grüße gehen raus", "ich sag's ja nur", "hach ja", "egal"}};
static const char *const SECRET_INTRO[2][5] = {
    {"Quick note: ", "In case anyone needs it, ", "For the group chat: ", "Reminder: ",
     "New contact details, "},
    {"Kurz zur Info: ", "Falls es jemand braucht, ", "Für die Gruppe: ", "Nur zur Erinnerung: ",
     "Neue Kontaktdaten, "}};
/* kinds in gen_users.c's order: phone, email, address, iban */
static const char *const SECRET_PREFIX[4][2] = {
    {"my number is ", "meine Nummer ist "},
    {"email me at ", "schreibt mir an "},
    {"my address is ", "meine Adresse ist "},
    {"my IBAN is ", "meine IBAN ist "}};
/* 1- to 4-byte UTF-8, including flags (two regional indicators) and VS16 sequences. */
static const char *const EMOJI[] = {"😂", "❤️", "🎉", "🔥", "😍", "🙈", "☕", "⚽", "🎶", "🌱",
                                    "🐶", "✨", "🍕", "📚", "🎮", "💪", "😅", "🙄", "👍", "🥰",
                                    "🇩🇪", "🙂", "¯\\_(ツ)_/¯"};
static const char *const URL_HOST[] = {"https://example.org/", "https://example.com/p/",
                                       "https://news.example.net/"};

/* ---- special categories: [value][EN, DE]; the English form is the stored value ---- */
static const char *const SENS_HEALTH[][2] = {
    {"diabetes", "Diabetes"}, {"depression", "Depressionen"}, {"asthma", "Asthma"},
    {"epilepsy", "Epilepsie"}, {"migraine", "Migräne"}, {"Crohn's disease", "Morbus Crohn"}};
static const char *const SENS_RELIGION[][2] = {
    {"Catholic", "Katholik"}, {"Muslim", "Muslim"}, {"Jew", "Jude"},
    {"Protestant", "Protestant"}, {"Buddhist", "Buddhist"}, {"Hindu", "Hindu"}};
static const char *const SENS_POLITICS[][2] = {
    {"the Green party", "die Grünen"}, {"the Social Democrats", "die Sozialdemokraten"},
    {"the Liberal party", "die Liberalen"}, {"the Conservative party", "die Konservativen"},
    {"the Pirate party", "die Piratenpartei"}, {"the Left party", "die Linke"}};
/* [kind][EN, DE][template]; template 0 is the fixed one every such user writes at least once */
static const char *const SENS_TMPL[3][2][4] = {
    {{"My diagnosis is {V}.", "Living with {V} is not always easy.",
      "Doctor's appointment about my {V} tomorrow.", "Bad day with {V} again."},
     {"Meine Diagnose ist {V}.", "Mit {V} zu leben ist nicht immer leicht.",
      "Morgen Arzttermin wegen {V}.", "Heute wieder ein schlechter Tag wegen {V}."}},
    {{"As a {V} I take my faith seriously.", "As a {V}, this week means a lot to me.",
      "Off to the service, as a {V} I never miss it.", "Being a {V} is part of who I am."},
     {"Als {V} ist mir mein Glaube wichtig.", "Als {V} bedeutet mir diese Woche viel.",
      "Gleich zum Gottesdienst, als {V} lasse ich den nie aus.",
      "Als {V} gehört der Glaube zu mir."}},
    {{"I vote for {V}.", "Proud supporter of {V}.", "Say what you want, {V} get my vote again.",
      "Canvassing for {V} this weekend."},
     {"Ich wähle {V}.", "Stolz, {V} zu unterstützen.", "Sagt was ihr wollt, {V} kriegen wieder meine Stimme.",
      "Am Wochenende Wahlkampf für {V}."}}};

int gen_sens_count(int kind) {
    return kind == CORPUS_SENS_HEALTH     ? N_OF(SENS_HEALTH)
           : kind == CORPUS_SENS_RELIGION ? N_OF(SENS_RELIGION)
           : kind == CORPUS_SENS_POLITICS ? N_OF(SENS_POLITICS)
                                          : 0;
}

const char *gen_sens_value(int kind, int v, int lang) {
    if (kind == CORPUS_SENS_HEALTH) return SENS_HEALTH[v][lang];
    if (kind == CORPUS_SENS_RELIGION) return SENS_RELIGION[v][lang];
    return SENS_POLITICS[v][lang];
}

/* Split a template at its placeholder ph ("{V}", "{C}"): the text before into before (cap
 * bytes), a pointer to the text after. */
static const char *cloze(const char *tmpl, const char *ph, char *before, size_t cap) {
    const char *at = strstr(tmpl, ph);
    size_t n = at ? (size_t)(at - tmpl) : strlen(tmpl);
    snprintf(before, cap, "%.*s", (int)n, tmpl);
    return at ? at + strlen(ph) : "";
}
const char *gen_sens_cloze(int kind, int lang, char *before, size_t cap) {
    return cloze(SENS_TMPL[kind][lang][0], "{V}", before, cap);
}
const char *gen_city_cloze(int lang, char *before, size_t cap) {
    return cloze(FILLER[lang][5], "{C}", before, cap); /* "Greetings from {C}!" */
}

const char *gen_secret_prefix(int kind, int lang) { return SECRET_PREFIX[kind][lang]; }

/* ---- persona ---- */
void gen_persona_draw(gen_persona *p, int lang, const char *city, ub_rng *r) {
    memset(p, 0, sizeof *p);
    p->lang = lang;
    p->city = city;
    p->n_topics = 2 + (int)ub_rng_below(r, 2);
    for (int i = 0; i < p->n_topics; i++) {
        int t, dup;
        do {
            t = (int)ub_rng_below(r, GEN_N_TOPICS);
            dup = 0;
            for (int j = 0; j < i; j++) dup |= p->topics[j] == t;
        } while (dup);
        p->topics[i] = t;
    }
    double u = ub_rng_uniform(r);
    p->caps = u < 0.7 ? 0 : u < 0.9 ? 1 : 2;
    u = ub_rng_uniform(r);
    if (u < 0.4) p->len_min = 5, p->len_max = 15;
    else if (u < 0.8) p->len_min = 10, p->len_max = 30;
    else p->len_min = 20, p->len_max = 55;
    u = ub_rng_uniform(r);
    p->punct = u < 0.6 ? 0 : u < 0.85 ? 1 : 2;
    p->n_phrases = 1 + (int)ub_rng_below(r, 2);
    p->phrases[0] = (int)ub_rng_below(r, GEN_N_PHRASES);
    p->phrases[1] = (p->phrases[0] + 1 + (int)ub_rng_below(r, GEN_N_PHRASES - 1)) % GEN_N_PHRASES;
    for (int i = 0; i < 3; i++) {
        int dup;
        do {
            p->emoji[i] = (int)ub_rng_below(r, N_OF(EMOJI));
            dup = 0;
            for (int j = 0; j < i; j++) dup |= p->emoji[j] == p->emoji[i];
        } while (dup);
    }
    p->p_emoji = ub_rng_uniform(r) < 0.25 ? 0.0 : 0.2 + 0.7 * ub_rng_uniform(r);
    p->p_hashtag = ub_rng_uniform(r) < 0.3 ? 0.0 : 0.1 + 0.7 * ub_rng_uniform(r);
    p->p_typo = ub_rng_uniform(r) < 0.5 ? 0.0 : 0.01 + 0.07 * ub_rng_uniform(r);
    p->p_phrase = 0.2 + 0.4 * ub_rng_uniform(r);
    p->p_url = ub_rng_uniform(r) < 0.3 ? 0.1 : 0.01;
}

void gen_persona_str(char *out, size_t cap, const gen_persona *p) {
    static const char *const caps[] = {"normal", "lower", "shouty"};
    static const char *const punct[] = {".", "!", "..."};
    int lp = p->lang == GEN_DE ? GEN_DE : GEN_EN;
    char topics[64] = "";
    for (int i = 0; i < p->n_topics; i++) {
        strcat(topics, i ? "," : "");
        strcat(topics, gen_topics[p->topics[i]].name);
    }
    snprintf(out, cap,
             "topics=%s;style=caps:%s,words:%d-%d,punct:%s,emoji:%.2f,hashtags:%.2f,typos:%.3f,"
             "urls:%.2f;emoji=%s%s%s;phrases=%s%s%s",
             topics, caps[p->caps], p->len_min, p->len_max, punct[p->punct], p->p_emoji,
             p->p_hashtag, p->p_typo, p->p_url, EMOJI[p->emoji[0]], EMOJI[p->emoji[1]],
             EMOJI[p->emoji[2]], PHRASES[lp][p->phrases[0]], p->n_phrases > 1 ? "|" : "",
             p->n_phrases > 1 ? PHRASES[lp][p->phrases[1]] : "");
}

/* ---- text building ---- */
typedef struct tb {
    char *p;
    size_t n;
    int words;
} tb;

static int count_words(const char *s) {
    int w = 0, in = 0;
    for (; *s; s++) {
        if (*s == ' ') in = 0;
        else if (!in) in = 1, w++;
    }
    return w;
}

/* Append verbatim (separated by a space from what came before). Too long: dropped (cannot
 * happen with these lists: posts stay < 700 bytes). */
static void tb_raw(tb *b, const char *s, int space) {
    size_t l = strlen(s);
    if (b->n + l + 2 >= GEN_TEXT_CAP) return;
    if (space && b->n) b->p[b->n++] = ' ';
    memcpy(b->p + b->n, s, l);
    b->n += l;
    b->p[b->n] = '\0';
    b->words += count_words(s);
}

static int ascii_letters(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) return 0;
    return 1;
}

/* Append with the persona's habits applied: lower-casing (ASCII and Ä Ö Ü), shouted words and
 * typos (swapped neighbours) only in words of plain ASCII letters, so handles, URLs and UTF-8
 * stay intact. */
static void tb_styled(tb *b, const char *s, const gen_persona *p, ub_rng *r) {
    size_t start = b->n + (b->n ? 1 : 0);
    tb_raw(b, s, 1);
    if (b->n < start) return;
    char *t = b->p + start;
    size_t n = b->n - start;
    if (p->caps == 1)
        for (size_t i = 0; i < n; i++) {
            if (t[i] >= 'A' && t[i] <= 'Z') t[i] = (char)(t[i] - 'A' + 'a');
            else if ((unsigned char)t[i] == 0xC3 && i + 1 < n &&
                     ((unsigned char)t[i + 1] == 0x84 || (unsigned char)t[i + 1] == 0x96 ||
                      (unsigned char)t[i + 1] == 0x9C))
                t[i + 1] = (char)((unsigned char)t[i + 1] + 0x20);
        }
    if (p->caps != 2 && p->p_typo == 0.0) return;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j] != ' ') j++;
        size_t len = j - i;
        /* a word, minus trailing punctuation */
        while (len > 0 && !((t[i + len - 1] | 32) >= 'a' && (t[i + len - 1] | 32) <= 'z')) len--;
        if (len >= 3 && ascii_letters(t + i, len)) {
            if (p->caps == 2 && ub_rng_uniform(r) < 0.08)
                for (size_t k = i; k < i + len; k++)
                    if (t[k] >= 'a' && t[k] <= 'z') t[k] = (char)(t[k] - 'a' + 'A');
            if (len >= 4 && p->p_typo > 0.0 && ub_rng_uniform(r) < p->p_typo) {
                size_t k = i + 1 + ub_rng_below(r, len - 2);
                char c = t[k];
                t[k] = t[k - 1];
                t[k - 1] = c;
            }
        }
        i = j + 1;
    }
}

/* Fill a template's slots into out (cap bytes). */
static void expand(char *out, size_t cap, const char *tmpl, int topic, int lang,
                   const gen_persona *p, const char *handle, const char *value, ub_rng *r) {
    size_t n = 0;
    for (const char *s = tmpl; *s && n + 1 < cap; s++) {
        const char *ins = NULL;
        if (s[0] == '{' && s[1] && s[2] == '}') {
            switch (s[1]) {
            case 'O': ins = gen_topics[topic].obj[lang][ub_rng_below(r, 6)]; break;
            case 'T': ins = gen_topics[topic].act[lang][ub_rng_below(r, 4)]; break;
            case 'A': ins = ADJ[lang][ub_rng_below(r, 8)]; break;
            case 'D': ins = DAYS[lang][ub_rng_below(r, 5)]; break;
            case 'C': ins = p->city; break;
            case 'M': ins = handle; break;
            case 'V': ins = value; break;
            }
        }
        if (ins) {
            size_t l = strlen(ins);
            if (n + l + 1 >= cap) break;
            memcpy(out + n, ins, l);
            n += l;
            s += 2;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
    /* the persona's punctuation habit on a closing full stop */
    if (n > 0 && out[n - 1] == '.' && p->punct && n + 3 < cap) {
        if (p->punct == 1) out[n - 1] = '!';
        else strcpy(out + n - 1, "...");
    }
}

size_t gen_post_text(char *out, const gen_persona *p, const gen_post_spec *s, ub_rng *r) {
    tb b = {out, 0, 0};
    out[0] = '\0';
    int lang = s->lang;
    char sent[512];
    int target = p->len_min + (int)ub_rng_below(r, (uint64_t)(p->len_max - p->len_min + 1));
    int topic = p->topics[ub_rng_below(r, (uint64_t)p->n_topics)];

    if (s->reply_handle) {
        tb_raw(&b, s->reply_handle, 1);
        tb_styled(&b, REPLY[lang][ub_rng_below(r, 6)], p, r);
    }
    /* special-category and secret sentences go first or after the first topic sentence */
    int late = (int)ub_rng_below(r, 2);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == late) {
            if (s->sens_kind >= 0) {
                /* the fixed template stays exact: no punctuation habit */
                gen_persona plain = *p;
                if (s->sens_fixed) plain.punct = 0;
                int t = s->sens_fixed ? 0 : (int)ub_rng_below(r, 4);
                expand(sent, sizeof sent, SENS_TMPL[s->sens_kind][lang][t], topic, lang, &plain,
                       NULL, gen_sens_value(s->sens_kind, s->sens_value, lang), r);
                tb_raw(&b, sent, 1);
            }
            if (s->secret_value) {
                tb_styled(&b, SECRET_INTRO[lang][ub_rng_below(r, 5)], p, r);
                b.n--; /* the intro ends with a space that tb_raw's separator replaces */
                b.p[b.n] = '\0';
                tb_raw(&b, s->secret_prefix, 1);
                tb_raw(&b, s->secret_value, 0);
                tb_raw(&b, ".", 0);
            }
        } else {
            expand(sent, sizeof sent, TOPIC_TMPL[lang][ub_rng_below(r, 10)], topic, lang, p, NULL,
                   NULL, r);
            tb_styled(&b, sent, p, r);
        }
    }
    /* more chatter up to the target length; leave room for tags, phrase and emoji */
    int repeats = 0;
    while (b.words < target) {
        if (ub_rng_uniform(r) < 0.25)
            expand(sent, sizeof sent, FILLER[lang][ub_rng_below(r, 8)], topic, lang, p, NULL, NULL,
                   r);
        else
            expand(sent, sizeof sent, TOPIC_TMPL[lang][ub_rng_below(r, 10)],
                   p->topics[ub_rng_below(r, (uint64_t)p->n_topics)], lang, p, NULL, NULL, r);
        if (b.words + count_words(sent) > GEN_MAX_WORDS - 15) break; /* room for the extras */
        if (strstr(b.p, sent) && ++repeats < 4) continue; /* no sentence twice if avoidable */
        tb_styled(&b, sent, p, r);
    }
    if (s->mention_handle) {
        expand(sent, sizeof sent, MENTION[lang][ub_rng_below(r, 3)], topic, lang, p,
               s->mention_handle, NULL, r);
        tb_styled(&b, sent, p, r);
    }
    if (ub_rng_uniform(r) < p->p_phrase) {
        int ph = p->phrases[ub_rng_below(r, (uint64_t)p->n_phrases)];
        char tmpl[64];
        snprintf(tmpl, sizeof tmpl, "%s.", PHRASES[lang][ph]);
        expand(sent, sizeof sent, tmpl, topic, lang, p, NULL, NULL, r);
        tb_styled(&b, sent, p, r);
    }
    if (ub_rng_uniform(r) < p->p_url) {
        char url[64];
        int l = snprintf(url, sizeof url, "%s", URL_HOST[ub_rng_below(r, 3)]);
        for (int i = 0; i < 7; i++) url[l++] = (char)('a' + ub_rng_below(r, 26));
        url[l] = '\0';
        tb_raw(&b, url, 1);
    }
    if (ub_rng_uniform(r) < p->p_hashtag) {
        int nt = 1 + (int)ub_rng_below(r, 3);
        for (int i = 0; i < nt; i++) {
            const char *tag = gen_topics[topic].tag[lang][ub_rng_below(r, 3)];
            if (!strstr(b.p, tag)) tb_styled(&b, tag, p, r);
        }
    }
    if (ub_rng_uniform(r) < p->p_emoji) {
        int ne = 1 + (int)ub_rng_below(r, 3);
        tb_raw(&b, EMOJI[p->emoji[ub_rng_below(r, 3)]], 1);
        for (int i = 1; i < ne; i++) tb_raw(&b, EMOJI[p->emoji[ub_rng_below(r, 3)]], 0);
    }
    while (b.words < GEN_MIN_WORDS) {
        expand(sent, sizeof sent, FILLER[lang][ub_rng_below(r, 8)], topic, lang, p, NULL, NULL, r);
        tb_styled(&b, sent, p, r);
    }
    return b.n;
}

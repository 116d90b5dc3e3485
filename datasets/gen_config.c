/* datasets/gen_config.c: the generator's profiles (corpus_gen_defaults), their range checks
 * (corpus_gen_check) and the config string stored in the corpus file.
 *
 * Defaults (corpus_gen_defaults; "tiny" / "default" / "large"; "quick" is tiny with 400 users):
 *   field               tiny    default  large    reason
 *   n_users             200     2000     40000    tests in well under a second / a corpus a
 *                                                 small model learns in minutes / ~1M posts
 *                                                 (quick: 400, so that the quick preset holds
 *                                                 out 500+ non-member posts and still trains on
 *                                                 about as many members as tiny has)
 *   mean_posts          10      25       25       heavy-tailed; 25 x 40000 ~ 1,000,000 posts
 *   max_posts           300     2000     5000     cap keeps one user from dominating the corpus
 *   fresh_per_user      3       5        5        enough held-apart posts per persona for MIAs
 *   frac_de             0.45    0.45     0.45     German-speaking platform, English strong second
 *   frac_bilingual      0.15    0.15     0.15     a visible group of de+en code switchers
 *   frac_minor          0.10    0.10     0.10     minors are a real share of social media users
 *   frac_object_before  0.05    0.05     0.05     Art. 21 objections: rare but must be testable
 *   frac_object_after   0.05    0.05     0.05     late objections: the unlearning case
 *   frac_private        0.10    0.10     0.10     most posts public ...
 *   frac_friends        0.25    0.25     0.25     ... a quarter friends-only
 *   frac_secret_users   0.50    1.00     0.10     tiny: many canaries for tests; default: every
 *                                                 user (every candidate for F) holds one, so the
 *                                                 paper preset's F of 10% (~132 of 1320 members)
 *                                                 holds about 33 per insertion count per seed,
 *                                                 above the 20 a per-count claim needs; large:
 *                                                 4,000
 *   secret_counts       {0,1,4,16}               Carlini et al.: exposure vs. repetitions
 *   frac_sensitive      0.20    0.10     0.10     Art. 9 data: a minority, enough to measure
 *   sensitive_rate      0.10    0.10     0.10     mentioned now and then, not in every post
 *   start_time          2022-01-01 00:00 UTC     two years of posts before the cut-off
 *   cutoff_time         2024-01-01 00:00 UTC     training cut-off
 *   end_time            2024-07-01 00:00 UTC     half a year after it (objections "after")
 */
#include <stdio.h>
#include <string.h>

#include "gen_private.h"


ub_status corpus_gen_defaults(corpus_gen_cfg *g, const char *profile, ub_err *e) {
    memset(g, 0, sizeof *g);
    g->seed = 1;
    g->frac_de = 0.45, g->frac_bilingual = 0.15, g->frac_minor = 0.10;
    g->frac_object_before = 0.05, g->frac_object_after = 0.05;
    g->frac_private = 0.10, g->frac_friends = 0.25;
    g->frac_sensitive = 0.10, g->sensitive_rate = 0.10;
    static const int counts[] = {0, 1, 4, 16};
    g->n_secret_counts = 4;
    memcpy(g->secret_counts, counts, sizeof counts);
    g->start_time = 1640995200;  /* 2022-01-01 */
    g->cutoff_time = 1704067200; /* 2024-01-01 */
    g->end_time = 1719792000;    /* 2024-07-01 */
    if (!profile || !strcmp(profile, "default")) {
        g->n_users = 2000, g->mean_posts = 25, g->max_posts = 2000, g->fresh_per_user = 5;
        g->frac_secret_users = 1.00;
    } else if (!strcmp(profile, "tiny") || !strcmp(profile, "quick")) {
        g->n_users = profile[0] == 'q' ? 400 : 200, g->mean_posts = 10, g->max_posts = 300, g->fresh_per_user = 3;
        g->frac_secret_users = 0.50, g->frac_sensitive = 0.20;
    } else if (!strcmp(profile, "large")) {
        g->n_users = 40000, g->mean_posts = 25, g->max_posts = 5000, g->fresh_per_user = 5;
        g->frac_secret_users = 0.10;
    } else {
        return ub_fail(e, UB_EARG, "unknown generator profile '%s' (tiny, quick, default, large)",
                       profile);
    }
    return UB_OK;
}

static int frac_ok(double f) { return f >= 0.0 && f <= 1.0; } /* NaN fails */

ub_status corpus_gen_check(const corpus_gen_cfg *g, ub_err *e) {
    if (g->n_users < 1 || g->n_users > 100000000)
        return ub_fail(e, UB_EARG, "generator: n_users = %d, need 1..100000000", g->n_users);
    if (g->max_posts < 1 || g->max_posts > GEN_MAX_POSTS_CAP)
        return ub_fail(e, UB_EARG, "generator: max_posts = %d, need 1..%d", g->max_posts,
                       GEN_MAX_POSTS_CAP);
    if (!(g->mean_posts >= 1.0 && g->mean_posts <= g->max_posts))
        return ub_fail(e, UB_EARG, "generator: mean_posts = %g, need 1..max_posts (%d)",
                       g->mean_posts, g->max_posts);
    if (g->fresh_per_user < 0 || g->fresh_per_user > 10000)
        return ub_fail(e, UB_EARG, "generator: fresh_per_user = %d, need 0..10000",
                       g->fresh_per_user);
    const struct { const char *name; double v; } fr[] = {
        {"frac_de", g->frac_de}, {"frac_bilingual", g->frac_bilingual},
        {"frac_minor", g->frac_minor}, {"frac_object_before", g->frac_object_before},
        {"frac_object_after", g->frac_object_after}, {"frac_private", g->frac_private},
        {"frac_friends", g->frac_friends}, {"frac_secret_users", g->frac_secret_users},
        {"frac_sensitive", g->frac_sensitive}, {"sensitive_rate", g->sensitive_rate}};
    for (int i = 0; i < N_OF(fr); i++)
        if (!frac_ok(fr[i].v))
            return ub_fail(e, UB_EARG, "generator: %s = %g, need a fraction in [0, 1]", fr[i].name,
                           fr[i].v);
    if (g->frac_de + g->frac_bilingual > 1.0)
        return ub_fail(e, UB_EARG, "generator: frac_de + frac_bilingual = %g > 1",
                       g->frac_de + g->frac_bilingual);
    if (g->frac_object_before + g->frac_object_after > 1.0)
        return ub_fail(e, UB_EARG, "generator: frac_object_before + frac_object_after = %g > 1",
                       g->frac_object_before + g->frac_object_after);
    if (g->frac_private + g->frac_friends > 1.0)
        return ub_fail(e, UB_EARG, "generator: frac_private + frac_friends = %g > 1",
                       g->frac_private + g->frac_friends);
    if (g->n_secret_counts < 1 || g->n_secret_counts > 8)
        return ub_fail(e, UB_EARG, "generator: n_secret_counts = %d, need 1..8",
                       g->n_secret_counts);
    for (int i = 0; i < g->n_secret_counts; i++)
        if (g->secret_counts[i] < 0 || g->secret_counts[i] > GEN_MAX_SECRET_COUNT)
            return ub_fail(e, UB_EARG, "generator: secret_counts[%d] = %d, need 0..%d", i,
                           g->secret_counts[i], GEN_MAX_SECRET_COUNT);
    if (!(g->start_time < g->cutoff_time && g->cutoff_time < g->end_time))
        return ub_fail(e, UB_EARG,
                       "generator: need start_time < cutoff_time < end_time, got %lld, %lld, %lld",
                       (long long)g->start_time, (long long)g->cutoff_time,
                       (long long)g->end_time);
    return UB_OK;
}

void gen_config_string(char *out, size_t cap, const corpus_gen_cfg *g) {
    char counts[128] = "";
    for (int i = 0; i < g->n_secret_counts; i++)
        snprintf(counts + strlen(counts), sizeof counts - strlen(counts), "%s%d", i ? "," : "",
                 g->secret_counts[i]);
    snprintf(out, cap,
             "seed=%llu;n_users=%d;mean_posts=%g;max_posts=%d;fresh_per_user=%d;frac_de=%g;"
             "frac_bilingual=%g;frac_minor=%g;frac_object_before=%g;frac_object_after=%g;"
             "frac_private=%g;frac_friends=%g;frac_secret_users=%g;secret_counts=%s;"
             "frac_sensitive=%g;sensitive_rate=%g;start_time=%lld;cutoff_time=%lld;end_time=%lld",
             (unsigned long long)g->seed, g->n_users, g->mean_posts, g->max_posts,
             g->fresh_per_user, g->frac_de, g->frac_bilingual, g->frac_minor,
             g->frac_object_before, g->frac_object_after, g->frac_private, g->frac_friends,
             g->frac_secret_users, counts, g->frac_sensitive, g->sensitive_rate,
             (long long)g->start_time, (long long)g->cutoff_time, (long long)g->end_time);
}

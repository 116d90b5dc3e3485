/* tests/test_splits.c: the training set under the policy, members and non-members, and forget
 * sets chosen by rule, on a generated corpus. */
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "ubtest.h"

int main(void) {
    ub_err e = {0};
    corpus_gen_cfg g;
    corpus c;
    corpus_init(&c);
    UB_CHECK(corpus_gen_defaults(&g, "tiny", &e) == UB_OK);
    g.seed = 11;
    UB_CHECK(corpus_generate(&c, &g, &e) == UB_OK);
    corpus_policy pol;
    corpus_policy_default(&pol);
    corpus_split s;
    UB_CHECK(corpus_split_make(&s, &c, &pol, 0.2, 5, &e) == UB_OK);
    UB_CHECK(s.n_members + s.n_nonmembers + s.n_excluded == c.n_users);

    /* Every eligible post passes the policy; every excluded user is excluded for a reason. */
    size_t *elig = calloc(c.n_users, sizeof *elig);
    for (size_t i = 0; i < c.n_posts; i++) {
        const corpus_post *p = &c.posts[i];
        const corpus_user *u = &c.users[p->user];
        if (!s.eligible[i]) continue;
        elig[p->user]++;
        UB_CHECK(!p->fresh && p->visibility == CORPUS_VIS_PUBLIC && p->time < c.cutoff_time);
        UB_CHECK(u->is_adult == 1 && u->objection != CORPUS_OBJ_BEFORE);
    }
    for (size_t u = 0; u < c.n_users; u++) {
        const corpus_user *x = &c.users[u];
        if (x->is_adult != 1 || x->objection == CORPUS_OBJ_BEFORE)
            UB_CHECK(s.role[u] == CORPUS_ROLE_EXCLUDED);
        UB_CHECK((elig[u] == 0) == (s.role[u] == CORPUS_ROLE_EXCLUDED));
    }
    double share = (double)s.n_nonmembers / (double)(s.n_members + s.n_nonmembers);
    UB_CHECK_CLOSE(share, 0.2, 0.01, 0);

    /* Same seed, same split; another seed, other non-members. */
    corpus_split s2;
    UB_CHECK(corpus_split_make(&s2, &c, &pol, 0.2, 5, &e) == UB_OK);
    UB_CHECK(memcmp(s.role, s2.role, c.n_users) == 0);
    corpus_split_free(&s2);
    UB_CHECK(corpus_split_make(&s2, &c, &pol, 0.2, 6, &e) == UB_OK);
    UB_CHECK(memcmp(s.role, s2.role, c.n_users) != 0);
    corpus_split_free(&s2);

    /* Rules. */
    int64_t *F = NULL;
    size_t nF = 0;
    UB_CHECK(corpus_forget_set(&c, &s, CORPUS_FORGET_HEAVY, 10, 1, &F, &nF, &e) == UB_OK);
    UB_CHECK(nF == 10);
    size_t min_in = (size_t)-1, max_out = 0;
    uint8_t *inF = calloc(c.n_users, 1);
    for (size_t i = 0; i < nF; i++) {
        inF[F[i]] = 1;
        UB_CHECK(s.role[F[i]] == CORPUS_ROLE_MEMBER);
        if (elig[F[i]] < min_in) min_in = elig[F[i]];
        if (i) UB_CHECK(F[i - 1] < F[i]); /* sorted */
    }
    for (size_t u = 0; u < c.n_users; u++)
        if (!inF[u] && s.role[u] == CORPUS_ROLE_MEMBER && elig[u] > max_out) max_out = elig[u];
    UB_CHECK_MSG(min_in >= max_out, "heavy: a member outside F has %zu posts, one in F %zu",
                 max_out, min_in);
    free(F);
    int kinds[3] = {CORPUS_FORGET_SECRETS, CORPUS_FORGET_SENSITIVE, CORPUS_FORGET_OBJECTED};
    for (int k = 0; k < 3; k++) {
        UB_CHECK(corpus_forget_set(&c, &s, kinds[k], 1000, 1, &F, &nF, &e) == UB_OK);
        UB_CHECK_MSG(nF > 0, "rule %s found nobody", corpus_forget_rule_name(kinds[k]));
        for (size_t i = 0; i < nF; i++) {
            const corpus_user *u = &c.users[F[i]];
            UB_CHECK(s.role[F[i]] == CORPUS_ROLE_MEMBER);
            if (kinds[k] == CORPUS_FORGET_SENSITIVE) UB_CHECK(u->sensitive_kind != CORPUS_SENS_NONE);
            if (kinds[k] == CORPUS_FORGET_OBJECTED) UB_CHECK(u->objection == CORPUS_OBJ_AFTER);
            if (kinds[k] == CORPUS_FORGET_SECRETS) {
                int has = 0;
                for (size_t j = 0; j < c.n_secrets; j++)
                    has |= c.secrets[j].user == F[i] && c.secrets[j].inserted > 0;
                UB_CHECK(has);
            }
        }
        free(F);
    }
    /* Random: seeded, and a different seed gives a different set. */
    int64_t *A, *B;
    size_t nA, nB;
    corpus_forget_set(&c, &s, CORPUS_FORGET_RANDOM, 8, 3, &A, &nA, &e);
    corpus_forget_set(&c, &s, CORPUS_FORGET_RANDOM, 8, 3, &B, &nB, &e);
    UB_CHECK(nA == 8 && nB == 8 && memcmp(A, B, 8 * sizeof *A) == 0);
    free(B);
    corpus_forget_set(&c, &s, CORPUS_FORGET_RANDOM, 8, 4, &B, &nB, &e);
    UB_CHECK(memcmp(A, B, 8 * sizeof *A) != 0);
    free(A);
    free(B);
    UB_CHECK(corpus_forget_rule_parse("heavy") == CORPUS_FORGET_HEAVY);
    UB_CHECK(corpus_forget_rule_parse("nope") == -1);
    /* Bad fraction. */
    ub_err_clear(&e);
    UB_CHECK(corpus_split_make(&s2, &c, &pol, 1.5, 5, &e) == UB_EARG);

    free(elig);
    free(inF);
    corpus_split_free(&s);
    corpus_free(&c);
    UB_TEST_END();
}

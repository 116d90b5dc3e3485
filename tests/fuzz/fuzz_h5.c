/* tests/fuzz/fuzz_h5.c: one HDF5 reader (FUZZ_KIND: 1 corpus, 2 token file, 3 checkpoint,
 * 4 results) on arbitrary bytes given as the file. The seal (kernels/core/ub_h5_seal.c) stands
 * between these bytes and libhdf5: a changed byte of a file we wrote never reaches HDF5's
 * parser. With UB_FUZZ_RESEAL=1 in the environment the target seals the input itself first,
 * so HDF5 and our readers parse the changed bytes (a writer that seals garbage): that mode
 * fuzzes libhdf5 as much as our code. */
#include <string.h>

#include "corpus.h"
#include "fuzz.h"
#include "gpt.h"
#include "results.h"

#ifndef FUZZ_KIND
#error "FUZZ_KIND must be 1 (corpus), 2 (tokens), 3 (checkpoint) or 4 (results)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    if (fuzz_file(FUZZ_KIND == 4 ? "results.h5" : "in.h5", data, size, path, sizeof path))
        return 0;
    static int reseal = -1;
    if (reseal < 0) reseal = getenv("UB_FUZZ_RESEAL") && !strcmp(getenv("UB_FUZZ_RESEAL"), "1");
    ub_err e = {0};
    if (reseal && size > UB_H5_SEAL_BYTES && !memcmp(data, "unlearnbench sealed", 19))
        ub_h5_seal(path, &e);
    ub_err_clear(&e);
#if FUZZ_KIND == 1
    corpus c;
    corpus_bpe bpe;
    memset(&bpe, 0, sizeof bpe);
    corpus_init(&c);
    if (corpus_load(&c, &bpe, path, &e) == UB_OK) corpus_bpe_free(&bpe);
    corpus_free(&c);
#elif FUZZ_KIND == 2
    corpus_tokens t;
    if (corpus_tokens_load(&t, path, &e) == UB_OK) corpus_tokens_free(&t);
#elif FUZZ_KIND == 3
    static kn_tune tune;
    static int init;
    if (!init) kn_tune_default(&tune), tune.threads = 1, kn_tune_apply(&tune), init = 1;
    gpt_model m = {0};
    gpt_train_cfg c;
    gpt_train_state s;
    int has = 0;
    if (gpt_load(path, &m, &tune, &c, &s, &has, &e) == UB_OK) {
        if (has) gpt_train_state_free(&s);
        gpt_free(&m);
    }
#else
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    res_file r;
    if (res_load(dir, &r, &e) == UB_OK) res_free(&r);
#endif
    return 0;
}

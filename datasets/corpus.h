/* datasets/corpus.h: the data the models train on (library ub_datasets).
 *
 * Token files: an HDF5 file whose 1-D int32 dataset /tokens is a stream of token ids, with root
 * attributes vocab_size (int64) and source (string). The trainer cuts the stream into context
 * windows. The toy input until the corpus generator exists: the bytes of a text file, vocab 256
 * (`unlearnbench tokens FILE.txt --out FILE.h5`). Layout documented in datasets/FORMAT.md.
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

/* Read /tokens (1-D int32) and vocab_size; every id is checked against vocab_size. */
ub_status corpus_tokens_load(corpus_tokens *t, const char *path, ub_err *e);
void corpus_tokens_free(corpus_tokens *t);
/* Write a token file atomically (path.tmp then rename). */
ub_status corpus_tokens_save(const char *path, const int32_t *ids, size_t n, int vocab_size,
                             const char *source, ub_err *e);
/* The bytes of a text file as tokens (vocab 256). */
ub_status corpus_tokens_from_text(const char *txt_path, const char *out_path, size_t *n_out,
                                  ub_err *e);

#endif

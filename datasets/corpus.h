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

#endif

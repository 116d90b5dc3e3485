/* tests/fuzz/fuzz_jsonl.c: the JSONL importer (datasets/import.c), strict and skipping bad
 * lines (the input's first byte chooses), on arbitrary bytes. */
#include "corpus.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    int skip = size > 0 && (data[0] & 1);
    if (fuzz_file("in.jsonl", data, size, path, sizeof path)) return 0;
    corpus c;
    corpus_init(&c);
    ub_err e = {0};
    size_t skipped = 0;
    corpus_import_jsonl(&c, path, skip, &skipped, &e);
    corpus_free(&c);
    return 0;
}

/* bench/scenario/scenario_private.h: what scenario/secrets.c and scenario/knowledge.c share. */
#ifndef UB_SCENARIO_PRIVATE_H
#define UB_SCENARIO_PRIVATE_H

#include "scenario.h"

enum { RUN_MAX_PROMPT = 1024 }; /* longest cloze context, in bytes (and so in ids) */

/* A cloze's prompt without its trailing space, into p; the space (" " or "") into lead, to go
 * before the value, so that the value is tokenized as it is inside a post (the pre-tokenizer
 * keeps a space with the word after it). */
void run_split_space(const char *prompt, char *p, size_t pcap, char lead[2]);

#endif

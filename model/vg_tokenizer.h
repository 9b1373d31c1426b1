/* CLIP's byte-level BPE tokenizer, exactly as open_clip 2.16's `tokenize(text, 77)`:
 * ids = [SOT] + BPE(clean(text)) + [EOT], cut to 77 with EOT kept last, zero padded.
 * clean() = ftfy subset + html unescape + whitespace collapse + lower case (vg_text_clean.c
 * lists the ftfy parts left out). The special tokens are open_clip's "<start_of_text>" and
 * "<end_of_text>" (OpenAI's CLIP calls the same ids <|startoftext|> / <|endoftext|>); like
 * open_clip, those literal strings in a text become the special ids, "<|startoftext|>" does
 * not. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  VG_CLIP_CONTEXT = 77,       /* ids per text */
  VG_CLIP_VOCAB_SIZE = 49408, /* 256 bytes, their "</w>" forms, 48894 merges, 2 specials */
  VG_CLIP_SOT_ID = 49406,     /* <start_of_text> */
  VG_CLIP_EOT_ID = 49407,     /* <end_of_text>: the largest id */
  VG_CLIP_MAX_TEXT_BYTES = 65536,
};

typedef struct vg_tokenizer vg_tokenizer;

/* Loads `bpe_simple_vocab_16e6.txt.gz` (gzip). Missing, truncated or malformed files fail with
 * VG_ERR_IO / VG_ERR_FORMAT and a message naming the path and the problem. */
vg_status vg_tokenizer_open(const char *vocab_gz_path, vg_tokenizer **out);
void vg_tokenizer_free(vg_tokenizer *tok);

/* Tokenizes one UTF-8 text (at most VG_CLIP_MAX_TEXT_BYTES bytes) into 77 ids. Invalid UTF-8 or
 * an over-long text is VG_ERR_ARG (out_ids untouched). Safe to call from several threads. */
vg_status vg_tokenizer_encode(vg_tokenizer *tok, const char *utf8_text,
                              int32_t out_ids[VG_CLIP_CONTEXT]);

/* The same; *truncated (may be NULL) tells whether the text had more than 75 BPE tokens. */
vg_status vg_tokenizer_encode_ex(vg_tokenizer *tok, const char *utf8_text,
                                 int32_t out_ids[VG_CLIP_CONTEXT], bool *truncated);

/* Position of the EOT token (argmax of the ids, first on ties): where the text tower pools. */
int vg_tokenizer_eot_index(const int32_t ids[VG_CLIP_CONTEXT]);

/* The vocabulary string of an id (byte-encoded BPE form, e.g. "photo</w>"; NUL-terminated,
 * its byte length in *len if len is not NULL), NULL if out of range. Valid while tok lives. */
const char *vg_tokenizer_token(const vg_tokenizer *tok, int32_t id, int *len);

/* The cleaned, lower-cased text the BPE sees, as a malloc'd UTF-8 string (free() it). */
vg_status vg_clip_clean_text(const char *utf8_text, char **out);

#ifdef __cplusplus
}
#endif

/* Text normalisation of open_clip 2.16's tokenizer, before the regex split:
 * whitespace_clean(basic_clean(text)).lower(), where basic_clean is ftfy.fix_text (the subset
 * documented in vg_text_clean.c), html.unescape twice and strip(). Internal to the tokenizer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"

typedef struct {
  uint32_t *v;
  size_t n, cap;
  bool oom; /* an append failed; the contents are incomplete */
} vg_cpbuf;

void vg_cpbuf_push(vg_cpbuf *b, uint32_t c);
void vg_cpbuf_free(vg_cpbuf *b);

/* Unicode NFC of `in` into `out` (replacing its contents); vg_nfc.c. */
void vg_nfc(const vg_cpbuf *in, vg_cpbuf *out);

/* Cleans `n` code points into `out` (replacing its contents). VG_ERR_NOMEM if memory ran out. */
vg_status vg_clip_clean(const uint32_t *in, size_t n, vg_cpbuf *out);

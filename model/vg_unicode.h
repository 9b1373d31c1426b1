/* Unicode helpers for the CLIP tokenizer: strict UTF-8 and the character classes and case
 * mappings of Python 3.11 and the `regex` module (tables in vg_unicode_data.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_unicode_data.h"

bool vg_uc_is_letter(uint32_t c);    /* regex [\p{L}] with IGNORECASE */
bool vg_uc_is_number(uint32_t c);    /* regex [\p{N}] with IGNORECASE */
bool vg_uc_is_unmatched(uint32_t c); /* no alternative of CLIP's split takes it (\s, U+0345) */
bool vg_uc_is_digit(uint32_t c);     /* re \d: category Nd */
bool vg_uc_is_space(uint32_t c);     /* str.isspace() */
bool vg_uc_is_cased(uint32_t c);     /* Cased and not Case_Ignorable */
bool vg_uc_is_case_ignorable(uint32_t c);

/* str.lower() of one character without context: writes 1 or 2 code points, returns the count.
 * (Final sigma needs context; see vg_text_clean.c.) */
size_t vg_uc_lower(uint32_t c, uint32_t out[2]);

/* Looks `name` (len bytes, any code points) up in a sorted entity table; NULL if absent. */
const vg_uc_entity *vg_uc_entity_find(const vg_uc_entity *table, size_t count, const uint32_t *name,
                                      size_t len);

/* Decodes strict UTF-8 (no overlongs, surrogates or values past U+10FFFF) into `out`, which
 * holds at least `n` code points (NULL: only validate). Returns the count, or -1 with the offending
 * byte offset in *bad_offset. */
long vg_utf8_decode(const char *s, size_t n, uint32_t *out, size_t *bad_offset);

/* Writes the UTF-8 form of `c` (a valid scalar value) to out; returns 1..4. */
size_t vg_utf8_encode(uint32_t c, char out[4]);

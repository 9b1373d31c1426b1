#include "vg_unicode.h"

/* Binary search over flat (lo, hi) pairs. */
static bool in_ranges(const uint32_t *r, size_t len, uint32_t c) {
  size_t lo = 0, hi = len / 2;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < r[2 * mid])
      hi = mid;
    else if (c > r[2 * mid + 1])
      lo = mid + 1;
    else
      return true;
  }
  return false;
}

bool vg_uc_is_letter(uint32_t c) {
  if (c < 0x80)
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return in_ranges(vg_uc_letter_ranges, vg_uc_letter_ranges_len, c);
}

bool vg_uc_is_number(uint32_t c) {
  if (c < 0x80)
    return c >= '0' && c <= '9';
  return in_ranges(vg_uc_number_ranges, vg_uc_number_ranges_len, c);
}

bool vg_uc_is_unmatched(uint32_t c) {
  return in_ranges(vg_uc_unmatched_ranges, vg_uc_unmatched_ranges_len, c);
}

bool vg_uc_is_digit(uint32_t c) {
  return in_ranges(vg_uc_digit_ranges, vg_uc_digit_ranges_len, c);
}

bool vg_uc_is_space(uint32_t c) {
  return in_ranges(vg_uc_space_ranges, vg_uc_space_ranges_len, c);
}

bool vg_uc_is_cased(uint32_t c) {
  return in_ranges(vg_uc_cased_ranges, vg_uc_cased_ranges_len, c);
}

bool vg_uc_is_case_ignorable(uint32_t c) {
  return in_ranges(vg_uc_case_ignorable_ranges, vg_uc_case_ignorable_ranges_len, c);
}

size_t vg_uc_lower(uint32_t c, uint32_t out[2]) {
  if (c == 0x130) { /* the one multi-character lower case mapping: İ -> i + U+0307 */
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = c;
  size_t lo = 0, hi = vg_uc_lower_pairs_len / 2;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    uint32_t from = vg_uc_lower_pairs[2 * mid];
    if (c == from) {
      out[0] = vg_uc_lower_pairs[2 * mid + 1];
      break;
    }
    if (c < from)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 1;
}

/* strcmp order between an ASCII table name and code points. */
static int name_cmp(const char *name, const uint32_t *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    uint32_t a = (unsigned char)name[i];
    if (a == 0)
      return -1; /* the name is a prefix of s */
    if (a != s[i])
      return a < s[i] ? -1 : 1;
  }
  return name[len] == 0 ? 0 : 1;
}

const vg_uc_entity *vg_uc_entity_find(const vg_uc_entity *table, size_t count, const uint32_t *name,
                                      size_t len) {
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int cmp = name_cmp(table[mid].name, name, len);
    if (cmp == 0)
      return &table[mid];
    if (cmp > 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

/* Length and minimum value of a UTF-8 sequence from its lead byte; 0 if invalid. */
static size_t lead_len(unsigned char b, uint32_t *min, uint32_t *bits) {
  if (b < 0x80) {
    *min = 0, *bits = b;
    return 1;
  }
  if ((b & 0xE0) == 0xC0) {
    *min = 0x80, *bits = b & 0x1F;
    return 2;
  }
  if ((b & 0xF0) == 0xE0) {
    *min = 0x800, *bits = b & 0x0F;
    return 3;
  }
  if ((b & 0xF8) == 0xF0) {
    *min = 0x10000, *bits = b & 0x07;
    return 4;
  }
  return 0;
}

long vg_utf8_decode(const char *s, size_t n, uint32_t *out, size_t *bad_offset) {
  const unsigned char *p = (const unsigned char *)s;
  long count = 0;
  for (size_t i = 0; i < n;) {
    uint32_t min, c;
    size_t len = lead_len(p[i], &min, &c);
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) {
      ok = (p[i + k] & 0xC0) == 0x80;
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (!ok || c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      *bad_offset = i;
      return -1;
    }
    if (out)
      out[count] = c;
    count++;
    i += len;
  }
  return count;
}

size_t vg_utf8_encode(uint32_t c, char out[4]) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

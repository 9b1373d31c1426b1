/* Unicode NFC (unicodedata.normalize("NFC")), the last step of ftfy.fix_text: canonical
 * decomposition, canonical ordering, canonical composition. Tables: vg_nfc_data.c. */
#include <stdlib.h>
#include <string.h>

#include "vg_text_clean.h"

extern const size_t vg_nfc_ccc_len, vg_nfc_decomp_len, vg_nfc_comp_len;
extern const uint32_t vg_nfc_ccc[], vg_nfc_decomp[], vg_nfc_comp[];

enum { HANGUL_S = 0xAC00, HANGUL_L = 0x1100, HANGUL_V = 0x1161, HANGUL_T = 0x11A7 };
enum { HANGUL_LCOUNT = 19, HANGUL_VCOUNT = 21, HANGUL_TCOUNT = 28, HANGUL_SCOUNT = 11172 };

/* Index of the first record (of `width` values, sorted by its first `keys` values) matching
 * key[0..keys), or -1. */
static long find_record(const uint32_t *t, size_t len, size_t width, const uint32_t *key,
                        size_t keys) {
  size_t lo = 0, hi = len / width;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int cmp = 0;
    for (size_t k = 0; k < keys && cmp == 0; k++)
      cmp = key[k] < t[mid * width + k] ? -1 : key[k] > t[mid * width + k] ? 1 : 0;
    if (cmp == 0)
      return (long)mid;
    if (cmp < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -1;
}

static uint32_t ccc(uint32_t c) {
  if (c < 0x300)
    return 0;
  size_t lo = 0, hi = vg_nfc_ccc_len / 3;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < vg_nfc_ccc[3 * mid])
      hi = mid;
    else if (c > vg_nfc_ccc[3 * mid + 1])
      lo = mid + 1;
    else
      return vg_nfc_ccc[3 * mid + 2];
  }
  return 0;
}

static void decompose(uint32_t c, vg_cpbuf *out) {
  if (c >= HANGUL_S && c < HANGUL_S + HANGUL_SCOUNT) {
    uint32_t s = c - HANGUL_S;
    vg_cpbuf_push(out, HANGUL_L + s / (HANGUL_VCOUNT * HANGUL_TCOUNT));
    vg_cpbuf_push(out, HANGUL_V + (s % (HANGUL_VCOUNT * HANGUL_TCOUNT)) / HANGUL_TCOUNT);
    if (s % HANGUL_TCOUNT)
      vg_cpbuf_push(out, HANGUL_T + s % HANGUL_TCOUNT);
    return;
  }
  long i = c < 0xC0 ? -1 : find_record(vg_nfc_decomp, vg_nfc_decomp_len, 6, &c, 1);
  if (i < 0) {
    vg_cpbuf_push(out, c);
    return;
  }
  const uint32_t *r = vg_nfc_decomp + 6 * i;
  for (uint32_t k = 0; k < r[1]; k++)
    vg_cpbuf_push(out, r[2 + k]);
}

/* The primary composite of a + b, or 0. */
static uint32_t compose(uint32_t a, uint32_t b) {
  if (a >= HANGUL_L && a < HANGUL_L + HANGUL_LCOUNT && b >= HANGUL_V &&
      b < HANGUL_V + HANGUL_VCOUNT)
    return HANGUL_S + ((a - HANGUL_L) * HANGUL_VCOUNT + (b - HANGUL_V)) * HANGUL_TCOUNT;
  if (a >= HANGUL_S && a < HANGUL_S + HANGUL_SCOUNT && (a - HANGUL_S) % HANGUL_TCOUNT == 0 &&
      b > HANGUL_T && b < HANGUL_T + HANGUL_TCOUNT)
    return a + (b - HANGUL_T);
  uint32_t key[2] = {a, b};
  long i = find_record(vg_nfc_comp, vg_nfc_comp_len, 3, key, 2);
  return i < 0 ? 0 : vg_nfc_comp[3 * i + 2];
}

/* Stable sort of each run of non-starters by combining class. */
static void canonical_order(vg_cpbuf *b) {
  for (size_t i = 1; i < b->n; i++) {
    uint32_t c = b->v[i], k = ccc(c);
    size_t j = i;
    while (k != 0 && j > 0 && ccc(b->v[j - 1]) > k) {
      b->v[j] = b->v[j - 1];
      j--;
    }
    b->v[j] = c;
  }
}

/* Canonical composition in place: a character joins the last starter unless blocked. */
static void canonical_compose(vg_cpbuf *b) {
  size_t o = 0;
  long starter = -1;
  uint32_t last_ccc = 0;
  for (size_t i = 0; i < b->n; i++) {
    uint32_t c = b->v[i], k = ccc(c);
    bool adjacent = starter >= 0 && (size_t)starter + 1 == o;
    if (starter >= 0 && (adjacent || (last_ccc != 0 && last_ccc < k))) {
      uint32_t composite = compose(b->v[starter], c);
      if (composite) {
        b->v[starter] = composite;
        continue;
      }
    }
    if (k == 0)
      starter = (long)o;
    last_ccc = k;
    b->v[o++] = c;
  }
  b->n = o;
}

void vg_nfc(const vg_cpbuf *in, vg_cpbuf *out) {
  out->n = 0;
  bool simple = true; /* text below U+0300 is already NFC */
  for (size_t i = 0; i < in->n && simple; i++)
    simple = in->v[i] < 0x300;
  for (size_t i = 0; i < in->n; i++) {
    if (simple)
      vg_cpbuf_push(out, in->v[i]);
    else
      decompose(in->v[i], out);
  }
  if (simple || out->oom)
    return;
  canonical_order(out);
  canonical_compose(out);
}

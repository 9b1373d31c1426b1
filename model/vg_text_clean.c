/* open_clip's text cleaning: a subset of ftfy.fix_text (ftfy 6), html.unescape twice,
 * whitespace collapsing and str.lower(), on code points.
 *
 * ftfy.fix_text steps done here, in ftfy's order, repeated until nothing changes, per line
 * (ftfy splits at '\n'): unescape_html (ftfy's own: only "&name;" / "&#..;" forms, and not
 * from the first line containing '<' on), fix_c1_controls, fix_latin_ligatures,
 * fix_character_width, uncurl_quotes, remove_terminal_escapes, remove_control_chars and NFC
 * normalisation. fix_line_breaks is skipped because every break it rewrites is whitespace
 * that whitespace_clean turns into one space anyway; fix_surrogates cannot apply to valid
 * UTF-8. Omitted: fix_encoding, ftfy's mojibake repair (heuristic re-decoding of text that was
 * decoded with the wrong codec, e.g. "cafÃ©" -> "café"), so such text keeps its mojibake. */
#include "vg_text_clean.h"

#include <stdlib.h>
#include <string.h>

#include "vg_unicode.h"

void vg_cpbuf_push(vg_cpbuf *b, uint32_t c) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    uint32_t *v = realloc(b->v, cap * sizeof *v);
    if (!v) {
      b->oom = true;
      return;
    }
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = c;
}

void vg_cpbuf_free(vg_cpbuf *b) {
  free(b->v);
  *b = (vg_cpbuf){0};
}

static void push_all(vg_cpbuf *b, const uint32_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    vg_cpbuf_push(b, s[i]);
}

static void swap(vg_cpbuf *a, vg_cpbuf *b) {
  vg_cpbuf t = *a;
  *a = *b;
  *b = t;
}

static bool is_ascii_digit(uint32_t c) {
  return c >= '0' && c <= '9';
}

static bool is_ascii_alpha(uint32_t c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static uint32_t hex_value(uint32_t c) {
  if (is_ascii_digit(c))
    return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
    return (c | 0x20) - 'a' + 10;
  return 16;
}

/* ---- html.unescape (Python 3.11) ---- */

static void push_numeric_ref(vg_cpbuf *out, uint32_t num) {
  for (size_t i = 0; i < vg_uc_invalid_charrefs_len; i++)
    if (vg_uc_invalid_charrefs[i].from == num) {
      vg_cpbuf_push(out, vg_uc_invalid_charrefs[i].to[0]);
      return;
    }
  if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    vg_cpbuf_push(out, 0xFFFD);
    return;
  }
  for (size_t i = 0; i < vg_uc_invalid_codepoints_len; i++)
    if (vg_uc_invalid_codepoints[i] == num)
      return;
  vg_cpbuf_push(out, num);
}

/* "&#[0-9]+;?" or "&#[xX][0-9a-fA-F]+;?" at s; returns the length matched (0: none). */
static size_t numeric_ref(const uint32_t *s, size_t n, vg_cpbuf *out) {
  bool hex = n >= 3 && (s[2] == 'x' || s[2] == 'X');
  size_t start = hex ? 3 : 2, j = start;
  uint32_t num = 0; /* saturates past U+10FFFF: all such values decode alike */
  for (; j < n && (hex ? hex_value(s[j]) < 16 : is_ascii_digit(s[j])); j++) {
    uint32_t d = hex ? hex_value(s[j]) : s[j] - '0';
    num = num > 0x10FFFF ? num : num * (hex ? 16 : 10) + d;
  }
  if (j == start)
    return 0;
  if (j < n && s[j] == ';')
    j++;
  push_numeric_ref(out, num);
  return j;
}

static bool name_char(uint32_t c) {
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' &&
         c != ';';
}

static void push_entity(vg_cpbuf *out, const vg_uc_entity *e) {
  push_all(out, e->to, e->n);
}

/* html's _charref at s[0] == '&': appends the replacement and returns the length matched. */
static size_t charref(const uint32_t *s, size_t n, vg_cpbuf *out) {
  if (n >= 2 && s[1] == '#')
    return numeric_ref(s, n, out);
  size_t j = 1;
  while (j < n && j <= 32 && name_char(s[j]))
    j++;
  if (j == 1)
    return 0;
  if (j < n && s[j] == ';')
    j++;
  const uint32_t *name = s + 1;
  size_t len = j - 1;
  const vg_uc_entity *e =
      vg_uc_entity_find(vg_uc_html5_entities, vg_uc_html5_entities_len, name, len);
  if (e) {
    push_entity(out, e);
    return j;
  }
  for (size_t x = len - 1; x >= 2 && x < len; x--) { /* the longest known prefix */
    e = vg_uc_entity_find(vg_uc_html5_entities, vg_uc_html5_entities_len, name, x);
    if (e) {
      push_entity(out, e);
      push_all(out, name + x, len - x);
      return j;
    }
  }
  return 0;
}

static void html_unescape(const vg_cpbuf *in, vg_cpbuf *out) {
  out->n = 0;
  for (size_t i = 0; i < in->n;) {
    size_t used = in->v[i] == '&' ? charref(in->v + i, in->n - i, out) : 0;
    if (used)
      i += used;
    else
      vg_cpbuf_push(out, in->v[i++]);
  }
}

/* ---- ftfy ---- */

/* ftfy's unescape_html: "&#?[0-9A-Za-z]{1,24};" known as an entity (also upper-cased). */
static size_t ftfy_entity(const uint32_t *s, size_t n, vg_cpbuf *out) {
  size_t j = n >= 2 && s[1] == '#' ? 2 : 1, start = j;
  while (j < n && j - start < 24 && (is_ascii_digit(s[j]) || is_ascii_alpha(s[j])))
    j++;
  if (j == start || j >= n || s[j] != ';')
    return 0;
  j++;
  const vg_uc_entity *e =
      vg_uc_entity_find(vg_uc_html5_entities, vg_uc_html5_entities_len, s + 1, j - 1);
  if (!e)
    e = vg_uc_entity_find(vg_uc_ftfy_upper_entities, vg_uc_ftfy_upper_entities_len, s + 1, j - 1);
  if (e) {
    push_entity(out, e);
    return j;
  }
  if (start == 1)
    return 0;
  /* "&#...;": html.unescape it, unless that leaves the ';' (a partial decode). The match is at
   * most 27 code points and unescaping never lengthens it, so buf never needs to grow. */
  uint32_t buf[32];
  vg_cpbuf whole = {.v = (uint32_t *)s, .n = j}, part = {.v = buf, .cap = 32};
  html_unescape(&whole, &part);
  for (size_t i = 0; i < part.n; i++)
    if (part.v[i] == ';')
      return 0;
  push_all(out, part.v, part.n);
  return j;
}

static void ftfy_unescape(const vg_cpbuf *in, vg_cpbuf *out) {
  out->n = 0;
  for (size_t i = 0; i < in->n;) {
    size_t used = in->v[i] == '&' ? ftfy_entity(in->v + i, in->n - i, out) : 0;
    if (used)
      i += used;
    else
      vg_cpbuf_push(out, in->v[i++]);
  }
}

static const struct {
  uint32_t from;
  const char *to; /* UTF-8 */
} ligatures[] = {
    {0x132, "IJ"},         {0x133, "ij"},        {0x149, "\xca\xbcn"}, {0x1C4, "D\xc5\xbd"},
    {0x1C5, "D\xc5\xbe"},  {0x1C6, "d\xc5\xbe"}, {0x1C7, "LJ"},        {0x1C8, "Lj"},
    {0x1C9, "lj"},         {0x1CA, "NJ"},        {0x1CB, "Nj"},        {0x1CC, "nj"},
    {0x1F1, "DZ"},         {0x1F2, "Dz"},        {0x1F3, "dz"},        {0xFB00, "ff"},
    {0xFB01, "fi"},        {0xFB02, "fl"},       {0xFB03, "ffi"},      {0xFB04, "ffl"},
    {0xFB05, "\xc5\xbft"}, {0xFB06, "st"},
};

/* fix_latin_ligatures; returns false if c is not a ligature. */
static bool push_ligature(vg_cpbuf *out, uint32_t c) {
  for (size_t i = 0; i < sizeof ligatures / sizeof ligatures[0]; i++)
    if (ligatures[i].from == c) {
      const char *t = ligatures[i].to;
      uint32_t cps[4];
      size_t bad;
      long n = vg_utf8_decode(t, strlen(t), cps, &bad);
      push_all(out, cps, (size_t)n);
      return true;
    }
  return false;
}

static const vg_uc_mapping *width_mapping(uint32_t c) {
  size_t lo = 0, hi = vg_uc_width_map_len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (vg_uc_width_map[mid].from == c)
      return &vg_uc_width_map[mid];
    if (c < vg_uc_width_map[mid].from)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

/* fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes: one pass each. */
static void ftfy_char_maps(vg_cpbuf *a, vg_cpbuf *b) {
  b->n = 0;
  for (size_t i = 0; i < a->n; i++) {
    uint32_t c = a->v[i];
    vg_cpbuf_push(b, c >= 0x80 && c <= 0x9F ? vg_uc_c1_cp1252[c - 0x80] : c);
  }
  a->n = 0;
  for (size_t i = 0; i < b->n; i++)
    if (!push_ligature(a, b->v[i]))
      vg_cpbuf_push(a, b->v[i]);
  b->n = 0;
  for (size_t i = 0; i < a->n; i++) {
    const vg_uc_mapping *m = width_mapping(a->v[i]);
    if (m)
      push_all(b, m->to, m->n);
    else
      vg_cpbuf_push(b, a->v[i]);
  }
  for (size_t i = 0; i < b->n; i++) {
    uint32_t c = b->v[i];
    if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B))
      b->v[i] = '\'';
    else if (c >= 0x201C && c <= 0x201F)
      b->v[i] = '"';
  }
  swap(a, b);
}

/* Length of an ANSI escape "\033[" (\d|;)* [a-zA-Z] at s, or 0. */
static size_t terminal_escape(const uint32_t *s, size_t n) {
  if (n < 3 || s[0] != 0x1B || s[1] != '[')
    return 0;
  size_t j = 2;
  while (j < n && (vg_uc_is_digit(s[j]) || s[j] == ';'))
    j++;
  return j < n && is_ascii_alpha(s[j]) ? j + 1 : 0;
}

static bool control_char(uint32_t c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
         (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

/* remove_terminal_escapes, then remove_control_chars. */
static void ftfy_removals(vg_cpbuf *a, vg_cpbuf *b) {
  b->n = 0;
  for (size_t i = 0; i < a->n;) {
    size_t esc = terminal_escape(a->v + i, a->n - i);
    if (esc)
      i += esc;
    else
      vg_cpbuf_push(b, a->v[i++]);
  }
  a->n = 0;
  for (size_t i = 0; i < b->n; i++)
    if (!control_char(b->v[i]))
      vg_cpbuf_push(a, b->v[i]);
}

/* ftfy's fix_and_explain on one line: all fixes, repeated until the text is stable (at most 64
 * rounds: only entities escaped more than 60 times over would need more). */
static void ftfy_segment(const uint32_t *s, size_t n, bool unescape, vg_cpbuf *out) {
  vg_cpbuf a = {0}, b = {0}, prev = {0};
  push_all(&a, s, n);
  for (int round = 0; round < 64 && !a.oom && !b.oom && !prev.oom; round++) {
    prev.n = 0;
    push_all(&prev, a.v, a.n);
    if (unescape) {
      ftfy_unescape(&a, &b);
      swap(&a, &b);
    }
    ftfy_char_maps(&a, &b);
    ftfy_removals(&a, &b);
    vg_nfc(&a, &b);
    swap(&a, &b);
    if (a.n == prev.n && (a.n == 0 || memcmp(a.v, prev.v, a.n * sizeof *a.v) == 0))
      break;
  }
  push_all(out, a.v, a.n);
  out->oom |= a.oom || b.oom || prev.oom;
  vg_cpbuf_free(&a);
  vg_cpbuf_free(&b);
  vg_cpbuf_free(&prev);
}

static void ftfy_fix_text(const uint32_t *s, size_t n, vg_cpbuf *out) {
  out->n = 0;
  bool unescape = true;
  for (size_t pos = 0; pos < n;) {
    size_t end = pos;
    while (end < n && s[end] != '\n')
      end++;
    end = end < n ? end + 1 : n;
    for (size_t i = pos; i < end && unescape; i++)
      unescape = s[i] != '<'; /* ftfy stops unescaping once a line holds '<' */
    ftfy_segment(s + pos, end - pos, unescape, out);
    pos = end;
  }
}

/* ---- whitespace_clean and lower() ---- */

/* strip(), then every run of whitespace becomes one space. */
static void collapse_spaces(const vg_cpbuf *in, vg_cpbuf *out) {
  out->n = 0;
  bool pending = false;
  for (size_t i = 0; i < in->n; i++) {
    if (vg_uc_is_space(in->v[i])) {
      pending = out->n > 0;
      continue;
    }
    if (pending)
      vg_cpbuf_push(out, ' ');
    pending = false;
    vg_cpbuf_push(out, in->v[i]);
  }
}

/* Python's Final_Sigma rule for U+03A3 at s[i]. */
static bool final_sigma(const uint32_t *s, size_t n, size_t i) {
  size_t j = i;
  while (j > 0 && vg_uc_is_case_ignorable(s[j - 1]))
    j--;
  if (j == 0 || !vg_uc_is_cased(s[j - 1]))
    return false;
  for (j = i + 1; j < n && vg_uc_is_case_ignorable(s[j]); j++)
    ;
  return j == n || !vg_uc_is_cased(s[j]);
}

static void lower(const vg_cpbuf *in, vg_cpbuf *out) {
  out->n = 0;
  for (size_t i = 0; i < in->n; i++) {
    uint32_t low[2];
    size_t k = vg_uc_lower(in->v[i], low);
    if (in->v[i] == 0x3A3 && final_sigma(in->v, in->n, i))
      low[0] = 0x3C2;
    push_all(out, low, k);
  }
}

vg_status vg_clip_clean(const uint32_t *in, size_t n, vg_cpbuf *out) {
  vg_cpbuf a = {0}, b = {0};
  ftfy_fix_text(in, n, &a);
  html_unescape(&a, &b);
  html_unescape(&b, &a);
  collapse_spaces(&a, &b);
  lower(&b, out);
  bool oom = a.oom || b.oom || out->oom;
  vg_cpbuf_free(&a);
  vg_cpbuf_free(&b);
  if (oom)
    return vg_fail(VG_ERR_NOMEM, "out of memory while cleaning text for the tokenizer");
  return VG_OK;
}

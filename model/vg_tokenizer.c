/* CLIP tokenizer: vocabulary loading (open_clip's SimpleTokenizer.__init__), the regex split,
 * byte-level BPE with a cache, and the 77-id layout of open_clip 2.16's tokenize(). */
#include "vg_tokenizer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vg_text_clean.h"
#include "vg_unicode.h"

#define N_MERGES (49152 - 256 - 2) /* merges = lines[1 : 49152-256-2+1] */
#define MAX_VOCAB_FILE (64u << 20) /* the real file inflates to 3.2 MB */
#define ENC_SLOTS (1u << 17)
#define PAIR_SLOTS (1u << 17)
#define CACHE_SLOTS 8192u
#define CACHE_MAX_ENTRIES 4096u
#define CACHE_MAX_KEY 256u /* longer words are not cached */

typedef struct {
  uint32_t off, len; /* into blob */
} span;

typedef struct {
  uint64_t key; /* (left id << 32) | right id; UINT64_MAX when empty */
  int32_t rank, merged;
} pair_slot;

typedef struct {
  unsigned char *key; /* NULL when empty */
  uint32_t key_len, n_ids;
  int32_t *ids;
} cache_slot;

struct vg_tokenizer {
  char *blob; /* every vocabulary string, NUL-terminated, back to back */
  size_t blob_len, blob_cap;
  span vocab[VG_CLIP_VOCAB_SIZE];
  int32_t *enc; /* ENC_SLOTS string -> id, -1 empty; later duplicates win like a dict */
  pair_slot *pairs;
  int32_t byte_id[256], byte_end_id[256]; /* a byte as a symbol, and as a word's last symbol */
  cache_slot *cache;
  uint32_t cache_count;
  pthread_mutex_t cache_lock;
};

/* ---- hashing ---- */

static uint32_t hash_bytes(const void *p, size_t n) {
  const unsigned char *s = p;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ s[i]) * 16777619u;
  return h;
}

static uint32_t hash_pair(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return (uint32_t)key;
}

static bool span_equals(const vg_tokenizer *t, int32_t id, const char *s, size_t n) {
  return t->vocab[id].len == n && memcmp(t->blob + t->vocab[id].off, s, n) == 0;
}

static int32_t enc_find(const vg_tokenizer *t, const char *s, size_t n) {
  for (uint32_t i = hash_bytes(s, n) & (ENC_SLOTS - 1);; i = (i + 1) & (ENC_SLOTS - 1)) {
    int32_t id = t->enc[i];
    if (id < 0 || span_equals(t, id, s, n))
      return id;
  }
}

static void enc_insert(vg_tokenizer *t, int32_t id) {
  const char *s = t->blob + t->vocab[id].off;
  size_t n = t->vocab[id].len;
  uint32_t i = hash_bytes(s, n) & (ENC_SLOTS - 1);
  while (t->enc[i] >= 0 && !span_equals(t, t->enc[i], s, n))
    i = (i + 1) & (ENC_SLOTS - 1);
  t->enc[i] = id;
}

static const pair_slot *pair_find(const vg_tokenizer *t, int32_t a, int32_t b) {
  uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  for (uint32_t i = hash_pair(key) & (PAIR_SLOTS - 1);; i = (i + 1) & (PAIR_SLOTS - 1)) {
    if (t->pairs[i].key == key)
      return &t->pairs[i];
    if (t->pairs[i].key == UINT64_MAX)
      return NULL;
  }
}

static void pair_insert(vg_tokenizer *t, int32_t a, int32_t b, int32_t rank, int32_t merged) {
  uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  uint32_t i = hash_pair(key) & (PAIR_SLOTS - 1);
  while (t->pairs[i].key != UINT64_MAX && t->pairs[i].key != key)
    i = (i + 1) & (PAIR_SLOTS - 1);
  t->pairs[i] = (pair_slot){key, rank, merged}; /* a repeated pair keeps its last rank */
}

/* ---- loading ---- */

static vg_status read_gzip(const char *path, char **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return vg_fail(VG_ERR_IO, "cannot open CLIP vocabulary '%s': %s", path, strerror(errno));
  unsigned char magic[2] = {0};
  size_t got = fread(magic, 1, 2, f);
  fclose(f);
  if (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
    return vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' is not a gzip file", path);
  gzFile gz = gzopen(path, "rb");
  if (!gz)
    return vg_fail(VG_ERR_IO, "cannot open CLIP vocabulary '%s'", path);
  size_t cap = 4u << 20, len = 0;
  char *buf = malloc(cap);
  vg_status st = buf ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory reading '%s'", path);
  while (st == VG_OK) {
    if (len == cap) {
      if (cap >= MAX_VOCAB_FILE) {
        st = vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' inflates to more than %u MiB", path,
                     MAX_VOCAB_FILE >> 20);
        break;
      }
      char *grown = realloc(buf, cap * 2);
      if (!grown) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory reading '%s'", path);
        break;
      }
      buf = grown;
      cap *= 2;
    }
    int n = gzread(gz, buf + len, (unsigned)(cap - len));
    if (n < 0) {
      int err;
      st = vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' is corrupt or truncated: %s", path,
                   gzerror(gz, &err));
    } else if (n == 0) {
      break;
    }
    len += (size_t)(n > 0 ? n : 0);
  }
  int err = Z_OK;
  const char *msg = gzerror(gz, &err);
  if (st == VG_OK && err != Z_OK)
    st = vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' is corrupt or truncated: %s", path, msg);
  if (gzclose_r(gz) != Z_OK && st == VG_OK)
    st = vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' is truncated", path);
  if (st != VG_OK) {
    free(buf);
    return st;
  }
  *out = buf;
  *out_len = len;
  return VG_OK;
}

static bool blob_add(vg_tokenizer *t, int32_t id, const char *a, size_t na, const char *b,
                     size_t nb) {
  if (t->blob_len + na + nb + 1 > t->blob_cap) {
    size_t cap = (t->blob_cap + na + nb + 1) * 2;
    char *grown = realloc(t->blob, cap);
    if (!grown)
      return false;
    t->blob = grown;
    t->blob_cap = cap;
  }
  memcpy(t->blob + t->blob_len, a, na);
  memcpy(t->blob + t->blob_len + na, b, nb);
  t->blob[t->blob_len + na + nb] = '\0'; /* so vg_tokenizer_token gives C strings */
  t->vocab[id] = (span){(uint32_t)t->blob_len, (uint32_t)(na + nb)};
  t->blob_len += na + nb + 1;
  return true;
}

static bool printable_byte(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The 256 byte symbols in bytes_to_unicode() order (printable bytes as themselves, the others
 * as U+0100 onwards), then their "</w>" forms. byte_of[i] is the byte of symbol i. */
static bool add_byte_symbols(vg_tokenizer *t, int byte_of[256]) {
  uint32_t cps[256];
  int n = 0, extra = 0;
  for (int b = 0; b < 256; b++)
    if (printable_byte(b))
      byte_of[n] = b, cps[n++] = (uint32_t)b;
  for (int b = 0; b < 256; b++)
    if (!printable_byte(b))
      byte_of[n] = b, cps[n++] = 0x100 + (uint32_t)extra++;
  for (int i = 0; i < 256; i++) {
    char u[4];
    size_t k = vg_utf8_encode(cps[i], u);
    if (!blob_add(t, i, u, k, "", 0) || !blob_add(t, 256 + i, u, k, "</w>", 4))
      return false;
  }
  return true;
}

typedef struct {
  const char *part[2];
  size_t len[2];
} merge_line;

static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static vg_status parse_merges(const char *path, const char *text, size_t len, merge_line *merges) {
  const char *p = memchr(text, '\n', len), *end = text + len;
  for (int m = 0; m < N_MERGES; m++) {
    if (!p || p + 1 == end)
      return vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' has %d merges, expected %d", path, m,
                     N_MERGES);
    const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));
    const char *stop = eol ? eol : end;
    int parts = 0;
    for (const char *q = line; q < stop;) {
      while (q < stop && is_blank(*q))
        q++;
      const char *w = q;
      while (q < stop && !is_blank(*q))
        q++;
      if (q > w && parts < 3) {
        if (parts < 2)
          merges[m].part[parts] = w, merges[m].len[parts] = (size_t)(q - w);
        parts++;
      }
    }
    if (parts != 2)
      return vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' line %d: expected two symbols", path,
                     m + 2);
    p = eol;
  }
  return VG_OK;
}

static vg_status build_vocab(vg_tokenizer *t, const char *path, const char *text, size_t len) {
  merge_line *merges = malloc(N_MERGES * sizeof *merges);
  if (!merges)
    return vg_fail(VG_ERR_NOMEM, "out of memory building the CLIP vocabulary");
  int byte_of[256];
  vg_status st = parse_merges(path, text, len, merges);
  if (st == VG_OK && !add_byte_symbols(t, byte_of))
    st = vg_fail(VG_ERR_NOMEM, "out of memory building the CLIP vocabulary");
  for (int m = 0; st == VG_OK && m < N_MERGES; m++)
    if (!blob_add(t, 512 + m, merges[m].part[0], merges[m].len[0], merges[m].part[1],
                  merges[m].len[1]))
      st = vg_fail(VG_ERR_NOMEM, "out of memory building the CLIP vocabulary");
  if (st == VG_OK && (!blob_add(t, VG_CLIP_SOT_ID, "<start_of_text>", 15, "", 0) ||
                      !blob_add(t, VG_CLIP_EOT_ID, "<end_of_text>", 13, "", 0)))
    st = vg_fail(VG_ERR_NOMEM, "out of memory building the CLIP vocabulary");
  for (int32_t id = 0; st == VG_OK && id < VG_CLIP_VOCAB_SIZE; id++)
    enc_insert(t, id);
  for (int m = 0; st == VG_OK && m < N_MERGES; m++) {
    const merge_line *ml = &merges[m];
    int32_t a = enc_find(t, ml->part[0], ml->len[0]), b = enc_find(t, ml->part[1], ml->len[1]);
    int bad = a < 0 ? 0 : 1;
    if (a < 0 || b < 0)
      st = vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' line %d: symbol '%.*s' is unknown", path,
                   m + 2, (int)ml->len[bad], ml->part[bad]);
    else
      pair_insert(t, a, b, m, enc_find(t, t->blob + t->vocab[512 + m].off, t->vocab[512 + m].len));
  }
  for (int i = 0; st == VG_OK && i < 256; i++) {
    const span *s = &t->vocab[i], *e = &t->vocab[256 + i];
    t->byte_id[byte_of[i]] = enc_find(t, t->blob + s->off, s->len);
    t->byte_end_id[byte_of[i]] = enc_find(t, t->blob + e->off, e->len);
  }
  free(merges);
  return st;
}

vg_status vg_tokenizer_open(const char *vocab_gz_path, vg_tokenizer **out) {
  if (!vocab_gz_path || !out)
    return vg_fail(VG_ERR_ARG, "vg_tokenizer_open: NULL argument");
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  vg_status st = read_gzip(vocab_gz_path, &text, &len);
  if (st != VG_OK)
    return st;
  size_t bad = 0;
  if (vg_utf8_decode(text, len, NULL, &bad) < 0) {
    free(text);
    return vg_fail(VG_ERR_FORMAT, "CLIP vocabulary '%s' is not UTF-8 (byte %zu)", vocab_gz_path,
                   bad);
  }
  vg_tokenizer *t = calloc(1, sizeof *t);
  if (t) {
    t->enc = malloc(ENC_SLOTS * sizeof *t->enc);
    t->pairs = malloc(PAIR_SLOTS * sizeof *t->pairs);
    t->cache = calloc(CACHE_SLOTS, sizeof *t->cache);
    pthread_mutex_init(&t->cache_lock, NULL);
  }
  if (!t || !t->enc || !t->pairs || !t->cache) {
    free(text);
    vg_tokenizer_free(t);
    return vg_fail(VG_ERR_NOMEM, "out of memory for the CLIP tokenizer");
  }
  memset(t->enc, 0xff, ENC_SLOTS * sizeof *t->enc);
  memset(t->pairs, 0xff, PAIR_SLOTS * sizeof *t->pairs);
  st = build_vocab(t, vocab_gz_path, text, len);
  free(text);
  if (st != VG_OK) {
    vg_tokenizer_free(t);
    return st;
  }
  *out = t;
  return VG_OK;
}

static void cache_clear(vg_tokenizer *t) {
  for (uint32_t i = 0; i < CACHE_SLOTS; i++) {
    free(t->cache[i].key);
    free(t->cache[i].ids);
    t->cache[i] = (cache_slot){0};
  }
  t->cache_count = 0;
}

void vg_tokenizer_free(vg_tokenizer *tok) {
  if (!tok)
    return;
  if (tok->cache) {
    cache_clear(tok);
    pthread_mutex_destroy(&tok->cache_lock);
  }
  free(tok->cache);
  free(tok->blob);
  free(tok->enc);
  free(tok->pairs);
  free(tok);
}

const char *vg_tokenizer_token(const vg_tokenizer *tok, int32_t id, int *len) {
  if (!tok || id < 0 || id >= VG_CLIP_VOCAB_SIZE)
    return NULL;
  if (len)
    *len = (int)tok->vocab[id].len;
  return tok->blob + tok->vocab[id].off;
}

/* ---- encoding ---- */

/* Byte-level BPE of one pre-token, as SimpleTokenizer.bpe: merge every occurrence of the
 * lowest-ranked adjacent pair, left to right, until none is ranked. word holds n ids. */
static size_t bpe(const vg_tokenizer *t, const unsigned char *bytes, size_t n, int32_t *word) {
  for (size_t i = 0; i < n; i++)
    word[i] = i + 1 == n ? t->byte_end_id[bytes[i]] : t->byte_id[bytes[i]];
  size_t len = n;
  while (len > 1) {
    const pair_slot *best = NULL;
    for (size_t i = 0; i + 1 < len; i++) {
      const pair_slot *p = pair_find(t, word[i], word[i + 1]);
      if (p && (!best || p->rank < best->rank))
        best = p;
    }
    if (!best)
      break;
    int32_t a = (int32_t)(best->key >> 32), b = (int32_t)(uint32_t)best->key;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
      if (i + 1 < len && word[i] == a && word[i + 1] == b) {
        word[o++] = best->merged;
        i += 2;
      } else {
        word[o++] = word[i++];
      }
    }
    len = o;
  }
  return len;
}

static cache_slot *cache_slot_for(vg_tokenizer *t, const unsigned char *key, size_t n) {
  for (uint32_t i = hash_bytes(key, n) & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
    cache_slot *c = &t->cache[i];
    if (!c->key || (c->key_len == n && memcmp(c->key, key, n) == 0))
      return c;
  }
}

static size_t bpe_cached(vg_tokenizer *t, const unsigned char *bytes, size_t n, int32_t *word) {
  if (n > CACHE_MAX_KEY)
    return bpe(t, bytes, n, word);
  pthread_mutex_lock(&t->cache_lock);
  cache_slot *c = cache_slot_for(t, bytes, n);
  size_t k = c->key ? c->n_ids : 0;
  if (k)
    memcpy(word, c->ids, k * sizeof *word);
  pthread_mutex_unlock(&t->cache_lock);
  if (k)
    return k;
  k = bpe(t, bytes, n, word);
  pthread_mutex_lock(&t->cache_lock);
  if (t->cache_count >= CACHE_MAX_ENTRIES)
    cache_clear(t);
  c = cache_slot_for(t, bytes, n);
  if (!c->key) { /* a failed allocation only means no caching */
    unsigned char *key = malloc(n);
    int32_t *ids = malloc(k * sizeof *ids);
    if (key && ids) {
      memcpy(key, bytes, n);
      memcpy(ids, word, k * sizeof *ids);
      *c = (cache_slot){key, (uint32_t)n, (uint32_t)k, ids};
      t->cache_count++;
    } else {
      free(key);
      free(ids);
    }
  }
  pthread_mutex_unlock(&t->cache_lock);
  return k;
}

/* Matches an ASCII literal as regex's IGNORECASE does on lower-case text ('s' also matches
 * U+017F LATIN SMALL LETTER LONG S, its case-fold partner). */
static size_t match_literal(const uint32_t *s, size_t n, const char *lit) {
  size_t k = strlen(lit);
  if (k > n)
    return 0;
  for (size_t i = 0; i < k; i++)
    if (s[i] != (unsigned char)lit[i] && !(lit[i] == 's' && s[i] == 0x17F))
      return 0;
  return k;
}

static bool other_char(uint32_t c) {
  return !vg_uc_is_unmatched(c) && !vg_uc_is_letter(c) && !vg_uc_is_number(c);
}

/* The regex match at s[0]: <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|
 * [\p{N}]|[^\s\p{L}\p{N}]+ (IGNORECASE). Returns its length (0 when nothing matches: findall
 * then moves on one character); *special is the id of a special token, else -1. */
static size_t next_match(const uint32_t *s, size_t n, int32_t *special) {
  static const char *const literals[] = {
      "<start_of_text>", "<end_of_text>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  *special = -1;
  for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
    size_t k = match_literal(s, n, literals[i]);
    if (k) {
      *special = i == 0 ? VG_CLIP_SOT_ID : i == 1 ? VG_CLIP_EOT_ID : -1;
      return k;
    }
  }
  size_t k = 1;
  if (vg_uc_is_letter(s[0])) {
    while (k < n && vg_uc_is_letter(s[k]))
      k++;
    return k;
  }
  if (vg_uc_is_number(s[0]))
    return 1;
  if (vg_uc_is_unmatched(s[0]))
    return 0;
  while (k < n && other_char(s[k]))
    k++;
  return k;
}

/* Splits cleaned text and BPE-encodes it into ids[0..76); returns the count (76 = more than
 * fit). bytes and word hold 4 entries per code point of text. */
static int encode_clean(vg_tokenizer *t, const vg_cpbuf *text, unsigned char *bytes, int32_t *word,
                        int32_t ids[VG_CLIP_CONTEXT - 1]) {
  int count = 0;
  for (size_t i = 0; i < text->n && count < VG_CLIP_CONTEXT - 1;) {
    int32_t special;
    size_t k = next_match(text->v + i, text->n - i, &special);
    if (k == 0) {
      i++;
      continue;
    }
    size_t nw = 1;
    if (special >= 0) {
      word[0] = special;
    } else {
      size_t nb = 0;
      for (size_t j = i; j < i + k; j++)
        nb += vg_utf8_encode(text->v[j], (char *)bytes + nb);
      nw = bpe_cached(t, bytes, nb, word);
    }
    for (size_t j = 0; j < nw && count < VG_CLIP_CONTEXT - 1; j++)
      ids[count++] = word[j];
    i += k;
  }
  return count;
}

/* UTF-8 text -> cleaned code points, with the argument checks shared by the entry points. */
static vg_status clean_utf8(const char *text, vg_cpbuf *out) {
  size_t len = strnlen(text, VG_CLIP_MAX_TEXT_BYTES + 1);
  if (len > VG_CLIP_MAX_TEXT_BYTES)
    return vg_fail(VG_ERR_ARG, "text to tokenize is longer than %d bytes", VG_CLIP_MAX_TEXT_BYTES);
  uint32_t *cps = malloc((len + 1) * sizeof *cps);
  if (!cps)
    return vg_fail(VG_ERR_NOMEM, "out of memory for text to tokenize");
  size_t bad = 0;
  long n = vg_utf8_decode(text, len, cps, &bad);
  vg_status st = n < 0 ? vg_fail(VG_ERR_ARG, "text to tokenize is not valid UTF-8 (byte %zu)", bad)
                       : vg_clip_clean(cps, (size_t)n, out);
  free(cps);
  return st;
}

vg_status vg_tokenizer_encode_ex(vg_tokenizer *tok, const char *utf8_text,
                                 int32_t out_ids[VG_CLIP_CONTEXT], bool *truncated) {
  if (!tok || !utf8_text || !out_ids)
    return vg_fail(VG_ERR_ARG, "vg_tokenizer_encode: NULL argument");
  vg_cpbuf text = {0};
  vg_status st = clean_utf8(utf8_text, &text);
  unsigned char *bytes = st == VG_OK ? malloc(4 * text.n + 4) : NULL;
  int32_t *word = st == VG_OK ? malloc((4 * text.n + 4) * sizeof *word) : NULL;
  if (st == VG_OK && (!bytes || !word))
    st = vg_fail(VG_ERR_NOMEM, "out of memory for text to tokenize");
  if (st == VG_OK) {
    int32_t ids[VG_CLIP_CONTEXT - 1];
    int count = encode_clean(tok, &text, bytes, word, ids);
    int kept = count < VG_CLIP_CONTEXT - 2 ? count : VG_CLIP_CONTEXT - 2;
    memset(out_ids, 0, VG_CLIP_CONTEXT * sizeof *out_ids);
    out_ids[0] = VG_CLIP_SOT_ID;
    memcpy(out_ids + 1, ids, (size_t)kept * sizeof *ids);
    out_ids[kept + 1] = VG_CLIP_EOT_ID; /* open_clip: tokens[:77], then tokens[-1] = eot */
    if (truncated)
      *truncated = count > VG_CLIP_CONTEXT - 2;
  }
  free(bytes);
  free(word);
  vg_cpbuf_free(&text);
  return st;
}

vg_status vg_tokenizer_encode(vg_tokenizer *tok, const char *utf8_text,
                              int32_t out_ids[VG_CLIP_CONTEXT]) {
  return vg_tokenizer_encode_ex(tok, utf8_text, out_ids, NULL);
}

int vg_tokenizer_eot_index(const int32_t ids[VG_CLIP_CONTEXT]) {
  int best = 0;
  for (int i = 1; i < VG_CLIP_CONTEXT; i++)
    if (ids[i] > ids[best])
      best = i;
  return best;
}

vg_status vg_clip_clean_text(const char *utf8_text, char **out) {
  if (!utf8_text || !out)
    return vg_fail(VG_ERR_ARG, "vg_clip_clean_text: NULL argument");
  vg_cpbuf text = {0};
  vg_status st = clean_utf8(utf8_text, &text);
  char *s = st == VG_OK ? malloc(4 * text.n + 1) : NULL;
  if (st == VG_OK && !s)
    st = vg_fail(VG_ERR_NOMEM, "out of memory for cleaned text");
  if (s) {
    size_t k = 0;
    for (size_t i = 0; i < text.n; i++)
      k += vg_utf8_encode(text.v[i], s + k);
    s[k] = '\0';
  }
  vg_cpbuf_free(&text);
  *out = s;
  return st;
}

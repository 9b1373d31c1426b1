#include "vg_json.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

typedef struct parser {
  const char *p, *end, *start;
  int depth;
} parser;

static vg_json *fail_at(parser *ps, const char *what) {
  vg_fail(VG_ERR_FORMAT, "JSON: %s at byte %td", what, ps->p - ps->start);
  return NULL;
}

static void skip_space(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static vg_json *node(vg_json_type type) {
  vg_json *j = calloc(1, sizeof *j);
  if (j)
    j->type = type;
  else
    vg_fail(VG_ERR_NOMEM, "JSON: out of memory");
  return j;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(char *out, unsigned cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | (cp >> 12)), out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (cp >> 18)), out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* Reads a string starting after the opening quote into a fresh buffer. */
static char *parse_string(parser *ps) {
  const char *s = ps->p;
  size_t cap = 0;
  while (s < ps->end && *s != '"') {
    if (*s == '\\')
      s++;
    s++, cap++;
  }
  if (s >= ps->end) {
    fail_at(ps, "unterminated string");
    return NULL;
  }
  char *out = malloc(cap * 4 + 1), *o = out; /* \uXXXX may widen to 4 bytes */
  if (!out) {
    vg_fail(VG_ERR_NOMEM, "JSON: out of memory");
    return NULL;
  }
  while (*ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p++;
    if (c < 0x20) {
      free(out);
      fail_at(ps, "control character in string");
      return NULL;
    }
    if (c != '\\') {
      *o++ = (char)c;
      continue;
    }
    char e = *ps->p++;
    unsigned cp;
    switch (e) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u':
      if (ps->end - ps->p < 4 || !hex4(ps->p, &cp)) {
        free(out);
        fail_at(ps, "bad \\u escape");
        return NULL;
      }
      ps->p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
          ps->p[1] == 'u') {
        unsigned lo;
        if (hex4(ps->p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          ps->p += 6;
        }
      }
      o += put_utf8(o, cp);
      break;
    default:
      free(out);
      fail_at(ps, "bad escape");
      return NULL;
    }
  }
  ps->p++; /* closing quote */
  *o = '\0';
  return out;
}

static vg_json *parse_value(parser *ps);

static int append(vg_json *parent, vg_json *child, char *key) {
  if (parent->count % 16 == 0) {
    vg_json **items = realloc(parent->items, (parent->count + 16) * sizeof *items);
    if (!items)
      return 0;
    parent->items = items;
    if (parent->type == VG_JSON_OBJECT) {
      char **keys = realloc(parent->keys, (parent->count + 16) * sizeof *keys);
      if (!keys)
        return 0;
      parent->keys = keys;
    }
  }
  parent->items[parent->count] = child;
  if (parent->type == VG_JSON_OBJECT)
    parent->keys[parent->count] = key;
  parent->count++;
  return 1;
}

static vg_json *parse_container(parser *ps, vg_json_type type) {
  if (++ps->depth > MAX_DEPTH)
    return fail_at(ps, "nesting too deep");
  vg_json *j = node(type);
  if (!j)
    return NULL;
  const char close = type == VG_JSON_OBJECT ? '}' : ']';
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++, ps->depth--;
    return j;
  }
  for (;;) {
    char *key = NULL;
    skip_space(ps);
    if (type == VG_JSON_OBJECT) {
      if (ps->p >= ps->end || *ps->p != '"')
        goto bad_key;
      ps->p++;
      if (!(key = parse_string(ps)))
        goto fail;
      skip_space(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        fail_at(ps, "expected ':'");
        goto fail;
      }
      ps->p++;
    }
    vg_json *child = parse_value(ps);
    if (!child || !append(j, child, key)) {
      if (child)
        vg_fail(VG_ERR_NOMEM, "JSON: out of memory");
      vg_json_free(child), free(key);
      goto fail;
    }
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++, ps->depth--;
      return j;
    }
    fail_at(ps, "expected ',' or a closing bracket");
    goto fail;
  }
bad_key:
  fail_at(ps, "expected a string key");
fail:
  vg_json_free(j);
  return NULL;
}

static vg_json *parse_number(parser *ps) {
  const char *s = ps->p;
  int integer = 1;
  if (s < ps->end && *s == '-')
    s++;
  if (s >= ps->end || *s < '0' || *s > '9')
    return fail_at(ps, "unexpected character");
  while (s < ps->end && ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E' ||
                         *s == '+' || *s == '-')) {
    if (*s == '.' || *s == 'e' || *s == 'E')
      integer = 0;
    s++;
  }
  char buf[64];
  size_t n = (size_t)(s - ps->p);
  if (n >= sizeof buf)
    return fail_at(ps, "number too long");
  memcpy(buf, ps->p, n);
  buf[n] = '\0';
  vg_json *j = node(VG_JSON_NUMBER);
  if (!j)
    return NULL;
  char *end;
  j->number = strtod(buf, &end);
  if (*end) {
    vg_json_free(j);
    return fail_at(ps, "malformed number");
  }
  if (integer) {
    j->is_integer = n <= 18; /* fits int64 without overflow */
    j->integer = j->is_integer ? strtoll(buf, NULL, 10) : 0;
  }
  ps->p = s;
  return j;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
    ps->p += n;
    return 1;
  }
  return 0;
}

static vg_json *parse_value(parser *ps) {
  skip_space(ps);
  if (ps->p >= ps->end)
    return fail_at(ps, "unexpected end");
  vg_json *j;
  switch (*ps->p) {
  case '{': ps->p++; return parse_container(ps, VG_JSON_OBJECT);
  case '[': ps->p++; return parse_container(ps, VG_JSON_ARRAY);
  case '"':
    ps->p++;
    if (!(j = node(VG_JSON_STRING)))
      return NULL;
    if (!(j->string = parse_string(ps))) {
      free(j);
      return NULL;
    }
    return j;
  default:
    if (literal(ps, "null"))
      return node(VG_JSON_NULL);
    if (literal(ps, "true") || literal(ps, "false")) {
      if ((j = node(VG_JSON_BOOL)))
        j->boolean = ps->p[-1] == 'e' && ps->p[-2] == 'u';
      return j;
    }
    return parse_number(ps);
  }
}

vg_json *vg_json_parse(const char *text, size_t len) {
  parser ps = {text, text + len, text, 0};
  vg_json *j = parse_value(&ps);
  if (!j)
    return NULL;
  skip_space(&ps);
  if (ps.p != ps.end) {
    vg_json_free(j);
    return fail_at(&ps, "trailing data");
  }
  return j;
}

void vg_json_free(vg_json *json) {
  if (!json)
    return;
  for (size_t i = 0; i < json->count; i++) {
    vg_json_free(json->items[i]);
    if (json->keys)
      free(json->keys[i]);
  }
  free(json->items), free(json->keys), free(json->string);
  free(json);
}

const vg_json *vg_json_get(const vg_json *object, const char *key) {
  if (!object || object->type != VG_JSON_OBJECT)
    return NULL;
  for (size_t i = 0; i < object->count; i++)
    if (strcmp(object->keys[i], key) == 0)
      return object->items[i];
  return NULL;
}

#include "vg_pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIMS 8     /* parsed; the weights table holds up to 4 */
#define MAX_NAME 1024  /* flattened key length */
#define MAX_DEPTH 32   /* nested dicts */
#define MAX_GLOBAL 256 /* module or name length */
#define MAX_NUMEL (1LL << 40)

typedef enum otype {
  O_NONE,
  O_BOOL,
  O_INT,
  O_FLOAT,
  O_STR,
  O_TUPLE,
  O_LIST,
  O_DICT,
  O_GLOBAL,
  O_STORAGE,
  O_TENSOR
} otype;

typedef enum gkind { G_ORDERED_DICT, G_REBUILD_TENSOR, G_STORAGE_TYPE } gkind;

typedef struct obj obj;
struct obj {
  otype type;
  obj *next_alloc;
  int64_t i; /* INT/BOOL value; STORAGE numel; TENSOR offset */
  char *s;   /* STR text; GLOBAL "module.name"; STORAGE key */
  size_t slen;
  obj **items; /* TUPLE/LIST items; DICT key, value, key, value, ... */
  size_t n, cap;
  gkind g;
  int dtype; /* storage type: a vg_wdtype, or -1 when unsupported */
  obj *ref;  /* TENSOR: its STORAGE; STORAGE: its type GLOBAL */
  int ndim;
  int64_t shape[MAX_DIMS], stride[MAX_DIMS];
};

typedef struct up {
  const unsigned char *start, *p, *end;
  obj *objs;
  obj **stack;
  size_t sp, scap;
  size_t *marks;
  size_t nmarks, mcap;
  obj **memo;
  size_t nmemo;
  size_t op_at; /* offset of the opcode being run, for messages */
} up;

static vg_status bad(up *u, const char *what) {
  return vg_fail(VG_ERR_FORMAT, "pickle: %s at byte %zu", what, u->op_at);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return 1;
  size_t c = *cap ? *cap : 16;
  while (c < need)
    c *= 2;
  void *a = realloc(*arr, c * elem);
  if (!a)
    return 0;
  *arr = a;
  *cap = c;
  return 1;
}

static obj *new_obj(up *u, otype type) {
  obj *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  o->type = type;
  o->next_alloc = u->objs;
  u->objs = o;
  return o;
}

static vg_status push(up *u, obj *o) {
  if (!o || !grow((void **)&u->stack, &u->scap, u->sp + 1, sizeof *u->stack))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  u->stack[u->sp++] = o;
  return VG_OK;
}

static vg_status push_new(up *u, otype type, int64_t i) {
  obj *o = new_obj(u, type);
  if (o)
    o->i = i;
  return push(u, o);
}

/* Takes n items from the top of the stack (above any open mark). */
static vg_status pop_n(up *u, size_t n, obj ***items) {
  size_t floor = u->nmarks ? u->marks[u->nmarks - 1] : 0;
  if (u->sp - floor < n)
    return bad(u, "stack underflow");
  u->sp -= n;
  *items = u->stack + u->sp;
  return VG_OK;
}

static vg_status pop1(up *u, obj **o) {
  obj **items = NULL;
  vg_status s = pop_n(u, 1, &items);
  *o = s ? NULL : items[0];
  return s;
}

/* Items pushed since the last MARK; the mark is removed. */
static vg_status pop_mark(up *u, obj ***items, size_t *n) {
  if (!u->nmarks)
    return bad(u, "no MARK for this opcode");
  size_t m = u->marks[--u->nmarks];
  *items = u->stack + m;
  *n = u->sp - m;
  u->sp = m;
  return VG_OK;
}

/* The top of the stack, or NULL when empty above the last MARK. */
static obj *top(const up *u) {
  size_t floor = u->nmarks ? u->marks[u->nmarks - 1] : 0;
  return u->sp > floor ? u->stack[u->sp - 1] : NULL;
}

static vg_status add_items(up *u, obj *o, obj **items, size_t n) {
  if (n == 0) /* e.g. an empty MARK ... SETITEMS; items may be NULL */
    return VG_OK;
  if (!grow((void **)&o->items, &o->cap, o->n + n, sizeof *o->items))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  memcpy(o->items + o->n, items, n * sizeof *items);
  o->n += n;
  return VG_OK;
}

static vg_status make_tuple(up *u, obj **items, size_t n) {
  obj *t = new_obj(u, O_TUPLE);
  if (!t)
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  vg_status s = add_items(u, t, items, n);
  return s ? s : push(u, t);
}

static int take(up *u, size_t n, const unsigned char **at) {
  if ((size_t)(u->end - u->p) < n)
    return 0;
  *at = u->p;
  u->p += n;
  return 1;
}

static uint64_t le(const unsigned char *b, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;)
    v = v << 8 | b[i];
  return v;
}

static vg_status op_string(up *u, size_t lenbytes) {
  const unsigned char *b, *text;
  if (!take(u, lenbytes, &b))
    return bad(u, "truncated string length");
  uint64_t n = le(b, lenbytes);
  if (n > (uint64_t)(u->end - u->p) || !take(u, (size_t)n, &text))
    return bad(u, "string runs past the end");
  obj *o = new_obj(u, O_STR);
  if (!o || !(o->s = malloc((size_t)n + 1)))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  memcpy(o->s, text, (size_t)n);
  o->s[n] = 0;
  o->slen = (size_t)n;
  return push(u, o);
}

static vg_status op_int(up *u, size_t nbytes, int is_signed) {
  const unsigned char *b;
  if (!take(u, nbytes, &b))
    return bad(u, "truncated integer");
  uint64_t v = le(b, nbytes);
  if (is_signed && nbytes < 8 && nbytes > 0 && (v >> (8 * nbytes - 1)))
    v |= ~(uint64_t)0 << (8 * nbytes);
  return push_new(u, O_INT, (int64_t)v);
}

static vg_status op_long1(up *u) {
  const unsigned char *b;
  if (!take(u, 1, &b))
    return bad(u, "truncated LONG1");
  if (*b > 8)
    return bad(u, "LONG1 integer wider than 64 bits");
  return op_int(u, *b, 1);
}

static vg_status op_binfloat(up *u) {
  const unsigned char *b;
  if (!take(u, 8, &b))
    return bad(u, "truncated BINFLOAT");
  return push_new(u, O_FLOAT, 0); /* the value is never needed */
}

static int storage_dtype(const char *name) {
  static const char *const unsupported[] = {
      "Double", "Long", "Int", "Short", "Char", "Byte", "Bool", "ComplexFloat", "ComplexDouble"};
  if (!strcmp(name, "FloatStorage"))
    return VG_W_F32;
  if (!strcmp(name, "HalfStorage"))
    return VG_W_F16;
  if (!strcmp(name, "BFloat16Storage"))
    return VG_W_BF16;
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
    size_t k = strlen(unsupported[i]);
    if (n == k + 7 && !strncmp(name, unsupported[i], k) && !strcmp(name + k, "Storage"))
      return -1;
  }
  return -2; /* not a storage type at all */
}

static vg_status read_line(up *u, char *out) {
  const unsigned char *nl = memchr(u->p, '\n', (size_t)(u->end - u->p));
  if (!nl)
    return bad(u, "GLOBAL name runs past the end");
  size_t n = (size_t)(nl - u->p);
  if (n == 0 || n >= MAX_GLOBAL)
    return bad(u, "GLOBAL name is empty or too long");
  for (size_t i = 0; i < n; i++)
    if (u->p[i] < 0x20 || u->p[i] > 0x7e)
      return bad(u, "GLOBAL name has a non-printable byte");
  memcpy(out, u->p, n);
  out[n] = 0;
  u->p = nl + 1;
  return VG_OK;
}

static vg_status op_global(up *u) {
  char module[MAX_GLOBAL], name[MAX_GLOBAL];
  vg_status s = read_line(u, module);
  if (!s)
    s = read_line(u, name);
  if (s)
    return s;
  obj *g = new_obj(u, O_GLOBAL);
  if (!g)
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  if (!strcmp(module, "collections") && !strcmp(name, "OrderedDict")) {
    g->g = G_ORDERED_DICT;
  } else if (!strcmp(module, "torch._utils") && !strcmp(name, "_rebuild_tensor_v2")) {
    g->g = G_REBUILD_TENSOR;
  } else if (!strcmp(module, "torch") && storage_dtype(name) != -2) {
    g->g = G_STORAGE_TYPE;
    g->dtype = storage_dtype(name);
  } else {
    return vg_fail(VG_ERR_FORMAT,
                   "pickle: global '%s.%s' at byte %zu is not allowed (a checkpoint may only "
                   "name collections.OrderedDict, torch._utils._rebuild_tensor_v2 and "
                   "torch.*Storage); refusing to load it",
                   module, name, u->op_at);
  }
  size_t len = strlen(module) + strlen(name) + 2;
  if (!(g->s = malloc(len)))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  snprintf(g->s, len, "%s.%s", module, name);
  return push(u, g);
}

static vg_status int_tuple(up *u, const obj *t, int64_t *vals, int *n, const char *what) {
  if (t->type != O_TUPLE)
    return bad(u, what);
  if (t->n > MAX_DIMS)
    return vg_fail(VG_ERR_UNSUPPORTED, "pickle: tensor with %zu dimensions at byte %zu", t->n,
                   u->op_at);
  for (size_t i = 0; i < t->n; i++) {
    if (t->items[i]->type != O_INT)
      return bad(u, what);
    vals[i] = t->items[i]->i;
  }
  *n = (int)t->n;
  return VG_OK;
}

static vg_status rebuild_tensor(up *u, const obj *args) {
  if (args->n != 6 && args->n != 7)
    return bad(u, "_rebuild_tensor_v2 takes 6 or 7 arguments");
  obj *const *a = args->items;
  if (a[0]->type != O_STORAGE || a[1]->type != O_INT || a[4]->type != O_BOOL ||
      a[5]->type != O_DICT || (args->n == 7 && a[6]->type != O_DICT))
    return bad(u, "_rebuild_tensor_v2 has arguments of the wrong types");
  obj *t = new_obj(u, O_TENSOR);
  if (!t)
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  int nstride = 0;
  vg_status s = int_tuple(u, a[2], t->shape, &t->ndim, "tensor size is not a tuple of ints");
  if (!s)
    s = int_tuple(u, a[3], t->stride, &nstride, "tensor stride is not a tuple of ints");
  if (s)
    return s;
  if (nstride != t->ndim)
    return bad(u, "tensor size and stride differ in length");
  t->ref = a[0];
  t->i = a[1]->i;
  return push(u, t);
}

static vg_status op_reduce(up *u, int newobj) {
  obj **two = NULL;
  vg_status s = pop_n(u, 2, &two);
  if (s)
    return s;
  obj *fn = two[0], *args = two[1];
  if (fn->type != O_GLOBAL || args->type != O_TUPLE)
    return bad(u, newobj ? "NEWOBJ on something other than a class" : "REDUCE on a non-global");
  if (fn->g == G_ORDERED_DICT && args->n == 0)
    return push_new(u, O_DICT, 0);
  if (fn->g == G_REBUILD_TENSOR && !newobj)
    return rebuild_tensor(u, args);
  return vg_fail(VG_ERR_FORMAT, "pickle: calling '%s' (%s) at byte %zu is not allowed", fn->s,
                 newobj ? "NEWOBJ" : "REDUCE", u->op_at);
}

static vg_status op_persid(up *u) {
  obj *pid;
  vg_status s = pop1(u, &pid);
  if (s)
    return s;
  obj *const *a = pid->items;
  if (pid->type != O_TUPLE || pid->n != 5 || a[0]->type != O_STR || strcmp(a[0]->s, "storage") ||
      a[1]->type != O_GLOBAL || a[1]->g != G_STORAGE_TYPE || a[2]->type != O_STR ||
      a[3]->type != O_STR || a[4]->type != O_INT)
    return bad(u, "persistent id is not ('storage', torch.<T>Storage, key, location, numel)");
  if (a[4]->i < 0 || a[4]->i > MAX_NUMEL)
    return vg_fail(VG_ERR_FORMAT, "pickle: storage '%s' declares %lld elements", a[2]->s,
                   (long long)a[4]->i);
  obj *st = new_obj(u, O_STORAGE);
  if (!st)
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  st->s = a[2]->s; /* owned by the key string object */
  st->i = a[4]->i;
  st->ref = a[1];
  return push(u, st);
}

static vg_status op_setitems(up *u, int many) {
  obj **kv = NULL;
  size_t n = 2;
  vg_status s = many ? pop_mark(u, &kv, &n) : pop_n(u, 2, &kv);
  if (s)
    return s;
  if (n % 2)
    return bad(u, "SETITEMS with an odd number of items");
  if (!top(u) || top(u)->type != O_DICT)
    return bad(u, "SETITEM on something other than a dict");
  return add_items(u, top(u), kv, n);
}

static vg_status op_appends(up *u, int many) {
  obj **v = NULL;
  size_t n = 1;
  vg_status s = many ? pop_mark(u, &v, &n) : pop_n(u, 1, &v);
  if (s)
    return s;
  if (!top(u) || top(u)->type != O_LIST)
    return bad(u, "APPEND on something other than a list");
  return add_items(u, top(u), v, n);
}

static vg_status op_put(up *u, size_t nbytes) {
  const unsigned char *b;
  if (!take(u, nbytes, &b))
    return bad(u, "truncated memo index");
  uint64_t i = le(b, nbytes);
  if (!top(u))
    return bad(u, "PUT on an empty stack");
  /* torch numbers memo slots 0, 1, 2...; a slot beyond the input size is bogus. */
  if (i >= (uint64_t)(u->end - u->start))
    return bad(u, "memo index out of range");
  size_t cap = u->nmemo;
  if (!grow((void **)&u->memo, &cap, (size_t)i + 1, sizeof *u->memo))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  if (cap > u->nmemo)
    memset(u->memo + u->nmemo, 0, (cap - u->nmemo) * sizeof *u->memo);
  u->nmemo = cap;
  u->memo[i] = top(u);
  return VG_OK;
}

static vg_status op_get(up *u, size_t nbytes) {
  const unsigned char *b;
  if (!take(u, nbytes, &b))
    return bad(u, "truncated memo index");
  uint64_t i = le(b, nbytes);
  if (i >= u->nmemo || !u->memo[i])
    return bad(u, "GET of an unset memo slot");
  return push(u, u->memo[i]);
}

static vg_status op_mark(up *u) {
  if (!grow((void **)&u->marks, &u->mcap, u->nmarks + 1, sizeof *u->marks))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  u->marks[u->nmarks++] = u->sp;
  return VG_OK;
}

static vg_status op_build(up *u) {
  obj *state;
  vg_status s = pop1(u, &state);
  if (s)
    return s;
  /* OrderedDict state (e.g. a state_dict's _metadata) is parsed and ignored. */
  if (!top(u) || top(u)->type != O_DICT)
    return bad(u, "BUILD on something other than an OrderedDict");
  return VG_OK;
}

static const char *op_name(unsigned char op) {
  static const struct {
    unsigned char op;
    const char *name;
  } names[] = {{'i', "INST"},
               {'o', "OBJ"},
               {0x93, "STACK_GLOBAL"},
               {'P', "PERSID"},
               {'I', "INT"},
               {'L', "LONG"},
               {'S', "STRING"},
               {'T', "BINSTRING"},
               {'U', "SHORT_BINSTRING"},
               {'V', "UNICODE"},
               {'F', "FLOAT"},
               {'B', "BINBYTES"},
               {'C', "SHORT_BINBYTES"},
               {0x8b, "LONG4"},
               {0x82, "EXT1"},
               {0x83, "EXT2"},
               {0x84, "EXT4"},
               {0x92, "NEWOBJ_EX"},
               {0x94, "MEMOIZE"},
               {0x95, "FRAME"},
               {'p', "PUT"},
               {'g', "GET"},
               {'d', "DICT"},
               {'l', "LIST"},
               {'0', "POP"},
               {'1', "POP_MARK"},
               {'2', "DUP"},
               {0x8f, "EMPTY_SET"},
               {0x90, "ADDITEMS"},
               {0x91, "FROZENSET"},
               {0x96, "BYTEARRAY8"},
               {0x97, "NEXT_BUFFER"},
               {0x98, "READONLY_BUFFER"}};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (names[i].op == op)
      return names[i].name;
  return "unknown";
}

/* Runs one opcode; *stop is set at STOP. */
static vg_status step(up *u, int *stop) {
  u->op_at = (size_t)(u->p - u->start);
  const unsigned char op = *u->p++;
  obj **items = NULL;
  size_t n = 0; /* pop_mark sets it; gcc -O3 cannot see that through bad() */
  vg_status s;
  switch (op) {
  case 0x80: { /* PROTO */
    const unsigned char *b;
    if (!take(u, 1, &b))
      return bad(u, "truncated PROTO");
    if (*b < 2 || *b > 3)
      return vg_fail(VG_ERR_UNSUPPORTED,
                     "pickle: protocol %u is not supported (torch.save "
                     "writes protocol 2)",
                     *b);
    return VG_OK;
  }
  case '.': *stop = 1; return VG_OK;
  case '}': return push_new(u, O_DICT, 0);
  case ']': return push_new(u, O_LIST, 0);
  case ')': return make_tuple(u, NULL, 0);
  case '(': return op_mark(u);
  case 'X': return op_string(u, 4);
  case 0x8c: return op_string(u, 1); /* SHORT_BINUNICODE */
  case 'J': return op_int(u, 4, 1);
  case 'K': return op_int(u, 1, 0);
  case 'M': return op_int(u, 2, 0);
  case 0x8a: return op_long1(u);
  case 'G': return op_binfloat(u);
  case 't': s = pop_mark(u, &items, &n); return s ? s : make_tuple(u, items, n);
  case 0x85:
  case 0x86:
  case 0x87:
    s = pop_n(u, (size_t)(op - 0x84), &items);
    return s ? s : make_tuple(u, items, (size_t)(op - 0x84));
  case 's': return op_setitems(u, 0);
  case 'u': return op_setitems(u, 1);
  case 'a': return op_appends(u, 0);
  case 'e': return op_appends(u, 1);
  case 'q': return op_put(u, 1);
  case 'r': return op_put(u, 4);
  case 'h': return op_get(u, 1);
  case 'j': return op_get(u, 4);
  case 0x89: return push_new(u, O_BOOL, 0);
  case 0x88: return push_new(u, O_BOOL, 1);
  case 'N': return push_new(u, O_NONE, 0);
  case 'c': return op_global(u);
  case 'R': return op_reduce(u, 0);
  case 0x81: return op_reduce(u, 1);
  case 'b': return op_build(u);
  case 'Q': return op_persid(u);
  default:
    return vg_fail(VG_ERR_FORMAT,
                   "pickle: opcode 0x%02x (%s) at byte %zu is not allowed in a checkpoint", op,
                   op_name(op), u->op_at);
  }
}

static void up_free(up *u) {
  for (obj *o = u->objs, *next; o; o = next) {
    next = o->next_alloc;
    if (o->type != O_STORAGE)
      free(o->s);
    free(o->items);
    free(o);
  }
  free(u->stack), free(u->marks), free(u->memo);
}

static vg_status run(up *u, obj **root) {
  if (u->p == u->end || *u->p != 0x80)
    return vg_fail(VG_ERR_FORMAT, "pickle: does not start with a PROTO opcode");
  /* A stack that exists from the start keeps `stack + n` well defined. */
  if (!grow((void **)&u->stack, &u->scap, 16, sizeof *u->stack))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  int stop = 0;
  while (!stop) {
    if (u->p == u->end)
      return vg_fail(VG_ERR_FORMAT, "pickle: ends without STOP (truncated)");
    vg_status s = step(u, &stop);
    if (s)
      return s;
  }
  if (u->sp != 1 || u->nmarks)
    return bad(u, "STOP with a stack that is not exactly one object");
  if (u->p != u->end)
    return bad(u, "data after STOP");
  *root = u->stack[0];
  return VG_OK;
}

typedef struct flat {
  vg_pickle_tensor *t;
  size_t n, cap;
  size_t visits, max_visits; /* bounds shared sub-dicts visited many times */
} flat;

static vg_status tensor_leaf(flat *f, const char *name, const obj *o) {
  const obj *st = o->ref;
  if (st->ref->dtype < 0)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "tensor '%s' has dtype %s; only float32, float16 and bfloat16 are supported",
                   name, st->ref->s);
  if (o->ndim > VG_WEIGHT_MAX_DIMS)
    return vg_fail(VG_ERR_UNSUPPORTED, "tensor '%s' has %d dimensions (at most %d)", name, o->ndim,
                   VG_WEIGHT_MAX_DIMS);
  int64_t numel = 1, expect = 1;
  int contiguous = 1;
  for (int i = o->ndim; i-- > 0;) {
    if (o->shape[i] < 0 || (o->shape[i] > 0 && numel > MAX_NUMEL / o->shape[i]))
      return vg_fail(VG_ERR_FORMAT, "tensor '%s' has an impossible shape", name);
    numel *= o->shape[i];
    if (o->shape[i] != 1 && o->stride[i] != expect)
      contiguous = 0;
    expect *= o->shape[i];
  }
  if (!contiguous && numel > 0)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "tensor '%s' is not contiguous (a strided view); save tensor.contiguous()",
                   name);
  if (o->i < 0 || o->i > st->i || numel > st->i - o->i)
    return vg_fail(VG_ERR_FORMAT,
                   "tensor '%s' (offset %lld, %lld elements) lies outside its storage '%s' of "
                   "%lld elements",
                   name, (long long)o->i, (long long)numel, st->s, (long long)st->i);
  if (!grow((void **)&f->t, &f->cap, f->n + 1, sizeof *f->t))
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  vg_pickle_tensor *t = &f->t[f->n];
  *t = (vg_pickle_tensor){
      .dtype = (vg_wdtype)st->ref->dtype, .storage_numel = st->i, .offset = o->i, .ndim = o->ndim};
  memcpy(t->shape, o->shape, sizeof t->shape);
  t->name = strdup(name);
  t->storage = strdup(st->s);
  f->n++;
  if (!t->name || !t->storage)
    return vg_fail(VG_ERR_NOMEM, "pickle: out of memory");
  return VG_OK;
}

/* `path` holds the dicts enclosing this one, to refuse a dict inside itself. */
static vg_status flatten(flat *f, const obj *dict, const char *prefix, int depth,
                         const obj **path) {
  if (depth >= MAX_DEPTH)
    return vg_fail(VG_ERR_FORMAT, "pickle: dicts nested more than %d deep", MAX_DEPTH);
  for (int i = 0; i < depth; i++)
    if (path[i] == dict)
      return vg_fail(VG_ERR_FORMAT, "pickle: dict '%s' contains itself", prefix);
  path[depth] = dict;
  for (size_t i = 0; i + 1 < dict->n; i += 2) {
    const obj *k = dict->items[i], *v = dict->items[i + 1];
    if (++f->visits > f->max_visits)
      return vg_fail(VG_ERR_FORMAT, "pickle: the dict tree has more entries than the stream");
    if (v->type != O_TENSOR && v->type != O_DICT)
      continue;   /* numbers, strings and the like are not weights */
    char key[24]; /* integer keys (e.g. optimizer state) read as decimal */
    if (k->type == O_INT)
      snprintf(key, sizeof key, "%lld", (long long)k->i);
    else if (k->type != O_STR || strlen(k->s) != k->slen)
      return vg_fail(VG_ERR_FORMAT, "pickle: a dict key under '%s' is not a string or integer",
                     prefix[0] ? prefix : "(top)");
    char name[MAX_NAME];
    int len = snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "",
                       k->type == O_INT ? key : k->s);
    if (len < 0 || (size_t)len >= sizeof name)
      return vg_fail(VG_ERR_FORMAT, "pickle: a key under '%s' is too long", prefix);
    vg_status s =
        v->type == O_TENSOR ? tensor_leaf(f, name, v) : flatten(f, v, name, depth + 1, path);
    if (s)
      return s;
  }
  return VG_OK;
}

vg_status vg_pickle_load_tensors(const void *data, size_t len, vg_pickle_tensor **out,
                                 size_t *count) {
  *out = NULL;
  *count = 0;
  if (!data && len)
    return vg_fail(VG_ERR_ARG, "pickle: NULL data");
  up u = {.start = data, .p = data, .end = (const unsigned char *)data + len};
  obj *root = NULL;
  vg_status s = run(&u, &root);
  flat f = {.max_visits = len};
  if (!s && root->type != O_DICT)
    s = vg_fail(VG_ERR_FORMAT, "pickle: the checkpoint is not a dict of tensors");
  if (!s)
    s = flatten(&f, root, "", 0, (const obj *[MAX_DEPTH]){0});
  up_free(&u);
  if (s) {
    vg_pickle_tensors_free(f.t, f.n);
    return s;
  }
  *out = f.t;
  *count = f.n;
  return VG_OK;
}

void vg_pickle_tensors_free(vg_pickle_tensor *tensors, size_t count) {
  for (size_t i = 0; i < count; i++)
    free(tensors[i].name), free(tensors[i].storage);
  free(tensors);
}

static void put(vg_pickle_buf *b, const void *data, size_t n) {
  if (b->failed || !grow((void **)&b->data, &b->cap, b->len + n, 1)) {
    b->failed = 1;
    return;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

void vg_pickle_put_op(vg_pickle_buf *b, unsigned char op) {
  put(b, &op, 1);
}

void vg_pickle_put_int(vg_pickle_buf *b, int64_t v) {
  unsigned char bytes[10];
  uint64_t u = (uint64_t)v;
  if (v >= INT32_MIN && v <= INT32_MAX) {
    bytes[0] = 'J';
    for (int i = 0; i < 4; i++)
      bytes[1 + i] = (unsigned char)(u >> (8 * i));
    put(b, bytes, 5);
  } else {
    bytes[0] = 0x8a; /* LONG1 with 8 bytes, two's complement */
    bytes[1] = 8;
    for (int i = 0; i < 8; i++)
      bytes[2 + i] = (unsigned char)(u >> (8 * i));
    put(b, bytes, 10);
  }
}

void vg_pickle_put_str(vg_pickle_buf *b, const char *s, size_t len) {
  unsigned char head[5] = {'X', (unsigned char)len, (unsigned char)(len >> 8),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
  put(b, head, 5);
  put(b, s, len);
}

void vg_pickle_put_global(vg_pickle_buf *b, const char *module, const char *name) {
  vg_pickle_put_op(b, 'c');
  put(b, module, strlen(module));
  put(b, "\n", 1);
  put(b, name, strlen(name));
  put(b, "\n", 1);
}

void vg_pickle_buf_free(vg_pickle_buf *b) {
  free(b->data);
  *b = (vg_pickle_buf){0};
}

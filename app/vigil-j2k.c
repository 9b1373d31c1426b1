/* JPEG 2000 / HTJ2K through OpenJPEG (see vigil-j2k.h). The header is read
 * and checked against what the DICOM header claims before anything is
 * decoded, so a codestream cannot make OpenJPEG size buffers the file did
 * not declare; strict mode turns a truncated codestream into an error
 * instead of a silently blurred image; HT codestreams are decoded in a
 * child process (see finish_isolated). */
#include "vigil-j2k.h"

#include <errno.h>
#include <stdio.h>
#include <openjpeg.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-scan-error.h"

/* J2K_CCP_CBLKSTY_HT in OpenJPEG's private headers: Part 15 block coding. */
#define HT_BLOCK_STYLE 0x40

typedef struct {
  const guint8 *data;
  gsize size, pos;
} Reader;

static OPJ_SIZE_T read_bytes(void *buffer, OPJ_SIZE_T n, void *user) {
  Reader *r = user;
  if (r->pos >= r->size)
    return (OPJ_SIZE_T)-1; /* OpenJPEG's end of stream */
  const gsize take = MIN((gsize)n, r->size - r->pos);
  memcpy(buffer, r->data + r->pos, take);
  r->pos += take;
  return take;
}

static OPJ_OFF_T skip_bytes(OPJ_OFF_T n, void *user) {
  Reader *r = user;
  if (n < 0 && (gsize)(-n) > r->pos)
    n = -(OPJ_OFF_T)r->pos;
  if (n > 0 && (gsize)n > r->size - r->pos)
    n = (OPJ_OFF_T)(r->size - r->pos);
  r->pos += n;
  return n;
}

static OPJ_BOOL seek_bytes(OPJ_OFF_T to, void *user) {
  Reader *r = user;
  if (to < 0 || (guint64)to > r->size)
    return OPJ_FALSE;
  r->pos = (gsize)to;
  return OPJ_TRUE;
}

/* OpenJPEG's last error message, for the GError. */
static void keep_message(const char *msg, void *user) {
  char *last = user;
  g_strlcpy(last, msg, 256);
  g_strchomp(last);
}

static void ignore_message(const char *msg, void *user) {
  (void)msg, (void)user;
}

static gboolean starts_codestream(const guint8 *d, gsize n) {
  return n >= 4 && d[0] == 0xFF && d[1] == 0x4F && d[2] == 0xFF && d[3] == 0x51;
}

static gboolean starts_jp2(const guint8 *d, gsize n) {
  static const guint8 signature[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
  return n >= sizeof signature && memcmp(d, signature, sizeof signature) == 0;
}

gboolean vigil_j2k_is_frame_start(const guint8 *data, gsize size) {
  return data && (starts_codestream(data, size) || starts_jp2(data, size));
}

static gboolean fail(GError **error, int code, const char *what, const char *detail) {
  if (detail && *detail)
    g_set_error(error, VIGIL_SCAN_ERROR, code, "JPEG 2000: %s (%s)", what, detail);
  else
    g_set_error(error, VIGIL_SCAN_ERROR, code, "JPEG 2000: %s", what);
  return FALSE;
}

static gboolean check_frame(const VigilJ2kFrame *f, gsize out_size, GError **error) {
  if (f->width < 1 || f->height < 1 || f->width > VIGIL_J2K_MAX_SIDE ||
      f->height > VIGIL_J2K_MAX_SIDE || (gint64)f->width * f->height > VIGIL_J2K_MAX_PIXELS ||
      (f->components != 1 && f->components != 3) ||
      (f->bits_allocated != 8 && f->bits_allocated != 16) || f->bits_stored < 1 ||
      f->bits_stored > f->bits_allocated)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, "the header describes no decodable frame", NULL);
  const guint64 need = (guint64)f->width * f->height * f->components * (f->bits_allocated / 8);
  if (out_size < need)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, "the output buffer is too small", NULL);
  return TRUE;
}

/* The codestream's size and components must be the frame's (the DICOM header's). */
static gboolean check_size(guint64 w, guint64 h, guint components, const VigilJ2kFrame *f,
                           GError **error) {
  if (w == (guint64)f->width && h == (guint64)f->height && components == (guint)f->components)
    return TRUE;
  g_autofree char *got = g_strdup_printf("%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT
                                         " with %u component(s), the header says %d x "
                                         "%d with %d",
                                         w, h, components, f->width, f->height, f->components);
  return fail(error, VIGIL_SCAN_ERROR_INVALID, "the codestream disagrees with the header", got);
}

/* The codestream's image must be the frame the DICOM header describes. */
static gboolean check_image(const opj_image_t *im, const VigilJ2kFrame *f, GError **error) {
  g_autofree char *got = NULL;
  if (im->x1 <= im->x0 || im->y1 <= im->y0)
    return fail(error, VIGIL_SCAN_ERROR_FORMAT, "the codestream has an empty image", NULL);
  if (!check_size(im->x1 - im->x0, im->y1 - im->y0, im->numcomps, f, error))
    return FALSE;
  for (OPJ_UINT32 c = 0; c < im->numcomps; c++) {
    const opj_image_comp_t *comp = &im->comps[c];
    if (comp->dx != 1 || comp->dy != 1)
      return fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED, "subsampled components are not supported",
                  NULL);
    if (comp->prec < 1 || comp->prec > (OPJ_UINT32)f->bits_allocated) {
      got = g_strdup_printf("%u-bit samples in %d-bit pixels", comp->prec, f->bits_allocated);
      return fail(error, VIGIL_SCAN_ERROR_INVALID, "the codestream's precision does not fit", got);
    }
  }
  return TRUE;
}

static void describe(opj_codec_t *codec, const opj_image_t *im, gboolean jp2, VigilJ2kInfo *info) {
  *info = (VigilJ2kInfo){
      .jp2 = jp2, .precision = (int)im->comps[0].prec, .codestream_signed = im->comps[0].sgnd != 0};
  opj_codestream_info_v2_t *cs = opj_get_cstr_info(codec);
  if (!cs)
    return;
  info->mct = cs->m_default_tile_info.mct != 0;
  if (cs->m_default_tile_info.tccp_info) {
    info->reversible = cs->m_default_tile_info.tccp_info[0].qmfbid == 1;
    info->htj2k = (cs->m_default_tile_info.tccp_info[0].cblksty & HT_BLOCK_STYLE) != 0;
  }
  opj_destroy_cstr_info(&cs);
}

/* Interleaved little-endian samples of bits_allocated; the bits are kept
 * whatever the codestream's signedness (see vigil-j2k.h). */
static void store(const opj_image_t *im, const VigilJ2kFrame *f, guint8 *out) {
  const gsize n = (gsize)f->width * f->height;
  const int comps = f->components;
  for (int c = 0; c < comps; c++) {
    const OPJ_INT32 *src = im->comps[c].data;
    if (f->bits_allocated == 8) {
      for (gsize i = 0; i < n; i++)
        out[i * comps + c] = (guint8)src[i];
    } else {
      for (gsize i = 0; i < n; i++) {
        const guint16 v = (guint16)src[i];
        out[(i * comps + c) * 2] = (guint8)(v & 0xFF);
        out[(i * comps + c) * 2 + 1] = (guint8)(v >> 8);
      }
    }
  }
}

static opj_stream_t *memory_stream(Reader *r) {
  opj_stream_t *s = opj_stream_create(64 * 1024, OPJ_TRUE);
  if (!s)
    return NULL;
  opj_stream_set_user_data(s, r, NULL);
  opj_stream_set_user_data_length(s, r->size);
  opj_stream_set_read_function(s, read_bytes);
  opj_stream_set_skip_function(s, skip_bytes);
  opj_stream_set_seek_function(s, seek_bytes);
  return s;
}

typedef struct {
  opj_codec_t *codec;
  opj_stream_t *stream;
  opj_image_t *image;
  Reader reader;
  gboolean jp2;
  char last[256]; /* OpenJPEG's last error */
} Decoder;

static void close_decoder(Decoder *d) {
  opj_image_destroy(d->image);
  opj_stream_destroy(d->stream);
  opj_destroy_codec(d->codec);
}

/* Reads the header and checks it against the frame: nothing is decoded yet. */
static gboolean open_decoder(Decoder *d, const guint8 *data, gsize size, const VigilJ2kFrame *frame,
                             GError **error) {
  d->jp2 = starts_jp2(data, size);
  d->reader = (Reader){.data = data, .size = size};
  d->codec = opj_create_decompress(d->jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
  d->stream = memory_stream(&d->reader);
  if (!d->codec || !d->stream)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, "out of memory", NULL);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  opj_set_error_handler(d->codec, keep_message, d->last);
  opj_set_warning_handler(d->codec, ignore_message, NULL);
  opj_set_info_handler(d->codec, ignore_message, NULL);
  if (!opj_setup_decoder(d->codec, &params) || !opj_decoder_set_strict_mode(d->codec, OPJ_TRUE))
    return fail(error, VIGIL_SCAN_ERROR_FORMAT, "cannot set up the decoder", d->last);
  if (!opj_read_header(d->stream, d->codec, &d->image))
    return fail(error, VIGIL_SCAN_ERROR_FORMAT, "cannot read the codestream header", d->last);
  return check_image(d->image, frame, error);
}

/* Why decoding failed, without GLib: a forked child may not allocate
 * through GLib (another thread may have held its locks at the fork). */
typedef struct {
  int code;
  char message[512];
} Failure;

static gboolean failed(Failure *f, int code, const char *what, const char *detail) {
  f->code = code;
  snprintf(f->message, sizeof f->message, "JPEG 2000: %s%s%s%s", what, *detail ? " (" : "", detail,
           *detail ? ")" : "");
  return FALSE;
}

/* Decodes the rest and stores the samples. */
static gboolean finish_decode(Decoder *d, const VigilJ2kFrame *f, guint8 *out, Failure *why) {
  if (!opj_decode(d->codec, d->stream, d->image) || !opj_end_decompress(d->codec, d->stream))
    return failed(
        why, d->reader.pos >= d->reader.size ? VIGIL_SCAN_ERROR_TRUNCATED : VIGIL_SCAN_ERROR_FORMAT,
        "cannot decode the codestream", d->last);
  /* Checked again: a JP2 palette or channel definition may change the components. */
  const opj_image_t *im = d->image;
  if (im->numcomps != (OPJ_UINT32)f->components)
    return failed(why, VIGIL_SCAN_ERROR_INVALID, "the decoded components disagree with the header",
                  "");
  for (OPJ_UINT32 c = 0; c < im->numcomps; c++)
    if (!im->comps[c].data || im->comps[c].w != (OPJ_UINT32)f->width ||
        im->comps[c].h != (OPJ_UINT32)f->height || im->comps[c].prec < 1 ||
        im->comps[c].prec > (OPJ_UINT32)f->bits_allocated)
      return failed(why, VIGIL_SCAN_ERROR_FORMAT, "the codestream left a component incomplete", "");
  store(im, f, out);
  return TRUE;
}

/* What a decoding child hands back, followed by the samples. */
typedef struct {
  int ok;
  Failure why;
} ChildResult;

/* OpenJPEG 2.5.0 (Debian 12) checks some HT block data with assert(): a
 * hostile HTJ2K codestream would abort the whole app (fixed in later
 * releases). HT codestreams (any COD, COC or CAP that asks for it, in the
 * main or a tile-part header), and any whose headers cannot be read through,
 * are therefore decoded in a child process, which writes into shared
 * memory; an abort there is an error here. */
static gboolean finish_isolated(Decoder *d, const VigilJ2kFrame *frame, guint8 *out, gsize out_size,
                                GError **error) {
  const gsize map_size = sizeof(ChildResult) + out_size;
  ChildResult *shared =
      mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, "no memory for the decoder", g_strerror(errno));
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGABRT, SIG_DFL); /* no crash handler of the parent's (a fuzzer's, an app's) */
    shared->ok = finish_decode(d, frame, (guint8 *)(shared + 1), &shared->why);
    _exit(0); /* no atexit handlers, no leak report from a sanitizer */
  }
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  gboolean ok = FALSE;
  if (pid < 0)
    fail(error, VIGIL_SCAN_ERROR_INVALID, "cannot start the decoder", g_strerror(errno));
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(error, VIGIL_SCAN_ERROR_FORMAT, "the HTJ2K codestream is corrupt",
         "the decoder stopped on it");
  else if (!shared->ok)
    g_set_error_literal(error, VIGIL_SCAN_ERROR, shared->why.code, shared->why.message);
  else
    ok = TRUE;
  if (ok)
    memcpy(out, shared + 1, out_size);
  munmap(shared, map_size);
  return ok;
}

/* ---- the codestream's own headers, read before OpenJPEG sees them ---- */

#define MAX_TILES 4096 /* OpenJPEG sets every tile up in opj_read_header */

/* What the main and tile-part headers say: the image, its tiles, and
 * whether anything asks for HT block coding. */
typedef struct {
  guint64 width, height, tiles;
  guint components;
  gboolean ht;
} Headers;

static guint32 be16(const guint8 *p) {
  return (guint32)p[0] << 8 | p[1];
}

static guint32 be32(const guint8 *p) {
  return be16(p) << 16 | be16(p + 2);
}

/* One marker segment at `m` (marker, length, body) of `len` bytes after the
 * marker: COD's and COC's code-block style, or a CAP marker, may ask for HT. */
static void note_segment(const guint8 *m, guint32 len, guint components, Headers *h) {
  const guint32 marker = be16(m);
  const guint32 coc_style = 2 + 2 + (components < 257 ? 1 : 2) + 4; /* Ccoc, Scoc, SPcoc[0..2] */
  if (marker == 0xFF50)                                             /* CAP: Part 15 capabilities */
    h->ht = TRUE;
  else if (marker == 0xFF52 && len + 2 > 12)
    h->ht |= (m[12] & HT_BLOCK_STYLE) != 0;
  else if (marker == 0xFF53 && len + 2 > coc_style)
    h->ht |= (m[coc_style] & HT_BLOCK_STYLE) != 0;
}

/* Marker segments from `pos` until `stop` (SOT in the main header, SOD in a
 * tile-part header); the position of `stop`, or 0 if the stream breaks off. */
static gsize walk_segments(const guint8 *d, gsize n, gsize pos, guint32 stop, guint components,
                           Headers *h) {
  while (pos + 4 <= n) {
    const guint32 marker = be16(d + pos), len = be16(d + pos + 2);
    if (marker == stop)
      return pos;
    if (marker < 0xFF00 || len < 2 || pos + 2 + len > n)
      return 0;
    note_segment(d + pos, len, components, h);
    pos += 2 + len;
  }
  return 0;
}

/* SIZ, then every header up to the last tile-part's. FALSE when the stream
 * is not regular enough to tell (it is then decoded as if it were HT). */
static gboolean read_headers(const guint8 *d, gsize n, Headers *h) {
  *h = (Headers){0};
  if (n < 42 || be16(d + 2) != 0xFF51)
    return FALSE;
  const guint32 lsiz = be16(d + 4), rsiz = be16(d + 6);
  const guint64 x = be32(d + 8), y = be32(d + 12), x0 = be32(d + 16), y0 = be32(d + 20);
  const guint64 tw = be32(d + 24), th = be32(d + 28), tx0 = be32(d + 32), ty0 = be32(d + 36);
  h->components = be16(d + 40);
  if (x <= x0 || y <= y0 || tw == 0 || th == 0 || tx0 > x0 || ty0 > y0 || lsiz < 38)
    return FALSE;
  h->width = x - x0, h->height = y - y0;
  h->tiles = ((x - tx0 + tw - 1) / tw) * ((y - ty0 + th - 1) / th);
  h->ht = (rsiz & 0x4000) != 0; /* Part 15 */
  gsize pos = walk_segments(d, n, 4 + lsiz, 0xFF90, h->components, h);
  while (pos && pos + 12 <= n && be16(d + pos) == 0xFF90) { /* SOT: a tile-part */
    const guint32 lsot = be16(d + pos + 2), psot = be32(d + pos + 6);
    if (!walk_segments(d, n, pos + 2 + lsot, 0xFF93, h->components, h))
      return FALSE;
    if (psot == 0) /* the last tile-part runs to EOC */
      return TRUE;
    pos += psot;
  }
  return pos + 2 <= n && be16(d + pos) == 0xFFD9; /* EOC after the last tile-part */
}

/* What the headers say must be the frame the DICOM header describes. */
static gboolean check_headers(const Headers *h, const VigilJ2kFrame *f, GError **error) {
  if (!check_size(h->width, h->height, h->components, f, error))
    return FALSE;
  if (h->tiles > MAX_TILES) {
    g_autofree char *got = g_strdup_printf("%" G_GUINT64_FORMAT " tiles", h->tiles);
    return fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED, "too many tiles", got);
  }
  return TRUE;
}

gboolean vigil_j2k_decode(const guint8 *data, gsize size, const VigilJ2kFrame *frame, guint8 *out,
                          gsize out_size, VigilJ2kInfo *info, GError **error) {
  if (!check_frame(frame, out_size, error))
    return FALSE;
  if (!vigil_j2k_is_frame_start(data, size))
    return fail(error, VIGIL_SCAN_ERROR_FORMAT,
                "the frame does not start with a codestream (SOC, SIZ) or a JP2 signature", NULL);
  /* A raw codestream's headers are checked here first (a JP2 file's are
   * inside boxes); anything HT, irregular or wrapped is decoded isolated. */
  Headers h;
  const gboolean regular = !starts_jp2(data, size) && read_headers(data, size, &h);
  if (regular && !check_headers(&h, frame, error))
    return FALSE;
  Decoder d = {0};
  const gsize frame_bytes =
      (gsize)frame->width * frame->height * frame->components * (frame->bits_allocated / 8);
  gboolean ok = open_decoder(&d, data, size, frame, error);
  Failure why = {0};
  if (ok && (!regular || h.ht))
    ok = finish_isolated(&d, frame, out, frame_bytes, error);
  else if (ok && !(ok = finish_decode(&d, frame, out, &why)))
    g_set_error_literal(error, VIGIL_SCAN_ERROR, why.code, why.message);
  if (ok && info)
    describe(d.codec, d.image, d.jp2, info);
  close_decoder(&d);
  return ok;
}

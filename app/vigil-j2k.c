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

/* The codestream's image must be the frame the DICOM header describes. */
static gboolean check_image(const opj_image_t *im, const VigilJ2kFrame *f, GError **error) {
  g_autofree char *got = NULL;
  if (im->x1 <= im->x0 || im->y1 <= im->y0)
    return fail(error, VIGIL_SCAN_ERROR_FORMAT, "the codestream has an empty image", NULL);
  const guint64 w = im->x1 - im->x0, h = im->y1 - im->y0;
  if (w != (guint64)f->width || h != (guint64)f->height ||
      im->numcomps != (OPJ_UINT32)f->components) {
    got = g_strdup_printf("%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " with %u component(s), "
                          "the header says %d x %d with %d",
                          w, h, im->numcomps, f->width, f->height, f->components);
    return fail(error, VIGIL_SCAN_ERROR_INVALID, "the codestream disagrees with the header", got);
  }
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
 * releases). HT codestreams are therefore decoded in a child process, which
 * writes into shared memory; an abort there is an error here. */
static gboolean finish_isolated(Decoder *d, const VigilJ2kFrame *frame, guint8 *out, gsize out_size,
                                GError **error) {
  const gsize map_size = sizeof(ChildResult) + out_size;
  ChildResult *shared =
      mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, "no memory for the decoder", g_strerror(errno));
  const pid_t pid = fork();
  if (pid == 0) {
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

static gboolean uses_ht(opj_codec_t *codec) {
  opj_codestream_info_v2_t *cs = opj_get_cstr_info(codec);
  gboolean ht = FALSE;
  if (cs && cs->m_default_tile_info.tccp_info)
    for (OPJ_UINT32 c = 0; c < cs->nbcomps; c++)
      ht |= (cs->m_default_tile_info.tccp_info[c].cblksty & HT_BLOCK_STYLE) != 0;
  opj_destroy_cstr_info(&cs);
  return ht;
}

gboolean vigil_j2k_decode(const guint8 *data, gsize size, const VigilJ2kFrame *frame, guint8 *out,
                          gsize out_size, VigilJ2kInfo *info, GError **error) {
  if (!check_frame(frame, out_size, error))
    return FALSE;
  if (!vigil_j2k_is_frame_start(data, size))
    return fail(error, VIGIL_SCAN_ERROR_FORMAT,
                "the frame does not start with a codestream (SOC, SIZ) or a JP2 signature", NULL);
  Decoder d = {0};
  const gsize frame_bytes =
      (gsize)frame->width * frame->height * frame->components * (frame->bits_allocated / 8);
  gboolean ok = open_decoder(&d, data, size, frame, error);
  Failure why = {0};
  if (ok && uses_ht(d.codec))
    ok = finish_isolated(&d, frame, out, frame_bytes, error);
  else if (ok && !(ok = finish_decode(&d, frame, out, &why)))
    g_set_error_literal(error, VIGIL_SCAN_ERROR, why.code, why.message);
  if (ok && info)
    describe(d.codec, d.image, d.jp2, info);
  close_decoder(&d);
  return ok;
}

/* libFuzzer harness: vigil_j2k_decode on arbitrary bytes. The first
 * VIGIL_FUZZ_J2K_HEADER bytes stand for the DICOM header (what the frame
 * should hold), the rest is the codestream, so both codestreams that match
 * the header and ones that disagree with it get fuzzed:
 *   byte 0      flags: 1 = 3 components (else 1), 2 = 16 bits allocated
 *               (else 8), 4 = signed, 8 = ask for the VigilJ2kInfo
 *   byte 1      bits stored - 1 (modulo bits allocated)
 *   bytes 2..5  width - 1, height - 1: little endian, modulo 512
 * tests/fuzz/make-seeds.py writes the same header before its seeds, and
 * test-fuzz-regress replays tests/fuzz/regress/j2k/ through it. */
#include <string.h>

#include "vigil-j2k.h"

#define VIGIL_FUZZ_J2K_HEADER 6

#ifdef VIGIL_FUZZING
/* OpenJPEG comes uninstrumented, so libFuzzer sees only this wrapper's
 * branches. These extra counters tell it which outcome an input reached (the
 * error text without its numbers, or what a decoded frame held), so that
 * inputs that get somewhere new inside OpenJPEG are kept too. */
__attribute__((section("__libfuzzer_extra_counters"))) static guint8 outcomes[4096];

static void count_outcome(const GError *error, const VigilJ2kInfo *info) {
  guint h = 0;
  g_auto(GStrv) words = g_strsplit(error ? error->message : "", " ", -1);
  for (char **w = words; *w; w++) /* numbers (16, 0xff4f, (fffffffc)) would make each new */
    if (!strpbrk(*w, "0123456789") && (*w)[strspn(*w, "abcdefABCDEF()")])
      h = h * 33 + g_str_hash(*w);
  if (!error)
    h = h * 33 + (info->jp2 | info->htj2k << 1 | info->mct << 2 | info->reversible << 3 |
                  info->codestream_signed << 4 | info->precision << 5);
  outcomes[h % sizeof outcomes]++;
}
#endif

gsize vigil_fuzz_j2k_frame(const guint8 *data, gsize size, VigilJ2kFrame *frame,
                           gboolean *want_info);
int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* Reads the header into `frame`; returns its length, 0 if `data` is shorter.
 * Sides stay under 512 so that `out` stays small (1.5 MB at most). */
gsize vigil_fuzz_j2k_frame(const guint8 *data, gsize size, VigilJ2kFrame *frame,
                           gboolean *want_info) {
  if (size < VIGIL_FUZZ_J2K_HEADER)
    return 0;
  frame->components = data[0] & 1 ? 3 : 1;
  frame->bits_allocated = data[0] & 2 ? 16 : 8;
  frame->is_signed = (data[0] & 4) != 0;
  *want_info = (data[0] & 8) != 0;
  frame->bits_stored = 1 + data[1] % frame->bits_allocated;
  frame->width = 1 + (data[2] | data[3] << 8) % 512;
  frame->height = 1 + (data[4] | data[5] << 8) % 512;
  return VIGIL_FUZZ_J2K_HEADER;
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size) {
  VigilJ2kFrame frame;
  gboolean want_info;
  gsize skip = vigil_fuzz_j2k_frame(data, size, &frame, &want_info);
  /* Also on the raw bytes: the fragment scanner sees anything. */
  vigil_j2k_is_frame_start(data, size);
  if (!skip)
    return 0;
  data += skip, size -= skip;
  gboolean start = vigil_j2k_is_frame_start(data, size);
  /* Exactly the size the header implies: ASan catches a byte written past it. */
  gsize out_size =
      (gsize)frame.width * frame.height * frame.components * (frame.bits_allocated / 8);
  guint8 *out = g_malloc(out_size);
  VigilJ2kInfo info;
  GError *error = NULL;
  gboolean ok =
      vigil_j2k_decode(data, size, &frame, out, out_size, want_info ? &info : NULL, &error);
  g_assert(ok != (error != NULL));
  /* A frame OpenJPEG decoded starts with SOC + SIZ or the JP2 signature, so
   * the fragment scanner must have found it. */
  g_assert(!ok || start);
  if (ok && want_info)
    g_assert(info.precision >= 1 && info.precision <= 31); /* OpenJPEG's limit */
#ifdef VIGIL_FUZZING
  count_outcome(error, want_info ? &info : &(VigilJ2kInfo){0});
#endif
  g_clear_error(&error);
  g_free(out);
  return 0;
}

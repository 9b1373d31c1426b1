/* The model input: what the user sees, resized the way MVFA's Python
 * pipeline does (PIL Image.resize((240, 240), Image.BICUBIC)). */
#pragma once

#include <glib.h>

#include "vigil-image.h"

G_BEGIN_DECLS

#define VIGIL_MODEL_INPUT_SIZE 240

/* Resizes 8-bit interleaved pixels (`channels` 1..4) from in_w x in_h to
 * out_w x out_h bit-exactly as Pillow's bicubic resample (libImaging/Resample.c):
 * separable, horizontal pass first, a = -0.5, support scaled by the reduction
 * factor, 22-bit fixed-point coefficients, the intermediate clipped to 8 bits.
 * Sizes 1..65536 each; FALSE with `error` otherwise. */
gboolean vigil_resize_bicubic_u8(const guint8 *in, int in_w, int in_h, int channels, guint8 *out,
                                 int out_w, int out_h, GError **error);

/* Resizes an 8-bit display image (gray or RGB, `channels` 1 or 3) to the
 * model input: float32 planes [3][240][240] in 0..1 (value / 255); gray is
 * replicated to all three planes, as PIL's convert('RGB') would. NULL with
 * `error` on bad sizes. Free with g_free. */
float *vigil_model_input_from_u8(const guint8 *pixels, int width, int height, int channels,
                                 GError **error);

/* The model input of a decoded slice: windowed to 8 bits exactly as the
 * viewer shows it (vigil_image_window_to_u8; RGB frames are not windowed),
 * then vigil_model_input_from_u8. Free with g_free. */
float *vigil_model_input(const VigilImage *slice, double center, double width, GError **error);

G_END_DECLS

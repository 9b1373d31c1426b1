/* Orientation letters for the edges of a slice (R/L, A/P, H/F, combined when
 * oblique) from Image Orientation (Patient), and the view's transforms
 * (quarter turns, flips, inverted grey) they must follow. Patient directions
 * are DICOM's LPS: +x to the patient's left, +y posterior, +z head. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How the view shows a slice: the image flipped (flip_h mirrors columns,
 * flip_v rows), then turned clockwise by quarter_turns; invert shows grey
 * values dark for bright. The identity is all zeros. */
typedef struct {
  int quarter_turns; /* 0..3, clockwise on the screen */
  gboolean flip_h, flip_v, invert;
} VigilViewTransform;

/* Turns the view clockwise by `quarter_turns` (negative: counter-clockwise).
 * rotate and flip keep one form per view (quarter_turns 0..3, flip_v FALSE:
 * a vertical flip is a horizontal one and a half turn); rotate by 0 makes a
 * hand-made transform so. */
void vigil_view_transform_rotate(VigilViewTransform *t, int quarter_turns);
/* Mirrors the view left-right (horizontal) or top-bottom, as the screen shows it. */
void vigil_view_transform_flip(VigilViewTransform *t, gboolean horizontal);
gboolean vigil_view_transform_is_identity(const VigilViewTransform *t);
/* The 2x2 matrix (row-major, entries -1, 0, 1) taking a vector in image
 * pixels (x right along columns, y down along rows) to the screen. */
void vigil_view_transform_matrix(const VigilViewTransform *t, int m[4]);

/* Letters of the patient direction `dir` (LPS, any length): the axes whose
 * share of it is at least VIGIL_ORIENTATION_OBLIQUE, largest first, e.g. "L",
 * "RA", "HPL"; "" for a zero vector. `out` holds 4 bytes. */
#define VIGIL_ORIENTATION_OBLIQUE 0.25
void vigil_orientation_letters(const double dir[3], char out[4]);

typedef enum {
  VIGIL_EDGE_LEFT,
  VIGIL_EDGE_RIGHT,
  VIGIL_EDGE_TOP,
  VIGIL_EDGE_BOTTOM,
  VIGIL_N_EDGES
} VigilEdge;

/* The letters at each screen edge of a slice with Image Orientation (Patient)
 * `orientation` (row direction then column direction) shown through `t`
 * (NULL: as stored): what lies towards that edge. */
void vigil_orientation_edges(const double orientation[6], const VigilViewTransform *t,
                             char edges[VIGIL_N_EDGES][4]);

G_END_DECLS

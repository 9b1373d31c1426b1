/* Orientation letters and view transforms (see vigil-orientation.h). The view
 * is M = R^q * F: flips F = diag(h ? -1 : 1, v ? -1 : 1) first, then q
 * clockwise quarter turns R = [0 -1; 1 0] (screen y points down). */
#include "vigil-orientation.h"

#include <math.h>

static int wrap_turns(int q) {
  return ((q % 4) + 4) % 4;
}

/* One form per view: a vertical flip is a horizontal one and a half turn
 * (Fv = R^2 * Fh), so flip_v ends up FALSE. */
static void normalize(VigilViewTransform *t) {
  if (t->flip_v) {
    t->flip_v = FALSE;
    t->flip_h = !t->flip_h;
    t->quarter_turns = wrap_turns(t->quarter_turns) + 2;
  }
  t->quarter_turns = wrap_turns(t->quarter_turns);
}

void vigil_view_transform_rotate(VigilViewTransform *t, int quarter_turns) {
  t->quarter_turns = wrap_turns(t->quarter_turns) + wrap_turns(quarter_turns); /* no overflow */
  normalize(t);
}

/* A screen flip S gives S * R^q * F = R^-q * S * F: the turns reverse. */
void vigil_view_transform_flip(VigilViewTransform *t, gboolean horizontal) {
  t->quarter_turns = wrap_turns(-wrap_turns(t->quarter_turns));
  if (horizontal)
    t->flip_h = !t->flip_h;
  else
    t->flip_v = !t->flip_v;
  normalize(t);
}

gboolean vigil_view_transform_is_identity(const VigilViewTransform *t) {
  return wrap_turns(t->quarter_turns) == 0 && !t->flip_h && !t->flip_v && !t->invert;
}

void vigil_view_transform_matrix(const VigilViewTransform *t, int m[4]) {
  int a = t->flip_h ? -1 : 1, b = 0, c = 0, d = t->flip_v ? -1 : 1;
  for (int i = 0; i < wrap_turns(t->quarter_turns); i++) { /* R * [a b; c d] */
    const int na = -c, nb = -d, nc = a, nd = b;
    a = na, b = nb, c = nc, d = nd;
  }
  m[0] = a, m[1] = b, m[2] = c, m[3] = d;
}

void vigil_orientation_letters(const double dir[3], char out[4]) {
  static const char pos[3] = {'L', 'P', 'H'}, neg[3] = {'R', 'A', 'F'};
  const double len = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  int order[3] = {0, 1, 2}, n = 0;
  for (int i = 0; i < 3; i++) /* by share, largest first */
    for (int j = i + 1; j < 3; j++)
      if (fabs(dir[order[j]]) > fabs(dir[order[i]])) {
        const int k = order[i];
        order[i] = order[j], order[j] = k;
      }
  for (int i = 0; i < 3 && len > 0; i++) {
    const double share = dir[order[i]] / len;
    if (fabs(share) >= VIGIL_ORIENTATION_OBLIQUE)
      out[n++] = share > 0 ? pos[order[i]] : neg[order[i]];
  }
  out[n] = '\0';
}

void vigil_orientation_edges(const double orientation[6], const VigilViewTransform *t,
                             char edges[VIGIL_N_EDGES][4]) {
  int m[4] = {1, 0, 0, 1};
  if (t)
    vigil_view_transform_matrix(t, m);
  /* M is orthogonal with entries 0 and +-1: its inverse is its transpose, so
   * the screen's right is image (m[0], m[1]) and its bottom (m[2], m[3]). */
  const int screen[2][2] = {{m[0], m[1]}, {m[2], m[3]}};
  for (int s = 0; s < 2; s++) {
    double dir[3], back[3];
    for (int k = 0; k < 3; k++) {
      dir[k] = screen[s][0] * orientation[k] + screen[s][1] * orientation[3 + k];
      back[k] = -dir[k];
    }
    vigil_orientation_letters(dir, edges[s ? VIGIL_EDGE_BOTTOM : VIGIL_EDGE_RIGHT]);
    vigil_orientation_letters(back, edges[s ? VIGIL_EDGE_TOP : VIGIL_EDGE_LEFT]);
  }
}

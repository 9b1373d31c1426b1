/* vg-x11-shot: waits for a mapped X11 window whose title contains a string,
 * saves it as PNG, and fails if it looks blank (too few distinct colours).
 *
 *   vg-x11-shot TITLE OUT.png [TIMEOUT_SECONDS] [MIN_COLOURS]
 *
 * Used by the GUI tests under Xvfb; it checks what the X server really shows.
 * VG_SHOT_SCREEN=1 takes the screen's pixels where the window is, so popups
 * over it show too. */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg-x11-find.h"

/* Counts distinct colours (capped) to tell a drawn window from a blank one. */
static int distinct_colours(XImage *img) {
  enum { CAP = 4096 };
  static unsigned long seen[CAP];
  int n = 0;
  for (int y = 0; y < img->height; y += 2)
    for (int x = 0; x < img->width; x += 2) {
      unsigned long p = XGetPixel(img, x, y) & 0xffffff;
      int dup = 0;
      for (int i = 0; i < n && !dup; i++)
        dup = seen[i] == p;
      if (!dup && n < CAP)
        seen[n++] = p;
    }
  return n;
}

static int save_png(XImage *img, const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return 0;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  unsigned char *row = malloc((size_t)img->width * 3);
  for (int y = 0; y < img->height; y++) {
    for (int x = 0; x < img->width; x++) {
      unsigned long p = XGetPixel(img, x, y);
      row[x * 3] = (p >> 16) & 0xff, row[x * 3 + 1] = (p >> 8) & 0xff, row[x * 3 + 2] = p & 0xff;
    }
    png_write_row(png, row);
  }
  free(row);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return fclose(f) == 0;
}

/* The window's own contents; with VG_SHOT_SCREEN=1 what the screen shows
 * there instead, popups (menus, popovers) over it included. */
static XImage *grab(Display *dpy, Window w, XWindowAttributes *attr) {
  const char *screen = getenv("VG_SHOT_SCREEN");
  if (!screen || strcmp(screen, "1") != 0)
    return XGetImage(dpy, w, 0, 0, (unsigned)attr->width, (unsigned)attr->height, AllPlanes,
                     ZPixmap);
  Window root = DefaultRootWindow(dpy), child;
  int x, y;
  XTranslateCoordinates(dpy, w, root, 0, 0, &x, &y, &child);
  const int sw = DisplayWidth(dpy, DefaultScreen(dpy)), sh = DisplayHeight(dpy, DefaultScreen(dpy));
  x = x < 0 ? 0 : x, y = y < 0 ? 0 : y;
  attr->width = attr->width < sw - x ? attr->width : sw - x;
  attr->height = attr->height < sh - y ? attr->height : sh - y;
  return XGetImage(dpy, root, x, y, (unsigned)attr->width, (unsigned)attr->height, AllPlanes,
                   ZPixmap);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s TITLE OUT.png [TIMEOUT_SECONDS] [MIN_COLOURS]\n", argv[0]);
    return 2;
  }
  const char *title = argv[1], *out = argv[2];
  double timeout = argc > 3 ? atof(argv[3]) : 30;
  int min_colours = argc > 4 ? atoi(argv[4]) : 16;
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "vg-x11-shot: cannot open display '%s'\n", getenv("DISPLAY"));
    return 1;
  }
  struct timespec start, now, nap = {0, 200 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  int colours = 0;
  for (;;) {
    Window w = vg_x11_find_window(dpy, DefaultRootWindow(dpy), title);
    if (w) {
      XWindowAttributes attr;
      XGetWindowAttributes(dpy, w, &attr);
      XImage *img = grab(dpy, w, &attr);
      if (img) {
        colours = distinct_colours(img);
        if (colours >= min_colours) {
          int ok = save_png(img, out);
          printf("# window '%s' %dx%d, %d distinct colours, saved %s\n", title, attr.width,
                 attr.height, colours, out);
          XDestroyImage(img);
          XCloseDisplay(dpy);
          return ok ? 0 : 1;
        }
        XDestroyImage(img);
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > timeout)
      break;
    nanosleep(&nap, NULL);
  }
  fprintf(stderr, "vg-x11-shot: no drawn window titled '%s' within %.0f s (last: %d colours)\n",
          title, timeout, colours);
  XCloseDisplay(dpy);
  return 1;
}

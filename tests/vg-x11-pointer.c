/* vg-x11-pointer: a real pointer click or drag in an X11 window (by title),
 * through the XTEST extension, so GUI tests exercise the app's own gestures.
 *
 *   vg-x11-pointer TITLE X Y BUTTON [DX DY]
 *
 * presses BUTTON at (X, Y) in window coordinates, moves by (DX, DY) in small
 * steps when given, and releases. libXtst is loaded at run time (at-spi2-core
 * brings it; there are no headers to build against). */
#include <X11/Xlib.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vg-x11-find.h"

typedef int (*FakeMotion)(Display *, int, int, int, unsigned long);
typedef int (*FakeButton)(Display *, unsigned int, Bool, unsigned long);

int main(int argc, char **argv) {
  if (argc != 5 && argc != 7) {
    fprintf(stderr, "usage: %s TITLE X Y BUTTON [DX DY]\n", argv[0]);
    return 2;
  }
  void *xtst = dlopen("libXtst.so.6", RTLD_NOW);
  FakeMotion motion = xtst ? (FakeMotion)dlsym(xtst, "XTestFakeMotionEvent") : NULL;
  FakeButton button = xtst ? (FakeButton)dlsym(xtst, "XTestFakeButtonEvent") : NULL;
  if (!motion || !button) {
    fprintf(stderr, "vg-x11-pointer: cannot load libXtst.so.6: %s\n", dlerror());
    return 1;
  }
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "vg-x11-pointer: cannot open display '%s'\n", getenv("DISPLAY"));
    return 1;
  }
  Window w = vg_x11_find_window(dpy, DefaultRootWindow(dpy), argv[1]), child;
  if (!w) {
    fprintf(stderr, "vg-x11-pointer: no window titled '%s'\n", argv[1]);
    return 1;
  }
  int x, y;
  XTranslateCoordinates(dpy, w, DefaultRootWindow(dpy), atoi(argv[2]), atoi(argv[3]), &x, &y,
                        &child);
  const unsigned int b = (unsigned int)atoi(argv[4]);
  const int dx = argc == 7 ? atoi(argv[5]) : 0, dy = argc == 7 ? atoi(argv[6]) : 0;
  motion(dpy, -1, x, y, 0);
  XSync(dpy, False);
  usleep(100 * 1000);
  button(dpy, b, True, 0);
  XSync(dpy, False);
  usleep(50 * 1000);
  for (int i = 1; i <= 10 && (dx || dy); i++) {
    motion(dpy, -1, x + dx * i / 10, y + dy * i / 10, 0);
    XSync(dpy, False);
    usleep(20 * 1000);
  }
  button(dpy, b, False, 0);
  XSync(dpy, False);
  XCloseDisplay(dpy);
  return 0;
}

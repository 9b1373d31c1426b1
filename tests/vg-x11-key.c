/* vg-x11-key: a real key press in an X11 window (by title), through the
 * XTEST extension, so GUI tests exercise the app's own key handling.
 *
 *   vg-x11-key TITLE KEYSYM      e.g. vg-x11-key Vigil Delete
 *
 * raises and focuses the window, then presses and releases the key. libXtst
 * is loaded at run time, as vg-x11-pointer does. */
#include <X11/Xlib.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vg-x11-find.h"

typedef int (*FakeKey)(Display *, unsigned int, Bool, unsigned long);

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s TITLE KEYSYM\n", argv[0]);
    return 2;
  }
  void *xtst = dlopen("libXtst.so.6", RTLD_NOW);
  FakeKey key = xtst ? (FakeKey)dlsym(xtst, "XTestFakeKeyEvent") : NULL;
  Display *dpy = key ? XOpenDisplay(NULL) : NULL;
  if (!dpy) {
    fprintf(stderr, "vg-x11-key: no libXtst.so.6 or no display\n");
    return 1;
  }
  Window w = vg_x11_find_window(dpy, DefaultRootWindow(dpy), argv[1]);
  KeyCode code = XKeysymToKeycode(dpy, XStringToKeysym(argv[2]));
  if (!w || !code) {
    fprintf(stderr, "vg-x11-key: no window titled '%s' or no key '%s'\n", argv[1], argv[2]);
    return 1;
  }
  XSetInputFocus(dpy, w, RevertToParent, CurrentTime);
  XSync(dpy, False);
  usleep(100 * 1000);
  key(dpy, code, True, 0);
  XSync(dpy, False);
  usleep(30 * 1000);
  key(dpy, code, False, 0);
  XSync(dpy, False);
  XCloseDisplay(dpy);
  return 0;
}

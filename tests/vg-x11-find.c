/* Finding a mapped X11 window by title (vg-x11-shot, vg-x11-pointer). */
#include "vg-x11-find.h"

#include <string.h>

static int title_matches(Display *dpy, Window w, const char *title) {
  Atom net_wm_name = XInternAtom(dpy, "_NET_WM_NAME", False);
  Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False);
  Atom type;
  int format;
  unsigned long n, after;
  unsigned char *data = NULL;
  int found = 0;
  if (XGetWindowProperty(dpy, w, net_wm_name, 0, 1024, False, utf8, &type, &format, &n, &after,
                         &data) == Success &&
      data) {
    found = strstr((char *)data, title) != NULL;
    XFree(data);
  }
  return found;
}

Window vg_x11_find_window(Display *dpy, Window root, const char *title) {
  Window parent, *children = NULL;
  unsigned int n = 0;
  if (!XQueryTree(dpy, root, &root, &parent, &children, &n))
    return 0;
  Window found = 0;
  for (unsigned int i = 0; i < n && !found; i++) {
    XWindowAttributes attr;
    if (XGetWindowAttributes(dpy, children[i], &attr) && attr.map_state == IsViewable &&
        title_matches(dpy, children[i], title))
      found = children[i];
    else
      found = vg_x11_find_window(dpy, children[i], title);
  }
  if (children)
    XFree(children);
  return found;
}

/* Finding a mapped X11 window by a substring of its title, for the GUI test tools. */
#pragma once

#include <X11/Xlib.h>

/* The first viewable window under `root` whose _NET_WM_NAME contains `title`, or 0. */
Window vg_x11_find_window(Display *dpy, Window root, const char *title);

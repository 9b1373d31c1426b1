#!/usr/bin/python3
"""TAP: every shortcut the app sets (the table in ui/vigil-window-actions.c, the one place
shortcuts are set) is listed in the help overlay (ui/gtk/help-overlay.ui), and every
overlay entry for an app or window action names a shortcut that table sets.
Usage: test-shortcuts.py SOURCE_DIR"""
import html
import pathlib
import re
import sys

src = pathlib.Path(sys.argv[1])
table = (src / "ui" / "vigil-window-actions.c").read_text()
overlay = (src / "ui" / "gtk" / "help-overlay.ui").read_text()
set_here = {action: accel.lower() for action, accel in
            re.findall(r'\{"((?:app|win)\.[a-z-]+(?:::[a-z-]+)?)", \{"([^"]+)"', table)}
# An overlay entry names an action (GTK shows its accelerator) or an accelerator.
named = set(re.findall(r'<property name="action-name">([^<]+)</property>', overlay))
listed = set()
for accel in re.findall(r'<property name="accelerator">([^<]+)</property>', overlay):
    listed |= {a.lower() for a in html.unescape(accel).split()}
print("TAP version 13")
print("1..2")
missing = sorted(f"{a} ({k})" for a, k in set_here.items() if a not in named and k not in listed)
print(f"{'not ok' if missing or not set_here else 'ok'} 1 - the help overlay lists the "
      f"{len(set_here)} shortcuts the app sets{': missing ' + ', '.join(missing) if missing else ''}")
# <Primary> shortcuts are the app's; the slice view's own keys (plain, Shift+F10) are the widget's.
stray = sorted(a for a in listed if a.startswith("<primary>") and a not in set_here.values())
print(f"{'not ok' if stray else 'ok'} 2 - the overlay lists no Ctrl shortcut that is not set"
      f"{': ' + ', '.join(stray) if stray else ''}")
sys.exit(1 if missing or stray or not set_here else 0)

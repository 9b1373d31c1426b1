#!/bin/sh
# Runs a command inside a private X server (Xvfb) and D-Bus session, with the
# settings every GUI test wants. Usage: gui-session.sh COMMAND [ARGS...]
set -eu

runtime=$(mktemp -d "${TMPDIR:-/tmp}/vigil-gui.XXXXXX")
chmod 700 "$runtime"
export XDG_RUNTIME_DIR="$runtime"
export XDG_CONFIG_HOME="$runtime/config" XDG_DATA_HOME="$runtime/data" XDG_CACHE_HOME="$runtime/cache"
export XDG_STATE_HOME="$runtime/state"
export GSETTINGS_BACKEND=memory GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1
export GTK_A11Y=none LIBGL_ALWAYS_SOFTWARE=1

# Xvfb picks a free display itself and writes its number to fd 3, so GUI
# tests running side by side never race for the same one.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$runtime/display" \
  >"$runtime/xvfb.log" 2>&1 &
xvfb_pid=$!
cleanup() {
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
  rm -rf "$runtime"
}
trap cleanup EXIT INT TERM
i=0
while ! grep -q '[0-9]' "$runtime/display" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then echo "Xvfb did not start:"; cat "$runtime/xvfb.log"; exit 1; fi
  sleep 0.1
done
export DISPLAY=":$(tr -d '[:space:]' <"$runtime/display")"
dbus-run-session -- "$@"

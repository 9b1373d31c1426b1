# Shared by the GUI test scripts (sourced, not run): talking to vigil over D-Bus.

# call ACTION PARAMS: activate a window action (win.*) of the first window.
call() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
    --method org.gtk.Actions.Activate "$@" >/dev/null
}

# quit_and_check PID N: app.quit, then TAP line N says whether vigil exited with 0 within 10 s.
quit_and_check() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil \
    --method org.gtk.Actions.Activate quit "[]" "{}" >/dev/null
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "not ok $2 - did not quit"; kill -9 "$1"; exit 1; fi
    sleep 0.1
  done
  if wait "$1"; then echo "ok $2 - quit cleanly"; else echo "not ok $2 - exit status $?"; return 1; fi
}

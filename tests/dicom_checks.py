"""What the scripts that read back Vigil's DICOM objects share (imported by
dicom-export-check.py, report-dicom-check.py, report-anon-check.py): the SOP
classes written, the list of failed checks, and dciodvfy's verdict."""
import os
import subprocess
import sys

SEG, PMAP = "1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.30"
SC, PDF = "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.104.1"

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def dciodvfy(path, show_warnings=False):
    """Fails a check on every Error line dciodvfy prints for `path`."""
    out = subprocess.run(["dciodvfy", path], capture_output=True, text=True)
    lines = (out.stdout + out.stderr).splitlines()
    name = os.path.basename(path)
    for line in lines:
        if show_warnings and line.startswith("Warning"):
            print(f"{name}: {line}")
    errors = [line for line in lines if line.startswith("Error")]
    check(not errors, f"{name}: dciodvfy: " + "; ".join(errors))


def finish():
    """Prints the failed checks; exit status 1 when there was one."""
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)

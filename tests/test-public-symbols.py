#!/usr/bin/python3
"""Every global function of the engine and app libraries (model/, gpu/, app/) is used
outside its own file (C functions; the C++ internals of the DICOM reader are not checked): by
another source of the libraries, a program, a test or a benchmark.
A public function that nothing calls, or that only its own file calls, should be static or
gone. Reads the build's object files with nm; the fuzz harnesses, which clang builds outside
them, count as users by name. GObject's *_get_type functions are exempt (G_DECLARE_* makes
them public). Usage: test-public-symbols.py BUILD_DIR SOURCE_DIR"""
import collections
import pathlib
import re
import subprocess
import sys

LIBRARIES = ("libvigil-model.a.p", "libvigil-gpu.a.p", "libvigil-app.a.p", "libvigil-dicom.a.p")


def symbols(obj, *flags):
    out = subprocess.run(["nm", "-P", *flags, str(obj)], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[:2] for line in out.splitlines() if line.strip()]


def main():
    build, source = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    fuzz_words = set()
    for harness in (source / "tests" / "fuzz").glob("*.c"):
        fuzz_words |= set(re.findall(r"\w+", harness.read_text()))
    objects = [o for o in build.rglob("*.o") if "meson-private" not in o.parts]
    defined = {}  # function -> the object defining it
    users = collections.defaultdict(set)
    for obj in objects:
        if any(part in LIBRARIES for part in obj.parts):
            for name, kind in symbols(obj, "-g", "--defined-only"):
                # C functions only: C++ names (vigil-dicom's internals) are mangled.
                if kind == "T" and not name.endswith("_get_type") and not name.startswith("_Z"):
                    defined[name] = obj
        for name, _ in symbols(obj, "-u"):
            users[name].add(obj)
    unused = sorted(name for name, obj in defined.items()
                    if not users[name] - {obj} and name not in fuzz_words)
    print("TAP version 13")
    print("1..1")
    for name in unused:
        print(f"# {name} ({defined[name].name}): no other file uses it")
    status = "ok" if not unused and len(defined) > 100 else "not ok"
    print(f"{status} 1 - {len(defined)} public functions in {len(objects)} objects, "
          f"{len(unused)} used only where they are defined")
    return 0 if status == "ok" else 1


sys.exit(main())

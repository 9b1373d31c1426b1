#!/usr/bin/python3
"""The metainfo's screenshots are in docs/screenshots/. The flatpak manifest parses (flatpak-builder --show-manifest) and agrees
with meson.build: every dependency() and library meson looks for is either in
the manifest's x-sdk-provides or built by a module (x-meson-dependency), and
nothing else is; every program meson needs is provided too; the vigil
module's -D options exist in meson_options.txt with valid values; every
source is pinned (archive + sha256, or git + commit); the sandbox holds no
--filesystem and its network use is explained. Usage: SRC_ROOT"""
import json
import pathlib
import re
import subprocess
import sys
import tempfile

src = pathlib.Path(sys.argv[1])
manifest_path = src / "flatpak" / "org.vigil.Vigil.yml"
results = []


def check(ok, what, detail=""):
    results.append((bool(ok), what, detail))


with tempfile.TemporaryDirectory() as state:  # flatpak-builder leaves .flatpak-builder/ in its cwd
    shown = subprocess.run(["flatpak-builder", "--show-manifest", str(manifest_path.resolve())],
                           capture_output=True, text=True, cwd=state)
check(shown.returncode == 0, "flatpak-builder --show-manifest parses it", shown.stderr.strip())
manifest = json.loads(shown.stdout) if shown.returncode == 0 else {}
modules = manifest.get("modules", [])

# What meson asks for, outside the tests.
deps, libs, programs = set(), set(), set()
for f in src.rglob("meson.build"):
    rel = f.relative_to(src).parts
    if rel[0] in ("tests", "build") or rel[0].startswith("build"):
        continue
    text = f.read_text()
    deps |= set(re.findall(r"\bdependency\('([^']+)'", text))
    libs |= set(re.findall(r"find_library\('([^']+)'", text)) - {"m"}  # libc's
    for name, rest in re.findall(r"find_program\('([^']+)'([^)]*)\)", text):
        if "required: false" not in rest and "get_option('man'" not in rest:
            programs.add(name)
wanted = deps | libs

# A dependency or library asked for with `required: get_option('X')` (a feature)
# is not wanted where the vigil module passes -DX=disabled.
gated = {}
for f in src.rglob("meson.build"):
    rel = f.relative_to(src).parts
    if rel[0] in ("tests", "build") or rel[0].startswith("build"):
        continue
    for name, option in re.findall(r"(?:dependency|find_library)\('([^']+)'[^)]*required: "
                                   r"get_option\('([^']+)'\)", f.read_text()):
        gated.setdefault(option, set()).add(name)

vigil_opts = next((m for m in modules if m.get("name") == "vigil"), {}).get("config-opts", [])
for option, names in gated.items():
    if f"-D{option}=disabled" in vigil_opts:
        wanted -= names
provided = set(manifest.get("x-sdk-provides", []))
built, built_programs = set(), set()
for m in modules:
    d = m.get("x-meson-dependency", [])
    built |= set([d] if isinstance(d, str) else d)
    if "x-meson-program" in m:
        built_programs.add(m["x-meson-program"])
check(not (wanted - provided - built), "every meson dependency is in the SDK or a module",
      f"missing: {sorted(wanted - provided - built)}")
check(not ((provided | built) - wanted - programs),
      "the manifest names no dependency meson does not use",
      f"extra: {sorted((provided | built) - wanted - programs)}")
check(not (programs - provided - built_programs), "every program meson runs is provided",
      f"missing: {sorted(programs - provided - built_programs)}")

# The vigil module's options against meson_options.txt.
options = {}
for name, kind, body in re.findall(r"option\('([^']+)',\s*type:\s*'([^']+)'(.*?)\)\n",
                                   (src / "meson_options.txt").read_text(), re.S):
    options[name] = (kind, re.findall(r"'([^']*)'", body.split("choices:")[-1])
                     if "choices" in body else None)
builtin = {"werror", "buildtype", "optimization", "b_lto", "debug", "prefix", "libdir"}
vigil = next((m for m in modules if m.get("name") == "vigil"), {})
check(vigil.get("buildsystem") == "meson", "the vigil module builds with meson")
bad = []
for opt in vigil.get("config-opts", []):
    name, _, value = opt[2:].partition("=")
    kind, choices = options.get(name, (None, None))
    valid = {"boolean": value in ("true", "false"),
             "feature": value in ("enabled", "disabled", "auto"),
             "string": True, "combo": choices is not None and value in choices}
    if not opt.startswith("-D") or (name not in builtin and not valid.get(kind, False)):
        bad.append(opt)
check(not bad, "every -D option of the vigil module exists with a valid value", f"bad: {bad}")
if "man" in options:
    check("-Dman=disabled" in vigil.get("config-opts", []) or "help2man" in built_programs,
          "man pages are off or help2man is built")

# Pinned sources.
unpinned = []
for m in modules:
    for s in m.get("sources", []):
        kind = s.get("type")
        if (kind in ("archive", "file") and not re.fullmatch(r"[0-9a-f]{64}", s.get("sha256", ""))) \
                or (kind == "git" and not re.fullmatch(r"[0-9a-f]{40}", s.get("commit", ""))) \
                or kind not in ("archive", "file", "git", "dir"):
            unpinned.append(f"{m.get('name')}: {s.get('url', s.get('path'))}")
check(not unpinned, "every source is pinned by sha256 or commit", f"unpinned: {unpinned}")
version = manifest.get("runtime-version", "0")
check(manifest.get("runtime") == "org.gnome.Platform" and version.isdigit() and int(version) >= 50,
      "a GNOME runtime 50 or newer", version)

# The sandbox.
args = manifest.get("finish-args", [])
check(all(a in args for a in ("--socket=wayland", "--socket=fallback-x11", "--device=dri",
                              "--share=network")) and not any(a.startswith("--filesystem")
                                                               for a in args),
      "finish-args: Wayland, X11 fallback, dri, network; files only through the portal", args)
raw = manifest_path.read_text()
before_network = raw[:raw.index("--share=network")].rsplit("- --", 1)[-1]
check("PACS" in before_network, "the manifest says why it needs the network")
metainfo = (src / "resources" / "org.vigil.Vigil.metainfo.xml.in").read_text()
check("PACS" in metainfo and "network" in metainfo, "so does the metainfo")
shots = re.findall(r"<image>@HOMEPAGE@/(docs/screenshots/[^<]+)</image>", metainfo)
missing = [p for p in shots if not (src / p).read_bytes().startswith(b"\x89PNG")] \
    if all((src / p).is_file() for p in shots) else shots
check(len(shots) >= 2 and not missing, "the metainfo's screenshots are PNGs in the repository",
      f"missing: {missing}")

print("TAP version 13")
print(f"1..{len(results)}")
for i, (ok, what, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    if not ok and detail:
        print(f"# {detail}")

#!/usr/bin/env python3
"""build.py - assemble the web root parleyd serves.

    build.py --errors build/catalog/errors.js --sdk sdk/js --web web --out DIR

DIR gets a copy of web/ (the demo page), DIR/sdk/errors.js (the generated
catalog module) and DIR/sdk/parley.js: sdk/js/parley.js (the entry) with the
modules it imports (sdk/js/src/*.js and the generated errors.js) inlined,
each after the modules it imports, so that the served file is one ES module
without imports. The concatenation is plain: each module's `import` lines
(one line each) are dropped and its `export` keywords removed, and the entry
module's own exports stay. Module-level names therefore must not collide
across modules (the build refuses a duplicate, exported or not)."""
import argparse
import os
import re
import shutil
import sys

IMPORT_RE = re.compile(r"""^import\s+(?:\{[^}]*\}|\*\s+as\s+\w+|\w+)\s+from\s+['"]([^'"]+)['"];?\s*$""")
DECL_RE = re.compile(r"^export\s+((?:const|let|function|class|async\s+function)\s+(\w+))")
TOP_RE = re.compile(r"^(?:export\s+)?(?:const|let|function|class|async\s+function)\s+(\w+)")


def strip_module(text, path, entry=False):
    out, names = [], []
    for line in text.splitlines():
        if IMPORT_RE.match(line):
            continue
        top = TOP_RE.match(line)
        if top:
            names.append(top.group(1))
        m = DECL_RE.match(line)
        if m:
            line = line[len("export "):]
        elif line.startswith("export ") and not entry:
            raise SystemExit(f"{path}: only `export const|let|function|class` is bundled: {line}")
        out.append(line)
    return "\n".join(out) + "\n", names


def bundle(entry, errors_js):
    order, seen = [], set()

    def visit(path):
        if path in seen:
            return
        seen.add(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for line in text.splitlines():
            m = IMPORT_RE.match(line)
            if m:
                spec = m.group(1)
                dep = errors_js if os.path.basename(spec) == "errors.js" else \
                    os.path.normpath(os.path.join(os.path.dirname(path), spec))
                visit(dep)
        order.append((path, text))

    visit(entry)
    parts = ["// parley.js - Parley's browser SDK, one ES module (built by sdk/js/build.py).\n"]
    all_names = set()
    for path, text in order:
        body, names = strip_module(text, path, path == entry)
        dup = all_names.intersection(names)
        if dup:
            raise SystemExit(f"{path}: module-level name(s) {sorted(dup)} also defined elsewhere")
        all_names.update(names)
        rel = os.path.basename(path)
        parts.append(f"\n// ---- {rel} ----\n")
        parts.append(body if path != entry else text_without_imports(text))
    return "".join(parts)


def text_without_imports(text):
    return "\n".join(l for l in text.splitlines() if not IMPORT_RE.match(l)) + "\n"


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", required=True)
    ap.add_argument("--sdk", required=True)
    ap.add_argument("--web", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    tmp = a.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(a.web, tmp)
    os.makedirs(os.path.join(tmp, "sdk"), exist_ok=True)
    shutil.copyfile(a.errors, os.path.join(tmp, "sdk", "errors.js"))
    with open(os.path.join(tmp, "sdk", "parley.js"), "w", encoding="utf-8") as f:
        f.write(bundle(os.path.join(a.sdk, "parley.js"), os.path.abspath(a.errors)))
    shutil.rmtree(a.out, ignore_errors=True)
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

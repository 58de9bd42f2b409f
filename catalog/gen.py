#!/usr/bin/env python3
"""Generate every artifact of the error catalog from its data files.

The catalog (errors.toml, leave_reasons.toml) is the one hand-edited source of
truth. This script turns it into:

  header   parley/error_codes.h  PARLEY_ERR_<NAME> and PARLEY_LEAVE_<NAME> macros
  table    catalog_data.c        the entries as a C array behind <parley/errors.h>
  json     errors.json           the catalog for tools and other languages
  js       errors.js             an ES module: errors (name -> code), catalog, leaveReasons
  markdown errors.md             the reference, grouped by layer, with the trigger matrix

The trigger matrix names the tests that provoke each code. Tests declare that
with a marker line placed just before the test definition:

    # provokes 4002            (Python)      // provokes 3022 native   (C)

optionally followed by a profile (web|native) and the word "injected" when the
cause cannot exist on a test machine and the test injects the underlying
failure. The next `def test_x` / `TEST(x)` (or, in .js/.mjs, `test('name'` / `it('name'`)
after the marker names the test.

Usage: gen.py --catalog DIR --tests DIR KIND OUTPUT [KIND OUTPUT ...]
"""
import argparse
import json
import os
import re
import sys
import tomllib

LAYERS = ["session", "token", "client", "request", "runtime"]
LAYER_TITLES = {
    "session": "Session layer (1xx, 2xx, 3xx, 8xx, 9xx, -1): signaling protocol errors",
    "token": "Token layer (11xx): token refresh and reconnection",
    "client": "Client layer (30xx): devices and local state, per profile",
    "request": "Request layer (40xx): requests the server refuses",
    "runtime": "Runtime layer (50xx): something that was running stopped",
}
PROFILES = ["all", "web", "native"]
FIELDS = ["code", "name", "profile", "layer", "fatal", "message", "trigger", "remedy"]
NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class CatalogError(Exception):
    pass


def load(catalog_dir):
    with open(os.path.join(catalog_dir, "errors.toml"), "rb") as f:
        errors = tomllib.load(f).get("error", [])
    with open(os.path.join(catalog_dir, "leave_reasons.toml"), "rb") as f:
        reasons = tomllib.load(f).get("reason", [])
    validate(errors, reasons)
    errors.sort(key=lambda e: (LAYERS.index(e["layer"]), e["code"], PROFILES.index(e["profile"])))
    reasons.sort(key=lambda r: r["code"])
    return errors, reasons


def validate(errors, reasons):
    seen_key = set()
    names = {}  # (name, family) -> code, where family is web or native
    for e in errors:
        where = f"entry {e.get('code')} {e.get('name')}"
        for field in FIELDS:
            if field not in e:
                raise CatalogError(f"{where}: missing field '{field}'")
        e.setdefault("aliases", [])
        if e["layer"] not in LAYERS:
            raise CatalogError(f"{where}: unknown layer '{e['layer']}'")
        if e["profile"] not in PROFILES:
            raise CatalogError(f"{where}: unknown profile '{e['profile']}'")
        if (e["layer"] == "client") != (e["profile"] != "all"):
            raise CatalogError(f"{where}: client codes, and only they, have a web or native profile")
        key = (e["code"], e["profile"])
        if key in seen_key:
            raise CatalogError(f"{where}: code listed twice for profile {e['profile']}")
        seen_key.add(key)
        for name in [e["name"]] + e["aliases"]:
            if not NAME_RE.match(name):
                raise CatalogError(f"{where}: bad name '{name}'")
            families = ["web", "native"] if e["profile"] == "all" else [e["profile"]]
            for fam in families:
                other = names.get((name, fam))
                if other is not None and other != e["code"]:
                    raise CatalogError(f"{where}: name '{name}' also names {other} in profile {fam}")
                names[(name, fam)] = e["code"]
        for field in ("message", "trigger", "remedy"):
            text = e[field]
            if not text.strip() or '"' in text or "\\" in text or not text.isascii():
                raise CatalogError(f"{where}: {field} must be plain ASCII text without quotes or backslashes")
    for code, prof in seen_key:
        if prof != "all" and (code, "all") in seen_key:
            raise CatalogError(f"code {code}: both profile 'all' and '{prof}'")
    codes = set()
    for r in reasons:
        for field in ("code", "name", "origin", "message"):
            if field not in r:
                raise CatalogError(f"leave reason {r.get('code')}: missing field '{field}'")
        if r["code"] in codes:
            raise CatalogError(f"leave reason {r['code']} listed twice")
        codes.add(r["code"])


MARK_RE = re.compile(r"(?:#|//)\s*provokes\s+(-?\d+)((?:\s+(?:web|native|injected))*)\s*$")
DEF_RE = re.compile(r"^\s*(?:def\s+(test_\w+)|TEST\s*\(\s*(\w+)\s*\)"
                    r"|(?:test|it)\s*\(\s*(['\"])(.+?)\3)")  # the last: node's test('name', ...) in .js/.mjs


def scan_tests(tests_dir):
    """Return {(code, profile-or-None): [(test id, injected)]} from provokes markers."""
    found = {}
    if not tests_dir or not os.path.isdir(tests_dir):
        return found
    root = os.path.dirname(os.path.abspath(tests_dir))
    for dirpath, dirnames, filenames in os.walk(tests_dir):
        dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "__pycache__"))
        for fn in sorted(filenames):
            if not fn.endswith((".py", ".c", ".js", ".mjs")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root)
            pending = []
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = MARK_RE.search(line)
                    if m:
                        words = m.group(2).split()
                        prof = next((w for w in words if w in ("web", "native")), None)
                        pending.append((int(m.group(1)), prof, "injected" in words))
                        continue
                    d = DEF_RE.match(line)
                    if d and d.group(4) and not fn.endswith((".js", ".mjs")):
                        d = None
                    if d and pending:
                        test = f"{rel}::{d.group(1) or d.group(2) or d.group(4)}"
                        for code, prof, inj in pending:
                            found.setdefault((code, prof), []).append((test, inj))
                        pending = []
    return found


def tests_for(entry, found):
    out = list(found.get((entry["code"], entry["profile"]), []))
    if entry["profile"] == "all":
        out += found.get((entry["code"], None), [])
    return out


def all_names(e):
    return [e["name"]] + e["aliases"]


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gen_header(errors, reasons, found):
    out = [
        "/* Generated from catalog/errors.toml and catalog/leave_reasons.toml by",
        " * catalog/gen.py. Do not edit: change the catalog and rebuild.",
        " *",
        " * PARLEY_ERR_<NAME> names every code of the profile 'all' and of the native",
        " * profile (the one libparley speaks). Client codes are also spelled with their",
        " * profile, PARLEY_ERR_WEB_<NAME> and PARLEY_ERR_NATIVE_<NAME>, because the",
        " * browser and native tables give some names different codes. */",
        "#ifndef PARLEY_ERROR_CODES_H",
        "#define PARLEY_ERROR_CODES_H",
        "",
    ]
    for e in errors:
        for name in all_names(e):
            if e["profile"] in ("all", "native"):
                out.append(f"#define PARLEY_ERR_{name} ({e['code']})")
            if e["profile"] != "all":
                out.append(f"#define PARLEY_ERR_{e['profile'].upper()}_{name} ({e['code']})")
    out.append("")
    for r in reasons:
        out.append(f"#define PARLEY_LEAVE_{r['name']} ({r['code']})")
    out += ["", f"#define PARLEY_ERROR_ENTRY_COUNT ({len(errors)})",
            f"#define PARLEY_LEAVE_REASON_COUNT ({len(reasons)})", "", "#endif", ""]
    return "\n".join(out)


def gen_table(errors, reasons, found):
    out = [
        "/* Generated from the catalog by catalog/gen.py. Do not edit. */",
        '#include "catalog_data.h"',
        "",
        "static const char *const no_aliases[] = {NULL};",
    ]
    for i, e in enumerate(errors):
        if e["aliases"]:
            items = ", ".join(c_str(a) for a in e["aliases"])
            out.append(f"static const char *const aliases_{i}[] = {{{items}, NULL}};")
    out += ["", "const parley_error_info parley__catalog[] = {"]
    for i, e in enumerate(errors):
        aliases = f"aliases_{i}" if e["aliases"] else "no_aliases"
        out.append(
            f"    {{{e['code']}, {c_str(e['name'])}, {aliases}, PARLEY_PROFILE_{e['profile'].upper()}, "
            f"PARLEY_LAYER_{e['layer'].upper()}, {str(e['fatal']).lower()},\n"
            f"     {c_str(e['message'])},\n     {c_str(e['trigger'])},\n     {c_str(e['remedy'])}}},"
        )
    out += ["};", f"const size_t parley__catalog_count = {len(errors)};", "",
            "const parley_leave_reason parley__leave_reasons[] = {"]
    for r in reasons:
        out.append(f"    {{{r['code']}, {c_str(r['name'])}, {c_str(r['origin'])}, {c_str(r['message'])}}},")
    out += ["};", f"const size_t parley__leave_reason_count = {len(reasons)};", ""]
    return "\n".join(out)


def entry_json(e, found):
    d = {k: e[k] for k in FIELDS}
    d["aliases"] = e["aliases"]
    return d


def gen_json(errors, reasons, found):
    doc = {
        "version": 1,
        "errors": [entry_json(e, found) for e in errors],
        "leaveReasons": [{k: r[k] for k in ("code", "name", "origin", "message")} for r in reasons],
    }
    return json.dumps(doc, indent=2) + "\n"


def gen_js(errors, reasons, found):
    web = [e for e in errors if e["profile"] in ("all", "web")]
    names = {}
    for e in web:
        for n in all_names(e):
            names[n] = e["code"]
    entries = [{"code": e["code"], "name": e["name"], "aliases": e["aliases"], "layer": e["layer"],
                "fatal": e["fatal"], "message": e["message"], "remedy": e["remedy"]} for e in web]
    lines = [
        "// Generated from the catalog by catalog/gen.py. Do not edit.",
        "// The browser's view of the catalog: profile 'all' plus the web profile.",
        "",
        "/** Constant name (and alias) -> numeric code, like constants.errors. */",
        "export const errors = Object.freeze(" + json.dumps(names, indent=2) + ");",
        "",
        "/** Every entry a browser can receive, with its message and remedy. */",
        "export const catalog = Object.freeze(" + json.dumps(entries, indent=2) + ");",
        "",
        "/** Leave reasons carried by meeting-left and participant-left. */",
        "export const leaveReasons = Object.freeze("
        + json.dumps({r["name"]: r["code"] for r in reasons}, indent=2) + ");",
        "",
    ]
    return "\n".join(lines)


def md_cell(s):
    return s.replace("|", "\\|")


def gen_md(errors, reasons, found):
    out = [
        "<!-- Generated from catalog/errors.toml by catalog/gen.py. Do not edit by hand:",
        "     change the catalog (or a test's provokes marker) and run `ninja -C build docs`. -->",
        "",
        "# Parley error reference",
        "",
        "Every failure reaches the application as one error event carrying a numeric `code`, a",
        "constant `name` and a human `message`, plus the room, participant and request id where",
        "known. This page lists every code, grouped by layer. The 30xx client codes have two",
        "profiles: `web` (parley.js, browser media errors) and `native` (libparley).",
        "",
        "Fatal errors end the meeting for the participant that receives them; `meeting-left`",
        "follows with a leave reason (see the last section).",
        "",
        f"{len(errors)} entries, {len({e['code'] for e in errors})} distinct codes.",
        "",
        "## Contents",
        "",
    ]
    for layer in LAYERS:
        out.append(f"- [{LAYER_TITLES[layer]}](#{layer}-layer)")
    out += ["- [Trigger matrix](#trigger-matrix)", "- [Leave reasons](#leave-reasons)", ""]
    for layer in LAYERS:
        out += [f"<a id=\"{layer}-layer\"></a>", f"## {LAYER_TITLES[layer]}", ""]
        for e in errors:
            if e["layer"] != layer:
                continue
            prof = "" if e["profile"] == "all" else f" ({e['profile']})"
            out.append(f"### {e['code']} {e['name']}{prof}")
            out.append("")
            if e["aliases"]:
                out.append(f"- **Aliases:** {', '.join('`' + a + '`' for a in e['aliases'])}")
            out.append(f"- **Fatal:** {'yes' if e['fatal'] else 'no'}")
            out.append(f"- **Message:** {e['message']}")
            out.append(f"- **When:** {e['trigger']}")
            out.append(f"- **Remedy:** {e['remedy']}")
            out.append("")
    out += [
        "## Trigger matrix",
        "",
        "Code, the situation that produces it, and the automated tests that provoke it.",
        "*injected* marks a test that injects the underlying failure because the real cause",
        "cannot exist on a test machine; *none yet* marks a code whose trigger is still to be built.",
        "",
        "| code | name | profile | situation | tests |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in errors:
        tests = tests_for(e, found)
        cell = "<br>".join(f"`{t}`" + (" *injected*" if inj else "") for t, inj in tests) or "*none yet*"
        out.append(f"| {e['code']} | `{e['name']}` | {e['profile']} | {md_cell(e['trigger'])} | {cell} |")
    out += [
        "",
        "## Leave reasons",
        "",
        "`meeting-left` and `participant-left` carry a reason `{code, message}` from this table.",
        "Leave reasons are their own enumeration and never mix with error codes.",
        "",
        "| code | name | origin | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for r in reasons:
        out.append(f"| {r['code']} | `{r['name']}` | {r['origin']} | {md_cell(r['message'])} |")
    out.append("")
    return "\n".join(out)


KINDS = {"header": gen_header, "table": gen_table, "json": gen_json, "js": gen_js, "markdown": gen_md}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--tests")
    ap.add_argument("outputs", nargs="+", help="KIND OUTPUT pairs; kinds: " + ", ".join(KINDS))
    args = ap.parse_args(argv)
    if len(args.outputs) % 2:
        ap.error("outputs come in KIND OUTPUT pairs")
    try:
        errors, reasons = load(args.catalog)
    except (CatalogError, tomllib.TOMLDecodeError) as exc:
        print(f"gen.py: catalog: {exc}", file=sys.stderr)
        return 1
    found = scan_tests(args.tests)
    for kind, path in zip(args.outputs[::2], args.outputs[1::2]):
        if kind not in KINDS:
            print(f"gen.py: unknown kind '{kind}'", file=sys.stderr)
            return 2
        text = KINDS[kind](errors, reasons, found)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

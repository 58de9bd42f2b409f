#!/usr/bin/env python3
"""The generated artifacts agree with the catalog data file.

errors.json, errors.js and errors.md are built from catalog/errors.toml; these
tests load the data file themselves and compare, so a generator bug or a stale
committed docs/errors.md fails here.
"""
import json
import os
import subprocess
import sys
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

CATALOG = os.path.join(harness.SOURCE, "catalog")
with open(os.path.join(CATALOG, "errors.toml"), "rb") as f:
    DATA = tomllib.load(f)["error"]
with open(os.path.join(CATALOG, "leave_reasons.toml"), "rb") as f:
    REASONS = tomllib.load(f)["reason"]


def built(name):
    return os.path.join(harness.BUILD, "catalog", name)


def key(e):
    return (e["code"], e["profile"])


def test_json_has_every_entry_unchanged():
    with open(built("errors.json")) as f:
        doc = json.load(f)
    got = {key(e): e for e in doc["errors"]}
    assert len(got) == len(DATA) == len(doc["errors"])
    for e in DATA:
        g = got[key(e)]
        for field in ("name", "layer", "fatal", "message", "trigger", "remedy"):
            assert g[field] == e[field], (key(e), field)
        assert g["aliases"] == e.get("aliases", []), key(e)
    assert [r["code"] for r in doc["leaveReasons"]] == sorted(r["code"] for r in REASONS)


def load_js():
    src = "import * as m from %s; console.log(JSON.stringify(m));" % json.dumps("file://" + built("errors.js"))
    cp = subprocess.run(["node", "--input-type=module", "-e", src], capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def test_js_module_matches_the_web_profile():
    m = load_js()
    expected = {}
    for e in DATA:
        if e["profile"] in ("all", "web"):
            for n in [e["name"]] + e.get("aliases", []):
                expected[n] = e["code"]
    assert m["errors"] == expected
    assert m["errors"]["INVALID_TOKEN"] == 4002
    assert m["errors"]["MAX_PARTCIPANT_REACHED"] == m["errors"]["MAX_PARTICIPANT_REACHED"] == 4009
    assert m["errors"]["ERROR_GET_VIDEO_MEDIA"] == 3011
    assert "ERROR_STARTING_VIDEO" not in m["errors"]  # native only
    assert len(m["catalog"]) == sum(1 for e in DATA if e["profile"] != "native")
    assert m["leaveReasons"]["DUPLICATE_PARTICIPANT"] == 1011


def test_reference_lists_every_entry_by_layer():
    with open(built("errors.md")) as f:
        md = f.read()
    for e in DATA:
        prof = "" if e["profile"] == "all" else f" ({e['profile']})"
        assert f"### {e['code']} {e['name']}{prof}\n" in md, key(e)
    order = [md.index(h) for h in ("## Session layer", "## Token layer", "## Client layer",
                                   "## Request layer", "## Runtime layer", "## Trigger matrix")]
    assert order == sorted(order)


def test_committed_reference_is_current():
    with open(built("errors.md")) as f:
        fresh = f.read()
    with open(os.path.join(harness.SOURCE, "docs", "errors.md")) as f:
        committed = f.read()
    assert committed == fresh, "docs/errors.md is stale: run `ninja -C build docs` and commit it"


def test_generator_refuses_a_broken_catalog():
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(CATALOG, "leave_reasons.toml"), tmp)
        text = open(os.path.join(CATALOG, "errors.toml")).read()
        # The same code twice for one profile.
        dup = text + '\n[[error]]\ncode = 4002\nname = "OTHER"\nprofile = "all"\nlayer = "request"\n' \
                     'fatal = true\nmessage = "m"\ntrigger = "t"\nremedy = "r"\n'
        open(os.path.join(tmp, "errors.toml"), "w").write(dup)
        cp = subprocess.run([sys.executable, os.path.join(CATALOG, "gen.py"), "--catalog", tmp,
                             "json", os.path.join(tmp, "out.json")], capture_output=True, text=True)
        assert cp.returncode == 1 and "listed twice" in cp.stderr, cp.stderr
        assert not os.path.exists(os.path.join(tmp, "out.json"))


harness.main()

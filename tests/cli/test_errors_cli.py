#!/usr/bin/env python3
"""`parley errors list` and `parley errors explain`: output, JSON and exit codes."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import parley, parley_json  # noqa: E402


def test_explain_by_code_and_by_misspelled_name_agree():
    by_code = parley_json("errors", "explain", "4009", "--json")
    by_name = parley_json("errors", "explain", "MAX_PARTCIPANT_REACHED", "--json")
    by_alias = parley_json("errors", "explain", "MAX_PARTICIPANT_REACHED", "--json")
    assert by_code == by_name == by_alias
    assert by_code["name"] == "MAX_PARTCIPANT_REACHED"
    assert by_code["aliases"] == ["MAX_PARTICIPANT_REACHED"]
    assert by_code["layer"] == "request" and by_code["fatal"] is True and by_code["profile"] == "all"
    for field in ("message", "trigger", "remedy"):
        assert by_code[field]
    text = parley("errors", "explain", "4009", check=True).stdout
    assert text.startswith("4009 MAX_PARTCIPANT_REACHED\n") and "MAX_PARTICIPANT_REACHED" in text


def test_explain_3011_per_profile():
    assert parley_json("errors", "explain", "3011", "--profile", "native", "--json")["name"] == "ERROR_STARTING_VIDEO"
    assert parley_json("errors", "explain", "3011", "--profile", "web", "--json")["name"] == "ERROR_GET_VIDEO_MEDIA"


def test_explain_30xx_without_profile_shows_both():
    both = parley_json("errors", "explain", "3011", "--json")
    assert isinstance(both, list) and sorted(e["profile"] for e in both) == ["native", "web"]
    text = parley("errors", "explain", "3011", check=True).stdout
    assert "ERROR_GET_VIDEO_MEDIA" in text and "ERROR_STARTING_VIDEO" in text
    # A name both tables use, for different codes.
    same = parley_json("errors", "explain", "ERROR_CAMERA_IN_USE", "--json")
    assert sorted(e["code"] for e in same) == [3003, 3023]
    # Only one profile has 3035.
    assert parley_json("errors", "explain", "3035", "--json")["profile"] == "web"


def test_explain_negative_and_lowercase():
    assert parley_json("errors", "explain", "-1", "--json")["name"] == "UNKNOWN_ERROR"
    assert parley_json("errors", "explain", "invalid_token", "--json")["code"] == 4002


def test_unknown_code_or_name_exits_2():
    for args in (["4242"], ["NOT_A_REAL_ERROR"], ["3001", "--profile", "web"], ["3035", "--profile", "native"]):
        cp = parley("errors", "explain", *args)
        assert cp.returncode == 2, args
        assert "unknown error code or name" in cp.stderr and cp.stdout == ""


def test_bad_usage_exits_2():
    for args in (["errors"], ["errors", "explain"], ["errors", "list", "--layer", "media"],
                 ["errors", "list", "--profile", "desktop"], ["errors", "frobnicate"], ["nope"],
                 ["errors", "explain", "4002", "--profile"]):
        assert parley(*args).returncode == 2, args


def test_list_filters_by_layer_and_profile():
    everything = parley_json("errors", "list", "--json")
    assert len(everything) == 116
    request = parley_json("errors", "list", "--layer", "request", "--json")
    assert request and all(e["layer"] == "request" and 4000 <= e["code"] < 5000 for e in request)
    web = parley_json("errors", "list", "--profile", "web", "--json")
    assert all(e["profile"] in ("all", "web") for e in web)
    assert {e["code"] for e in web if e["layer"] == "client"} == set(range(3011, 3036))
    native_client = parley_json("errors", "list", "--profile", "native", "--layer", "client", "--json")
    assert {e["code"] for e in native_client} == set(range(3001, 3024))
    lines = parley("errors", "list", "--layer", "token", check=True).stdout.splitlines()
    assert len(lines) == 2 and "TOKEN_EXPIRED" in lines[0]


def test_every_seed_pair_is_explained():
    fixture = os.path.join(harness.SOURCE, "tests", "fixtures", "seed_pairs.tsv")
    listing = parley_json("errors", "list", "--json")
    index = {}
    for e in listing:
        for n in [e["name"]] + e["aliases"]:
            index[(n, e["profile"])] = e["code"]
    for line in open(fixture):
        if line.startswith("#"):
            continue
        code, name, profile, _ = line.rstrip("\n").split("\t")
        assert index.get((name, profile)) == int(code), (code, name, profile)


def test_json_is_one_line_and_ascii():
    out = parley("errors", "explain", "4002", "--json", check=True).stdout
    assert out.count("\n") == 1 and out.isascii()
    json.loads(out)


harness.main()

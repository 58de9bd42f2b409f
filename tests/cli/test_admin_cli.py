#!/usr/bin/env python3
"""`parley admin` (organisations and keys in the store) and `parley token`:
output shapes, exit codes, and tokens that verify with the key's secret."""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import parley  # noqa: E402

TMP = tempfile.mkdtemp(prefix="parley-test-admin-")


def data_dir(name):
    """A data directory that does not exist yet (admin must create it)."""
    return os.path.join(TMP, name, "data")


def admin(data, *args, **kw):
    return parley("admin", "--data", data, *args, **kw)


def admin_json(data, *args):
    cp = admin(data, *args)
    assert cp.returncode == 0, f"admin {args} exited {cp.returncode}: {cp.stderr.strip()}"
    lines = cp.stdout.splitlines()
    assert len(lines) == 1, f"JSON output is not one line: {cp.stdout!r}"
    return json.loads(lines[0])


def b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode(token, secret):
    """Header and payload of an HS256 token whose signature is checked here."""
    parts = token.split(".")
    assert len(parts) == 3, token
    header = json.loads(b64url_decode(parts[0]))
    payload = json.loads(b64url_decode(parts[1]))
    mac = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(b64url_decode(parts[2]), mac), "signature does not verify"
    return header, payload


def mint(*args):
    cp = parley("token", *args)
    assert cp.returncode == 0, f"token {args} exited {cp.returncode}: {cp.stderr.strip()}"
    lines = cp.stdout.splitlines()
    assert len(lines) == 1
    return lines[0]


def test_org_create_show_list_json_shapes():
    d = data_dir("orgs")
    org = admin_json(d, "org", "create", "acme", "--max-speakers", "5", "--max-viewers=50",
                     "--max-recordings", "1", "--max-hls", "2", "--max-livestreams", "3", "--json")
    assert os.path.isfile(os.path.join(d, "parley.db"))
    assert set(org) == {"id", "name", "state", "message", "addons", "limits", "createdAt", "updatedAt"}
    assert org["name"] == "acme" and org["state"] == "active" and org["addons"] is True
    assert org["message"] is None
    assert org["limits"] == {"maxSpeakers": 5, "maxViewers": 50, "maxRecordings": 1, "maxHls": 2,
                             "maxLivestreams": 3}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", org["createdAt"])

    plain = admin_json(d, "org", "create", "beta", "--addons", "off", "--json")
    assert plain["addons"] is False and plain["limits"]["maxSpeakers"] == 0

    shown = admin_json(d, "org", "show", "acme", "--json")
    assert shown == org
    listed = admin_json(d, "org", "list", "--json")
    assert [o["name"] for o in listed] == ["acme", "beta"]

    text = admin(d, "org", "create", "gamma")
    assert text.returncode == 0 and "gamma" in text.stdout
    assert "gamma" in admin(d, "org", "list").stdout
    assert "state:" in admin(d, "org", "show", "gamma").stdout


def test_org_create_twice_fails_with_the_store_message():
    d = data_dir("dup")
    admin_json(d, "org", "create", "acme", "--json")
    cp = admin(d, "org", "create", "acme")
    assert cp.returncode == 1
    assert "already exists" in cp.stderr and cp.stdout == ""


def test_org_set_changes_state_message_limits_addons():
    d = data_dir("set")
    admin_json(d, "org", "create", "acme", "--max-speakers", "5", "--json")
    org = admin_json(d, "org", "set", "acme", "--state", "deactivated", "--message",
                     "Billing overdue: contact ops", "--max-viewers", "7", "--addons", "off", "--json")
    assert org["state"] == "deactivated" and org["message"] == "Billing overdue: contact ops"
    assert org["limits"]["maxViewers"] == 7 and org["limits"]["maxSpeakers"] == 5
    assert org["addons"] is False
    again = admin_json(d, "org", "show", "acme", "--json")
    assert again == org
    admin_json(d, "org", "set", "acme", "--state=discontinued", "--json")
    assert admin_json(d, "org", "show", "acme", "--json")["state"] == "discontinued"
    # Back to active; the message stays until it is changed.
    back = admin_json(d, "org", "set", "acme", "--state", "active", "--json")
    assert back["state"] == "active" and back["message"] == "Billing overdue: contact ops"
    assert admin(d, "org", "set", "acme", "--max-hls", "4").returncode == 0
    assert admin_json(d, "org", "show", "acme", "--json")["limits"]["maxHls"] == 4


def test_unknown_organisation_exits_2():
    d = data_dir("unknown")
    admin_json(d, "org", "create", "acme", "--json")
    for args in (["org", "show", "nobody", "--json"], ["org", "set", "nobody", "--state", "active"],
                 ["key", "create", "--org", "nobody", "--json"], ["key", "list", "--org", "nobody"]):
        cp = admin(d, *args)
        assert cp.returncode == 2, args
        assert "unknown organisation" in cp.stderr, (args, cp.stderr)


def test_usage_errors_exit_2():
    d = data_dir("usage")
    admin_json(d, "org", "create", "acme", "--json")
    bad = [
        ["org"], ["org", "frobnicate"], ["org", "create"], ["org", "create", "x", "--max-speakers"],
        ["org", "create", "x", "--max-speakers", "-1"], ["org", "create", "x", "--max-viewers", "many"],
        ["org", "create", "x", "--addons", "maybe"], ["org", "create", "x", "--state", "active"],
        ["org", "set", "acme", "--state", "paused"], ["org", "show"], ["key", "create", "--json"],
        ["key", "list"], ["key", "rotate", "--org", "acme"], ["org", "create", "has space"],
        ["org", "list", "extra"],
    ]
    for args in bad:
        cp = admin(d, *args)
        assert cp.returncode == 2, (args, cp.returncode, cp.stderr)
        assert cp.stderr.startswith("parley: ") or cp.stderr.startswith("usage:"), (args, cp.stderr)
    # No --data at all.
    cp = parley("admin", "org", "list")
    assert cp.returncode == 2 and "--data" in cp.stderr
    assert parley("admin").returncode == 2
    # Nothing was created by the failed commands.
    assert [o["name"] for o in admin_json(d, "org", "list", "--json")] == ["acme"]


def test_store_failure_exits_1_with_its_message():
    blocker = os.path.join(TMP, "a-file")
    with open(blocker, "w") as f:
        f.write("not a directory\n")
    cp = parley("admin", "--data", os.path.join(blocker, "data"), "org", "list")
    assert cp.returncode == 1
    assert cp.stderr.startswith("parley: ") and "a-file" in cp.stderr


def test_keys_create_list_and_room_binding():
    d = data_dir("keys")
    admin_json(d, "org", "create", "acme", "--json")
    admin_json(d, "org", "create", "other", "--json")
    k1 = admin_json(d, "key", "create", "--org", "acme", "--json")
    assert set(k1) == {"apikey", "secret"}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", k1["apikey"])
    assert re.fullmatch(r"[0-9a-f]{64}", k1["secret"])
    k2 = admin_json(d, "key", "create", "--org=acme", "--room", "lobby", "--json")
    assert k2["apikey"] != k1["apikey"] and k2["secret"] != k1["secret"]
    admin_json(d, "key", "create", "--org", "other", "--json")

    listed = admin_json(d, "key", "list", "--org", "acme", "--json")
    assert [k["apikey"] for k in listed] == [k1["apikey"], k2["apikey"]]
    for k in listed:
        assert "secret" not in k and k["org"] == "acme"
    assert listed[0]["room"] is None and listed[1]["room"] == "lobby"
    text = admin(d, "key", "create", "--org", "acme")
    assert text.returncode == 0 and "apikey:" in text.stdout and "secret:" in text.stdout
    assert len(admin_json(d, "key", "list", "--org", "acme", "--json")) == 3


def test_token_defaults_and_signature():
    d = data_dir("token")
    admin_json(d, "org", "create", "acme", "--json")
    key = admin_json(d, "key", "create", "--org", "acme", "--json")
    token = mint("--apikey", key["apikey"], "--secret", key["secret"])
    header, claims = decode(token, key["secret"])
    assert header["alg"] == "HS256"
    assert claims["apikey"] == key["apikey"]
    assert claims["permissions"] == ["allow_join"]
    assert claims["version"] == 2
    assert claims["exp"] - claims["iat"] == 7200
    for absent in ("roomId", "participantId", "roles", "publish"):
        assert absent not in claims
    # Another secret does not verify it.
    try:
        decode(token, "0" * 64)
    except AssertionError:
        pass
    else:
        raise AssertionError("a token verified with the wrong secret")


def test_token_claims_from_options():
    token = mint("--apikey", "k1", "--secret", "s3cr3t", "--permissions", "allow_join,allow_mod",
                 "--room", "abcd-efgh-ijkl", "--participant", "alice", "--roles", "rtc,crawler",
                 "--publish", "camera,screen", "--version", "2")
    _, c = decode(token, "s3cr3t")
    assert sorted(c["permissions"]) == ["allow_join", "allow_mod"]
    assert c["roomId"] == "abcd-efgh-ijkl" and c["participantId"] == "alice"
    assert sorted(c["roles"]) == ["crawler", "rtc"] and sorted(c["publish"]) == ["camera", "screen"]
    _, c = decode(mint("--apikey", "k1", "--secret", "s3cr3t", "--permissions", "ask_join",
                       "--version", "1"), "s3cr3t")
    assert c["permissions"] == ["ask_join"] and c["version"] == 1
    # Secrets may come from the environment.
    cp = parley("token", env={**os.environ, "PARLEY_APIKEY": "envkey", "PARLEY_SECRET": "envsecret"})
    assert cp.returncode == 0
    assert decode(cp.stdout.strip(), "envsecret")[1]["apikey"] == "envkey"
    as_json = json.loads(parley("token", "--apikey", "k", "--secret", "s", "--json", check=True).stdout)
    assert decode(as_json["token"], "s")[1]["apikey"] == "k"


def test_token_ttl_forms():
    for ttl, seconds in (("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("300", 300),
                         ("-1m", -60), ("0", 0)):
        _, c = decode(mint("--apikey", "k", "--secret", "s", f"--ttl={ttl}"), "s")
        assert c["exp"] - c["iat"] == seconds, (ttl, c)
    _, c = decode(mint("--apikey", "k", "--secret", "s", "--ttl", "-2h"), "s")
    assert c["exp"] - c["iat"] == -7200


def test_token_usage_errors_exit_2():
    base = ["--apikey", "k", "--secret", "s"]
    bad = [
        [], ["--apikey", "k"], ["--secret", "s"], base + ["--ttl", "2w"], base + ["--ttl", "h"],
        base + ["--ttl", "1.5h"], base + ["--ttl", "99999999d"], base + ["--permissions", "superuser"],
        base + ["--permissions", ""], base + ["--permissions", "allow_join,"],
        base + ["--roles", "admin"], base + ["--publish", "camera,smell"],
        base + ["--version", "1", "--room", "r"], base + ["--version", "1", "--participant", "p"],
        base + ["--version", "1", "--roles", "rtc"], base + ["--version", "two"],
        base + ["--ttl"], base + ["--frobnicate"],
    ]
    for args in bad:
        cp = parley("token", *args, env={k: v for k, v in os.environ.items()
                                         if k not in ("PARLEY_APIKEY", "PARLEY_SECRET")})
        assert cp.returncode == 2, (args, cp.returncode, cp.stdout)
        assert cp.stdout == "" and cp.stderr.startswith("parley: "), (args, cp.stderr)


def test_cleanup():
    shutil.rmtree(TMP, ignore_errors=True)
    assert not os.path.exists(TMP)


harness.main()

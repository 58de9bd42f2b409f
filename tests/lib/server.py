"""server.py - a real parleyd for tests, and the clients that talk to it.

Server() starts build/server/parleyd on a free loopback port (--listen
127.0.0.1:0; the port is read from its first line of output) with a fresh
data directory, and stop() sends SIGTERM and asserts that it exits with
status 0: under AddressSanitizer a leak at exit makes that fail. Orgs and
keys are made with the real `parley admin`; tokens with the real `parley
token` or, for the hand-crafted bad ones a CLI must never produce (alg none,
HS512, missing claims), with mint() below.

REST helpers use urllib; WebSocket helpers use python3-websockets (10.4 has
no synchronous client, so one asyncio loop drives every connection and the
WS class gives tests a plain blocking API).
"""
import asyncio
import atexit
import base64
import hashlib
import hmac
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import harness
import websockets.client
import websockets.exceptions

LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)
RUNNING = set()  # servers to stop if a test file ends without stopping them


@atexit.register
def _stop_leftovers():
    for s in list(RUNNING):
        s.stop(check=False)


# ---- tokens ---------------------------------------------------------------

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(claims, secret, alg="HS256", header=None):
    """A JWT over claims, signed as alg says (HS256, HS512 or none)."""
    head = {"alg": alg, "typ": "JWT"} if header is None else header
    signing_input = b64url(json.dumps(head)) + "." + b64url(json.dumps(claims))
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


def claims(key, permissions=("allow_join",), version=2, room=None, participant=None, roles=None,
           publish=None, ttl=3600, **extra):
    """The claims of a token for key ({"apikey","secret"}); None drops a claim."""
    now = int(time.time())
    c = {"apikey": key["apikey"], "permissions": list(permissions) if permissions is not None else None,
         "version": version, "iat": now, "exp": now + ttl}
    if room is not None:
        c["roomId"] = room
    if participant is not None:
        c["participantId"] = participant
    if roles is not None:
        c["roles"] = list(roles)
    if publish is not None:
        c["publish"] = list(publish)
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def token(key, **kw):
    return mint(claims(key, **kw), key["secret"])


def cli_token(key, *flags):
    """A token for key ({"apikey","secret"}) minted by the real `parley token` with flags."""
    cp = harness.parley("token", "--apikey", key["apikey"], "--secret", key["secret"], *flags)
    assert cp.returncode == 0, f"parley token {flags}: {cp.stderr}"
    return cp.stdout.strip()


# ---- the server -----------------------------------------------------------

class Server:
    """A parleyd of its own; use as a context manager or call stop()."""

    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="parley-test-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "parleyd.log")
        self._log = open(self.log_path, "w")
        args = [harness.binary("parleyd"), "--listen", "127.0.0.1:0", "--rtc-port", "0", "--data", self.data, *flags]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        if "listening on" not in line:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"parleyd did not start: {line!r} {self.log()[-2000:]}")
        scheme, rest = line.split("listening on ", 1)[1].split("://", 1)
        self.port = int(rest.split()[0].rsplit(":", 1)[1])
        self.tls = scheme == "https"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.ws_url = f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/v1/signaling"
        self.ssl = None
        if self.tls:  # the tests' own self-signed certificate
            self.ssl = ssl.create_default_context()
            self.ssl.check_hostname = False
            self.ssl.verify_mode = ssl.CERT_NONE
        self._orgs = 0
        RUNNING.add(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def log_lines(self):
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def stop(self, check=True):
        """SIGTERM, then the exit status must be 0 (no leak under ASan)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        RUNNING.discard(self)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = "hung"
        proc.stdout.close()
        self._log.close()
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        if check:
            assert rc == 0, f"parleyd exited {rc}:\n{log[-4000:]}"

    # -- accounts, with the real CLI

    def admin(self, *args):
        cp = harness.parley("admin", "--data", self.data, *args)
        assert cp.returncode == 0, f"parley admin {args}: {cp.stderr}"
        return cp.stdout

    def org(self, name=None, *flags):
        """Create an organisation; returns its name."""
        if name is None:
            self._orgs += 1
            name = f"org{self._orgs}"
        self.admin("org", "create", name, *flags)
        return name

    def key(self, org, room=None):
        """A new API key of org: {"apikey", "secret"}."""
        args = ["key", "create", "--org", org, "--json"] + (["--room", room] if room else [])
        k = json.loads(self.admin(*args))
        return {"apikey": k["apikey"], "secret": k["secret"]}

    def account(self, *flags):
        """A new organisation and key; returns the key."""
        return self.key(self.org(None, *flags))

    # -- REST

    def rest(self, method, path, tok=None, body=None, headers=None, raw=None):
        """(status, decoded JSON body)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if tok is not None:
            req.add_header("Authorization", tok)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.ssl) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def admin_token(self, key, **kw):
        kw.setdefault("permissions", ("allow_join", "allow_mod"))
        return token(key, **kw)

    def room(self, key, settings=None, custom=None):
        """Create a room through the API; returns its roomId."""
        body = {}
        if settings is not None:
            body["settings"] = settings
        if custom is not None:
            body["customRoomId"] = custom
        status, r = self.rest("POST", "/v2/rooms", self.admin_token(key), body)
        assert status == 200, (status, r)
        return r["roomId"]

    def errors(self, key, **query):
        q = "&".join(f"{k}={v}" for k, v in query.items())
        status, r = self.rest("GET", "/v2/errors" + ("?" + q if q else ""), self.admin_token(key))
        assert status == 200, (status, r)
        return r["data"]

    # -- signaling

    def ws(self, **kw):
        return WS(self.ws_url, ssl=self.ssl, **kw)

    def join(self, key_or_token, meeting, participant=None, expect="joined", **fields):
        """Open a connection and join; returns (ws, the first answer of type expect)."""
        tok = key_or_token if isinstance(key_or_token, str) else token(key_or_token)
        ws = self.ws()
        msg = {"type": "join", "id": "j1", "token": tok, "meetingId": meeting}
        if participant is not None:
            msg["participantId"] = participant
        msg.update(fields)
        ws.send(msg)
        return ws, ws.wait(expect)

    def parley_join(self, tok, meeting, *args, participant=None, seconds=None):
        """`parley join --json` (libparley) against this server, in the background."""
        return Join(self, tok, meeting, *args, participant=participant, seconds=seconds)

    def assert_serving(self):
        """The server still answers REST and signaling."""
        assert self.rest("GET", "/healthz") == (200, {"ok": True})
        ws = self.ws()
        ws.send({"type": "ping", "id": "alive"})
        assert ws.wait("pong")["id"] == "alive"
        ws.close()


class WS:
    """A blocking WebSocket client speaking JSON."""

    def __init__(self, url, subprotocols=("parley.v1",), origin=None, timeout=5, ssl=None):
        self.history = []
        self.pending = []
        self.conn = LOOP.run_until_complete(websockets.client.connect(
            url, subprotocols=list(subprotocols) if subprotocols else None, origin=origin, ssl=ssl,
            max_size=None, ping_interval=None, open_timeout=timeout, close_timeout=2))

    def send(self, msg):
        """A dict goes as JSON text; str and bytes as they are."""
        data = json.dumps(msg) if isinstance(msg, dict) else msg
        LOOP.run_until_complete(self.conn.send(data))

    def _recv(self, timeout):
        text = LOOP.run_until_complete(asyncio.wait_for(self.conn.recv(), timeout))
        msg = json.loads(text)
        self.history.append(msg)
        return msg

    def next(self, timeout=3):
        """The next message (TimeoutError, or ConnectionClosed when the server closed)."""
        if self.pending:
            return self.pending.pop(0)
        return self._recv(timeout)

    def wait(self, type_, timeout=3, **match):
        """The first message of type_ (with the given field values); others are kept."""
        deadline = time.monotonic() + timeout
        for i, m in enumerate(self.pending):
            if m.get("type") == type_ and all(m.get(k) == v for k, v in match.items()):
                return self.pending.pop(i)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_} {match} within {timeout}s; got {self.history}")
            try:
                m = self._recv(left)
            except asyncio.TimeoutError:
                raise AssertionError(f"no {type_} {match} within {timeout}s; got {self.history}")
            if m.get("type") == type_ and all(m.get(k) == v for k, v in match.items()):
                return m
            self.pending.append(m)

    def error(self, code, timeout=3):
        """The error event with code."""
        return self.wait("error", timeout, code=code)

    def expect_closed(self, timeout=3):
        """The server closes the connection; returns what was still unread."""
        rest = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the server did not close the connection; got {self.history}")
            try:
                rest.append(self._recv(left))
            except websockets.exceptions.ConnectionClosed:
                return self.pending + rest
            except asyncio.TimeoutError:
                continue

    def fatal(self, code, reason, timeout=3, name=None):
        """A fatal error with code, then meeting-left with reason, then the close."""
        e = self.error(code, timeout)
        assert e["fatal"] is True, e
        if name:
            assert e["name"] == name, e
        left = self.wait("meeting-left", timeout)
        assert left["reason"]["code"] == reason, left
        self.expect_closed(timeout)
        return e, left

    def quiet(self, timeout=0.3):
        """Nothing arrives within timeout (returns what did, for the assert)."""
        try:
            return self._recv(timeout)
        except asyncio.TimeoutError:
            return None

    def close(self):
        try:
            LOOP.run_until_complete(asyncio.wait_for(self.conn.close(), 3))
        except Exception:
            pass


class Join:
    """`parley join --json` running in the background; its events as dicts.

    The command prints every libparley event as one JSON line, so a test sees
    exactly what an application sees."""

    def __init__(self, server, tok, meeting, *args, participant=None, seconds=None):
        cmd = [harness.binary("parley"), "join", "--url", server.url, "--token", tok, "--meeting", meeting, "--json"]
        if server.tls:
            cmd.append("--insecure")
        if participant is not None:
            cmd += ["--participant", participant]
        if seconds is not None:
            cmd += ["--seconds", str(seconds)]
        self.proc = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.partial = b""
        self.events = []
        self.seen = 0  # events already matched by wait()
        self.rc = None
        self.stderr = ""

    def _take(self, data):
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        self.events += [json.loads(line) for line in lines if line.strip()]

    def _read(self, timeout):
        """Read what is there; False when nothing came in time, None at EOF."""
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return False
        data = os.read(fd, 65536)
        if not data:
            return None
        self._take(data)
        return True

    def wait(self, event, timeout=10, **match):
        """The next event named event (with those field values) after the last one waited for."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self.seen, len(self.events)):
                e = self.events[i]
                if e["event"] == event and all(e.get(k) == v for k, v in match.items()):
                    self.seen = i + 1
                    return e
            left = deadline - time.monotonic()
            if left <= 0 or self._read(left) is None:
                raise AssertionError(f"no {event} {match}; got {self.events} {self.stderr}")

    def finish(self, timeout=20):
        """Wait for the exit; returns the exit status."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self._take(out + b"\n")
        self.stderr += err.decode(errors="replace")
        self.rc = self.proc.returncode
        return self.rc

    def stop(self):
        """SIGTERM (which leaves the meeting cleanly), then the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.finish()

    def names(self):
        return [e["event"] for e in self.events]

    def errors(self):
        return [e for e in self.events if e["event"] == "error"]

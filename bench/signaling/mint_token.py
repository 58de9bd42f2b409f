#!/usr/bin/env python3
"""mint_token.py - an HS256 Parley token for the benchmark, when `parley token` is not there.

Usage: mint_token.py APIKEY SECRET [TTL_SECONDS]

Claims (docs/protocol.md §1): apikey, permissions ["allow_join"], version 2,
iat, exp. No roles claim: the token may both join and use the REST API.
"""
import base64
import hashlib
import hmac
import json
import sys
import time


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(apikey, secret, ttl=7200):
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"apikey": apikey, "permissions": ["allow_join"], "version": 2,
                           "iat": now, "exp": now + ttl}, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print(mint(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 7200))

"""Large documents in Python and Node (issue 17): a policy of 200,000 roles
(~15 MB of JSON) and a JWKS of 50,000 RSA keys (~21 MB), each loaded from
JSON text and from a parsed value, in the same run so that only the ratio
Node/Python means anything on a shared machine.

    python run.py [--write BENCHMARKS.md]   (or `make bench-large`)

Times are CPU seconds (`time.process_time`, Node's `process.cpuUsage`), the
least of three runs, each run in a fresh process.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ROLES = 200_000
KEYS = 50_000
RUNS = 3
HERE = os.path.dirname(os.path.abspath(__file__))
POLICY_JWT = {"version": 1, "roles": {}, "tokens": {"jwt": {"issuers": ["https://rs.example"], "token_use": None,
              "client_ids": None, "audiences": ["svc"], "algorithms": ["RS256"]}}}


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def documents(tmp: str) -> dict[str, str]:
    roles = {f"r{i}": {"inherits": [f"r{i - 1}"] if i else [], "permissions": [f"read_device:d{i}"]} for i in range(ROLES)}
    rng = random.Random(7)
    keys = []
    for i in range(KEYS - 1):
        n = bytearray(rng.getrandbits(8) for _ in range(256))
        n[0] |= 0x80
        n[-1] |= 1
        keys.append({"kty": "RSA", "kid": f"k{i}", "use": "sig", "alg": "RS256", "n": b64(bytes(n)), "e": "AQAB"})
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys.append({"kty": "RSA", "kid": "rs-1", "use": "sig", "alg": "RS256",
                 "n": b64(priv.public_key().public_numbers().n.to_bytes(256, "big")), "e": "AQAB"})
    token = jwt.encode({"iss": "https://rs.example", "sub": "svc-1", "aud": "svc", "iat": 1_700_000_000,
                        "exp": 1_700_000_060}, priv, algorithm="RS256", headers={"kid": "rs-1"})
    paths = {"policy": os.path.join(tmp, "policy.json"), "jwks": os.path.join(tmp, "jwks.json"),
             "token": os.path.join(tmp, "token.txt"), "jwt_policy": os.path.join(tmp, "jwt-policy.json")}
    for what, doc in (("policy", {"version": 1, "roles": roles}), ("jwks", {"keys": keys}), ("jwt_policy", POLICY_JWT)):
        with open(paths[what], "w") as f:
            json.dump(doc, f)
    with open(paths["token"], "w") as f:
        f.write(token)
    return paths


PY_ONE = r"""
import json, sys, time, tessera
p = json.loads(sys.argv[1])
out = {}
token = open(p["token"]).read()
text = open(p["policy"]).read()
s = time.process_time(); tessera.Engine.from_json(text); out["policy_text"] = time.process_time() - s
value = json.loads(text); text = None
s = time.process_time(); tessera.Engine(value); out["policy_value"] = time.process_time() - s
value = None
jwks_text = open(p["jwks"]).read()
s = time.process_time(); tessera.Engine.from_path(p["jwt_policy"]).verify_jwt(token, jwks_text, now=1700000000); out["jwks_text"] = time.process_time() - s
jwks = json.loads(jwks_text)
s = time.process_time(); tessera.Engine.from_path(p["jwt_policy"]).verify_jwt(token, jwks, now=1700000000); out["jwks_value"] = time.process_time() - s
print(json.dumps(out))
"""


def best(cmd: list[str]) -> dict[str, float]:
    runs = [json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout) for _ in range(RUNS)]
    return {k: min(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = documents(tmp)
        sizes = {k: os.path.getsize(paths[k]) / 1e6 for k in ("policy", "jwks")}
        py = best([sys.executable, "-c", PY_ONE, json.dumps(paths)])
        node = best(["node", os.path.join(HERE, "node.mjs"), json.dumps(paths)])
    rows = [("policy_text", f"policy of {ROLES:,} roles ({sizes['policy']:.1f} MB), from JSON text"),
            ("policy_value", f"policy of {ROLES:,} roles, from a parsed value (dict / object)"),
            ("jwks_text", f"verify_jwt with a JWKS of {KEYS:,} RSA keys ({sizes['jwks']:.1f} MB), as JSON text"),
            ("jwks_value", f"verify_jwt with a JWKS of {KEYS:,} RSA keys, as a parsed value")]
    load = os.getloadavg()[0]
    table = ["| document | Python | Node | Node / Python (target ≤ 2×) |", "| --- | ---: | ---: | ---: |"]
    for key, what in rows:
        table.append(f"| {what} | {py[key]:.2f} s | {node[key]:.2f} s | {node[key] / py[key]:.2f}× |")
    text = "\n".join(table) + f"\n\nLoad average {load:.1f} while this ran (CPU time, least of {RUNS} runs).\n"
    print(text)
    if "--write" in sys.argv:
        target = sys.argv[sys.argv.index("--write") + 1]
        with open(target) as f:
            doc = f.read()
        start, end = "<!-- large-documents:start -->", "<!-- large-documents:end -->"
        doc = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{text}{end}", doc, flags=re.S)
        with open(target, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()

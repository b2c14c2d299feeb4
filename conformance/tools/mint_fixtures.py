#!/usr/bin/env python3
"""Mints the token conformance vectors with an independent JOSE implementation.

Every token in the token vector files (provider JWTs, session tokens the core
must reproduce byte for byte, API token secrets) and every expected answer is
made here, from SPEC section 6, with PyPI `cryptography` and `pyjwt` -- never
by the Rust core -- so the core is checked against tokens it did not make.

    python3 -m venv /tmp/mintvenv
    /tmp/mintvenv/bin/pip install cryptography pyjwt
    /tmp/mintvenv/bin/python conformance/tools/mint_fixtures.py

Writes (all committed, so tests need no Python):
    conformance/fixtures/keys.json          the private keys, made once, then reused
    conformance/vectors/jwt_cognito.json    Cognito access/ID tokens, RS256, every claim check
    conformance/vectors/jwt_structure.json  size, segments, base64url, JSON, alg, crit, keys
    conformance/vectors/jwt_options.json    leeway, max age, claim names, ES256/ES384/EdDSA
    conformance/vectors/jwt_hmac.json       HS256 provider tokens and key strength
    conformance/vectors/session_hs256.json  sessions signed with an HMAC secret
    conformance/vectors/session_eddsa.json  sessions signed with Ed25519
    conformance/vectors/api_token_verify.json
    conformance/vectors/authorization.json

Every signature is deterministic (RSA PKCS#1 v1.5, HMAC, Ed25519, RFC 6979
ECDSA), so running this again with the same keys rewrites identical files.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

import jwt  # pyjwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "conformance", "fixtures")
VECTORS = os.path.join(ROOT, "conformance", "vectors")

NOW = 1_700_000_000
REGION_POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
CLIENT = "5g3qt5mitfa4q1jlrlibeviedn"
SESSION_TYP = "tessera-session+jwt"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def int_b64(n: int, size: int = 0) -> str:
    length = max(size, (n.bit_length() + 7) // 8)
    return b64(n.to_bytes(length, "big"))


def compact_json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------- keys


def load_or_make_keys():
    path = os.path.join(FIXTURES, "keys.json")
    if os.path.exists(path):
        with open(path) as f:
            stored = json.load(f)
    else:
        stored = {}
    makers = {
        "rsa-1": lambda: rsa.generate_private_key(65537, 2048),
        "rsa-2": lambda: rsa.generate_private_key(65537, 2048),
        "rsa-attacker": lambda: rsa.generate_private_key(65537, 2048),
        "rsa-weak": lambda: rsa.generate_private_key(65537, 1024),
        "ec-256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "ec-384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "ed-1": lambda: ed25519.Ed25519PrivateKey.generate(),
        "ed-session": lambda: ed25519.Ed25519PrivateKey.generate(),
    }
    keys = {}
    changed = False
    for kid, make in makers.items():
        if kid in stored:
            keys[kid] = serialization.load_pem_private_key(stored[kid].encode(), None)
        else:
            keys[kid] = make()
            stored[kid] = (
                keys[kid]
                .private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                .decode()
            )
            changed = True
    for name, size in [("hs-provider", 32), ("hs-short", 16), ("hs-session", 32), ("hs-other", 32)]:
        if name not in stored:
            stored[name] = b64(os.urandom(size))
            changed = True
        keys[name] = base64.urlsafe_b64decode(stored[name] + "=" * (-len(stored[name]) % 4))
    if changed:
        os.makedirs(FIXTURES, exist_ok=True)
        with open(path, "w") as f:
            json.dump(stored, f, indent=2, sort_keys=True)
            f.write("\n")
    return keys


def public_jwk(kid, key, **extra):
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": kid, "n": int_b64(numbers.n), "e": int_b64(numbers.e)}
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = key.public_key().public_numbers()
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384"}[key.curve.name]
        jwk = {"kty": "EC", "kid": kid, "crv": crv, "x": int_b64(numbers.x, size), "y": int_b64(numbers.y, size)}
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(raw)}
    else:
        jwk = {"kty": "oct", "kid": kid, "k": b64(key)}
    jwk.update(extra)
    return jwk


def private_okp_jwk(key):
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "d": b64(raw), "x": b64(pub)}


# ---------------------------------------------------------------- signing


def sign(alg, key, data: bytes) -> bytes:
    if alg in ("RS256", "RS384", "RS512"):
        h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        return key.sign(data, padding.PKCS1v15(), h)
    if alg in ("ES256", "ES384"):
        h = hashes.SHA256() if alg == "ES256" else hashes.SHA384()
        size = 32 if alg == "ES256" else 48
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h, deterministic_signing=True)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return key.sign(data)
    if alg in ("HS256", "HS384", "HS512"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        return hmac.new(key, data, digest).digest()
    raise ValueError(alg)


def raw_jws(header, payload, key, alg):
    """A compact JWS from exact header/payload bytes (or dicts), signed by hand."""
    h = header if isinstance(header, bytes) else compact_json(header)
    p = payload if isinstance(payload, bytes) else compact_json(payload)
    signing_input = b64(h) + "." + b64(p)
    return signing_input + "." + b64(sign(alg, key, signing_input.encode()))


def pyjwt_token(claims, key, alg, kid=None, extra_headers=None):
    """A JWT made by PyJWT (sorted header keys, claims in the order given)."""
    headers = {}
    if kid is not None:
        headers["kid"] = kid
    if extra_headers:
        headers.update(extra_headers)
    return jwt.encode(claims, key, algorithm=alg, headers=headers or None)


# ---------------------------------------------------------------- expectations


def claim(claims, name, default=None):
    """SPEC 6.1: a name starting with `/` is a JSON Pointer (RFC 6901), else one member."""
    if not name.startswith("/"):
        return claims.get(name, default)
    at = claims
    for token in name[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(at, dict) and token in at:
            at = at[token]
        elif isinstance(at, list) and token.isdigit() and (token == "0" or not token.startswith("0")) and int(token) < len(at):
            at = at[int(token)]
        else:
            return default
    return at


def words(value):
    """groups and scopes: a space-separated string or an array of strings."""
    return value.split() if isinstance(value, str) else value


def jwt_principal(claims, policy, id_claim="sub", groups_claim="cognito:groups", scopes_claim="scope", exp=None):
    """The principal SPEC 6.1 says a verified provider JWT maps to."""
    groups = words(claim(claims, groups_claim, []))
    roles = []
    for g in groups:
        for r in policy.get("groups", {}).get(g, []):
            if r not in roles:
                roles.append(r)
    scopes = words(claim(claims, scopes_claim, []))
    expires = claims["exp"] if exp is None else exp
    return {
        "id": claim(claims, id_claim),
        "roles": roles,
        "groups": groups,
        "permissions": [],
        "scopes": scopes,
        "credential": "jwt",
        "expires_at": expires,
        "claims": claims,
    }


def err(code):
    return {"error": code}


def case(name, spec, op, expect, **inputs):
    out = {"name": name, "spec": spec, "op": op}
    out.update(inputs)
    out["expect"] = expect
    return out


def write(name, about, policy, cases):
    names = [c["name"] for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        sys.exit(f"{name}: duplicate case names {sorted(dupes)}")
    doc = {"name": name, "about": about, "policy": policy, "cases": cases}
    path = os.path.join(VECTORS, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{path}: {len(cases)} cases")
    return len(cases)


# ---------------------------------------------------------------- provider JWTs

ROLES = {
    "user": {"permissions": ["read_own_device"]},
    "admin": {"inherits": ["user"], "permissions": ["admin_device"]},
    "manager": {"permissions": ["read_device"]},
}
GROUPS = {"administrators": ["admin"], "managers": ["manager", "user"]}


def cognito_access(iat=NOW - 60, exp=None, **over):
    claims = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["administrators", "managers"],
        "iss": REGION_POOL,
        "version": 2,
        "client_id": CLIENT,
        "origin_jti": "11111111-2222-3333-4444-555555555555",
        "event_id": "66666666-7777-8888-9999-000000000000",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin openid profile",
        "auth_time": iat,
        "exp": iat + 3600 if exp is None else exp,
        "iat": iat,
        "jti": "abcdefab-cdef-abcd-efab-cdefabcdefab",
        "username": "alice",
    }
    if exp is DROP:
        del claims["exp"]
    return apply(claims, over)


def cognito_id(iat=NOW - 60, **over):
    claims = {
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["managers"],
        "email_verified": True,
        "iss": REGION_POOL,
        "cognito:username": "alice",
        "origin_jti": "11111111-2222-3333-4444-555555555555",
        "aud": CLIENT,
        "event_id": "66666666-7777-8888-9999-000000000000",
        "token_use": "id",
        "auth_time": iat,
        "exp": iat + 3600,
        "iat": iat,
        "jti": "bcdefabc-defa-bcde-fabc-defabcdefabc",
        "email": "alice@example.com",
    }
    return apply(claims, over)


def apply(claims, over):
    for k, v in over.items():
        k = k.replace("__", ":")
        if v is DROP:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


DROP = object()


def jwt_cognito(keys):
    policy = {
        "version": 1,
        "roles": ROLES,
        "groups": GROUPS,
        "tokens": {
            "jwt": {
                "issuers": [REGION_POOL],
                "client_ids": [CLIENT],
                "audiences": [CLIENT],
                "token_use": ["access", "id"],
                "algorithms": ["RS256"],
                "leeway_seconds": 0,
                "max_age_seconds": None,
            }
        },
    }
    rsa1, rsa2 = keys["rsa-1"], keys["rsa-2"]
    jwks = {"keys": [public_jwk("rsa-1", rsa1, alg="RS256", use="sig"), public_jwk("rsa-2", rsa2, alg="RS256", use="sig")]}
    one = {"keys": [public_jwk("rsa-1", rsa1, alg="RS256", use="sig")]}
    cases = []

    def ok(name, spec, claims, now=NOW, key=rsa1, kid="rsa-1", keyset=jwks, **kw):
        token = pyjwt_token(claims, key, "RS256", kid=kid)
        cases.append(case(name, spec, "verify_jwt", jwt_principal(claims, policy, **kw), token=token, keys=keyset, now=now))

    def bad(name, spec, code, claims, now=NOW, key=rsa1, kid="rsa-1", keyset=jwks):
        # By hand: PyJWT refuses to encode some of these wrongly typed claims.
        token = raw_jws({"alg": "RS256"} if kid is None else {"alg": "RS256", "kid": kid}, claims, key, "RS256")
        cases.append(case(name, spec, "verify_jwt", err(code), token=token, keys=keyset, now=now))

    access = cognito_access()
    ok("cognito access token", "§6.1 Cognito access token: client_id, token_use, groups to roles, scope", access)
    ok("cognito id token", "§6.1 Cognito ID token: aud, token_use id", cognito_id())
    ok("second key of the set (rotation)", "§6.1 kid names one key of the JWKS", cognito_access(), key=rsa2, kid="rsa-2")
    ok("no kid, single-key JWKS", "§6.1 without kid only a JWKS of exactly one usable key", cognito_access(), kid=None, keyset=one)
    bad("no kid, two-key JWKS", "§6.1 without kid only a JWKS of exactly one usable key", "unknown_key", cognito_access(), kid=None)
    bad("kid not in the JWKS", "§6.1 kid lookup", "unknown_key", cognito_access(), kid="rsa-9")
    bad("signed by another key under a known kid", "§6.1 signature", "bad_signature", cognito_access(), key=keys["rsa-attacker"])

    # exp: valid only while now < exp (leeway 0)
    exp = NOW + 100
    claims = cognito_access(exp=exp)
    ok("exp: one second before", "§6.1 exp boundary: now = exp - 1 is valid", claims, now=exp - 1)
    bad("exp: at exp", "§6.1 exp boundary: now = exp is expired", "expired", claims, now=exp)
    bad("exp: after exp", "§6.1 exp boundary", "expired", claims, now=exp + 1)
    frac = cognito_access(exp=exp + 0.5)
    ok("exp: fractional, before", "§6.1 exp boundary with a fractional NumericDate", frac, now=exp, exp=exp + 1)
    bad("exp: fractional, after", "§6.1 exp boundary with a fractional NumericDate", "expired", frac, now=exp + 1)
    bad("exp missing", "§6.1 exp required", "missing_claim", cognito_access(exp=DROP))
    bad("exp a string", "§6.1 claims typed", "missing_claim", cognito_access(exp=str(NOW + 100)))
    bad("exp expired and issuer wrong", "§6.1 order: exp before iss", "expired", cognito_access(exp=NOW, iss="https://evil.example"), now=NOW)

    # iat: iat <= now
    iat = NOW
    claims = cognito_access(iat=iat)
    ok("iat: at now", "§6.1 iat boundary: iat = now is valid", claims, now=iat)
    bad("iat: one second ahead", "§6.1 iat boundary: iat = now + 1 is not yet valid", "not_yet_valid", claims, now=iat - 1)
    bad("iat not a number", "§6.1 claims typed", "missing_claim", dict(cognito_access(), iat="yesterday"))

    # nbf: now >= nbf
    nbf = NOW + 10
    claims = cognito_access(iat=NOW - 60, nbf=nbf)
    ok("nbf: at nbf", "§6.1 nbf boundary: now = nbf is valid", claims, now=nbf)
    bad("nbf: one second before", "§6.1 nbf boundary: now = nbf - 1 is not yet valid", "not_yet_valid", claims, now=nbf - 1)

    bad("issuer of another pool", "§6.1 iss exactly one of issuers", "wrong_issuer", cognito_access(iss=REGION_POOL[:-7] + "Other"))
    bad("issuer with a trailing slash", "§6.1 iss compared exactly", "wrong_issuer", cognito_access(iss=REGION_POOL + "/"))
    bad("issuer missing", "§6.1 iss required", "missing_claim", cognito_access(iss=DROP))
    bad("issuer not a string", "§6.1 claims typed", "missing_claim", cognito_access(iss=[REGION_POOL]))

    bad("token_use refresh", "§6.1 token_use in token_use", "wrong_token_use", cognito_access(token_use="refresh"))
    bad("token_use missing", "§6.1 token_use required when configured", "missing_claim", cognito_access(token_use=DROP))
    bad("access token of another client", "§6.1 access tokens: client_id in client_ids", "wrong_client", cognito_access(client_id="otherclient"))
    bad("access token without client_id", "§6.1 access tokens: client_id required", "missing_claim", cognito_access(client_id=DROP))
    bad("access token with aud but no client_id", "§6.1 access tokens are checked by client_id, not aud", "missing_claim", cognito_access(client_id=DROP, aud=CLIENT))
    bad("id token for another client", "§6.1 ID tokens: aud in audiences", "wrong_audience", cognito_id(aud="otherclient"))
    ok("id token with aud array", "§6.1 ID tokens: aud may be an array", cognito_id(aud=["otherclient", CLIENT]))
    bad("id token with client_id but no aud", "§6.1 ID tokens are checked by aud, not client_id", "missing_claim", cognito_id(aud=DROP, client_id=CLIENT))
    bad("id token aud a number", "§6.1 claims typed", "missing_claim", cognito_id(aud=5))

    bad("sub missing", "§6.1 id claim required", "missing_claim", cognito_access(sub=DROP))
    ok("groups a string", "§6.1 groups may be a space-separated string", cognito_access(cognito__groups="administrators managers"))
    bad("groups a number", "§6.1 groups claim typed", "missing_claim", cognito_access(cognito__groups=7))
    bad("groups an array with a number", "§6.1 groups claim typed", "missing_claim", cognito_access(cognito__groups=["administrators", 7]))
    ok("no groups", "§6.1 groups claim optional", cognito_access(cognito__groups=DROP))
    ok("unknown group", "§6.1 a group the policy does not map gives no role", cognito_access(cognito__groups=["strangers"]))

    session_like = raw_jws(
        {"alg": "RS256", "typ": SESSION_TYP, "kid": "rsa-1"}, cognito_access(), rsa1, "RS256"
    )
    cases.append(case("session token given as provider JWT", "§6.2 a session token is never accepted as a provider JWT",
                      "verify_jwt", err("wrong_token_use"), token=session_like, keys=jwks, now=NOW))
    return write("jwt_cognito", "SPEC §6.1 with a Cognito user pool: access and ID tokens as AWS documents them (RS256, kid, iss, token_use, client_id vs aud), exp/nbf/iat boundaries to the second, claim types. Tokens minted by PyJWT (conformance/tools/mint_fixtures.py).", policy, cases)


def jwt_structure(keys):
    policy = {
        "version": 1,
        "roles": ROLES,
        "groups": GROUPS,
        "tokens": {"jwt": {"issuers": [REGION_POOL], "client_ids": [CLIENT], "token_use": ["access"], "algorithms": ["RS256", "ES256"]}},
    }
    rsa1 = keys["rsa-1"]
    ec256 = keys["ec-256"]
    jwks = {
        "keys": [
            public_jwk("rsa-1", rsa1, use="sig"),
            public_jwk("rsa-384", keys["rsa-2"], alg="RS384"),
            public_jwk("rsa-enc", keys["rsa-2"], use="enc"),
            public_jwk("rsa-noverify", keys["rsa-2"], key_ops=["encrypt"]),
            public_jwk("rsa-weak", keys["rsa-weak"]),
            public_jwk("ec-256", ec256),
            public_jwk("ec-384", keys["ec-384"]),
        ]
    }
    claims = cognito_access()
    header = {"alg": "RS256", "kid": "rsa-1"}
    good = raw_jws(header, claims, rsa1, "RS256")
    h, p, s = good.split(".")
    cases = []

    def add(name, spec, expect, token, keyset=jwks, now=NOW):
        cases.append(case(name, spec, "verify_jwt", expect, token=token, keys=keyset, now=now))

    add("well formed", "§6.1 a valid RS256 token", jwt_principal(claims, policy), good)

    # size: at most 16 KiB
    def sized(total):
        for pad in range(total):
            c = dict(claims, pad="x" * pad)
            t = raw_jws(header, c, rsa1, "RS256")
            if len(t) == total:
                return t, c
            if len(t) > total:
                break
        for pad in range(total):
            c = dict(claims, pad="x" * pad)
            t = raw_jws(dict(header, x="y"), c, rsa1, "RS256")
            if len(t) == total:
                return t, c
        raise SystemExit(f"cannot make a token of exactly {total} bytes")

    t, c = sized(16384)
    add("exactly 16 KiB", "§6.1 at most 16 KiB: 16384 bytes accepted", jwt_principal(c, policy), t)
    t, _ = sized(16385)
    add("16 KiB and one byte", "§6.1 at most 16 KiB: 16385 bytes refused", err("too_large"), t)
    add("far too large, not even a JWT", "§6.1 size checked first", err("too_large"), "x" * 20000)

    # segments and base64url
    add("two segments", "§6.1 three segments", err("malformed"), h + "." + p)
    add("four segments", "§6.1 three segments", err("malformed"), good + ".x")
    add("empty string", "§6.1 three segments", err("malformed"), "")
    add("empty signature", "§6.1 three segments", err("malformed"), h + "." + p + ".")
    add("padded payload", "§6.1 base64url without padding", err("malformed"), h + "." + p + "=" * (-len(p) % 4 or 4) + "." + s)
    add("standard base64 alphabet", "§6.1 base64url alphabet", err("malformed"), good.replace("-", "+").replace("_", "/") if ("-" in good or "_" in good) else h + "." + p + "+." + s)
    add("white space inside", "§6.1 canonical base64url", err("malformed"), h + "." + p[:10] + " " + p[10:] + "." + s)

    # non-canonical: a last character whose unused bits are not zero
    def noncanonical(seg):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        rem = len(seg) % 4
        unused = {2: 4, 3: 2}[rem]
        last = alphabet.index(seg[-1])
        return seg[:-1] + alphabet[last | 1] if (last & ((1 << unused) - 1)) == 0 else seg

    hdr_sig_token = raw_jws(header, claims, rsa1, "RS256")
    hh, hp, hs = hdr_sig_token.split(".")
    if len(hs) % 4 in (2, 3):
        add("signature with non-zero unused bits", "§6.1 canonical base64url", err("malformed"), hh + "." + hp + "." + noncanonical(hs))
    odd_header = {"alg": "RS256", "kid": "rsa-1", "x": "ab"}
    for extra in ["a", "ab", "abc", "abcd"]:
        oh = dict(header, x=extra)
        seg = b64(compact_json(oh))
        if len(seg) % 4 in (2, 3):
            odd_header = oh
            break
    ot = raw_jws(odd_header, claims, rsa1, "RS256")
    oh_, op_, os_ = ot.split(".")
    add("header with non-zero unused bits", "§6.1 canonical base64url", err("malformed"), noncanonical(oh_) + "." + op_ + "." + os_)

    # JSON
    dup_payload = compact_json(claims)[:-1] + b',"sub":"someone-else"}'
    add("duplicate claim, validly signed", "§6.1 payload JSON without duplicate keys", err("malformed"), raw_jws(header, dup_payload, rsa1, "RS256"))
    dup_header = b'{"alg":"RS256","kid":"rsa-1","kid":"rsa-1"}'
    add("duplicate header member", "§6.1 header JSON without duplicate keys", err("malformed"), raw_jws(dup_header, claims, rsa1, "RS256"))
    nested = compact_json(dict(claims, extra={"a": 1}))[:-2] + b',"a":2}}'
    add("duplicate key in a nested claim", "§6.1 JSON without duplicate keys (any depth)", err("malformed"), raw_jws(header, nested, rsa1, "RS256"))
    add("payload a JSON array", "§6.1 payload a JSON object", err("malformed"), raw_jws(header, b"[1,2]", rsa1, "RS256"))
    add("payload not JSON", "§6.1 payload a JSON object", err("malformed"), raw_jws(header, b"foo", rsa1, "RS256"))
    add("header not JSON", "§6.1 header a JSON object", err("malformed"), raw_jws(b"alg=RS256", claims, rsa1, "RS256"))
    add("header without alg", "§6.1 header needs alg", err("malformed"), raw_jws({"kid": "rsa-1"}, claims, rsa1, "RS256"))

    # algorithms
    add("alg none", "§6.1 never none", err("unsupported_alg"), b64(b'{"alg":"none"}') + "." + p + ".c2ln")
    add("alg none, empty signature", "§6.1 alg none is unsupported_alg whatever the signature segment holds (empty)", err("unsupported_alg"), b64(b'{"alg":"none"}') + "." + p + ".")
    add("alg none, signature not base64url", "§6.1 alg none is unsupported_alg whatever the signature segment holds", err("unsupported_alg"), b64(b'{"alg":"none","kid":"rsa-1"}') + "." + p + ".!!")
    add("alg NONE", "§6.1 never none, in any case", err("unsupported_alg"), b64(b'{"alg":"NONE","kid":"rsa-1"}') + "." + p + ".c2ln")
    add("alg not in the allow-list", "§6.1 alg in algorithms", err("unsupported_alg"), raw_jws({"alg": "RS512", "kid": "rsa-1"}, claims, rsa1, "RS512"))
    add("alg rs256 lower case", "§6.1 alg names are case-sensitive", err("unsupported_alg"), raw_jws({"alg": "rs256", "kid": "rsa-1"}, claims, rsa1, "RS256"))
    add("JWK alg differs", "§6.1 alg equal to the JWK's alg", err("unsupported_alg"), raw_jws({"alg": "RS256", "kid": "rsa-384"}, claims, keys["rsa-2"], "RS256"))
    add("RSA alg on an EC key", "§6.1 alg of the key's type", err("unsupported_alg"), raw_jws({"alg": "RS256", "kid": "ec-256"}, claims, rsa1, "RS256"))
    add("ES256 on a P-384 key", "§6.1 alg of the key's curve", err("unsupported_alg"), raw_jws({"alg": "ES256", "kid": "ec-384"}, claims, ec256, "ES256"))
    es = raw_jws({"alg": "ES256", "kid": "ec-256"}, claims, ec256, "ES256")
    add("ES256 token", "§6.1 EC P-256", jwt_principal(claims, policy), es)
    ehs = raw_jws({"alg": "HS256", "kid": "rsa-1"}, claims, compact_json(public_jwk("rsa-1", rsa1)), "HS256")
    add("HS256 keyed with the RSA public key", "§6.1 no HS/RS confusion", err("unsupported_alg"), ehs)
    add("crit present", "§6.1 crit is never understood", err("unsupported_crit"), raw_jws({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"]}, claims, rsa1, "RS256"))
    add("crit with b64", "§6.1 crit (RFC 7797 b64) refused", err("unsupported_crit"), raw_jws({"alg": "RS256", "kid": "rsa-1", "b64": False, "crit": ["b64"]}, claims, rsa1, "RS256"))
    add("crit checked before the key", "§6.1 order: crit before kid", err("unsupported_crit"), raw_jws({"alg": "RS256", "kid": "nope", "crit": ["x"]}, claims, rsa1, "RS256"))

    # keys
    add("key for encryption", "§6.1 a key with use other than sig is unusable", err("unknown_key"), raw_jws({"alg": "RS256", "kid": "rsa-enc"}, claims, keys["rsa-2"], "RS256"))
    add("key_ops without verify", "§6.1 key not for verification", err("unknown_key"), raw_jws({"alg": "RS256", "kid": "rsa-noverify"}, claims, keys["rsa-2"], "RS256"))
    add("RSA 1024", "§6.1 RSA keys under 2048 bits refused", err("weak_key"), raw_jws({"alg": "RS256", "kid": "rsa-weak"}, claims, keys["rsa-weak"], "RS256"))
    embedded = dict(header, jwk=public_jwk("rsa-1", keys["rsa-attacker"]))
    add("embedded jwk is ignored", "§6.1 jwk header never trusted", err("bad_signature"), raw_jws(embedded, claims, keys["rsa-attacker"], "RS256"))
    add("jku is ignored", "§6.1 jku never trusted", err("bad_signature"), raw_jws(dict(header, jku="https://evil.example/jwks"), claims, keys["rsa-attacker"], "RS256"))

    # signature
    tampered = h + "." + b64(compact_json(dict(claims, sub="mallory"))) + "." + s
    add("payload swapped", "§6.1 signature", err("bad_signature"), tampered)
    add("signature truncated", "§6.1 signature", err("bad_signature"), h + "." + p + "." + b64(base64.urlsafe_b64decode(s + "==")[:-1]))
    add("signature of another token", "§6.1 signature", err("bad_signature"), h + "." + p + "." + es.split(".")[2])
    add("JWKS with mixed secret and public keys", "§6.1 JWKS shape (a host mistake)", err("invalid_argument"), good,
        keyset={"keys": [public_jwk("rsa-1", rsa1), public_jwk("hs", keys["hs-provider"])]})
    add("JWKS with a duplicate kid", "§6.1 kid names one key", err("invalid_argument"), good,
        keyset={"keys": [public_jwk("rsa-1", rsa1), public_jwk("rsa-1", keys["rsa-2"])]})
    add("not a JWKS", "§6.1 JWKS shape", err("invalid_argument"), good, keyset=[public_jwk("rsa-1", rsa1)])
    return write("jwt_structure", "SPEC §6.1 checks before the claims: size, segments, canonical base64url, JSON without duplicate keys, algorithm allow-list and key agreement, crit, key selection and strength, signature; in SPEC order. Tokens minted with `cryptography` (conformance/tools/mint_fixtures.py).", policy, cases)


def jwt_options(keys):
    policy = {
        "version": 1,
        "roles": ROLES,
        "groups": {"staff": ["user"]},
        "tokens": {
            "jwt": {
                "issuers": ["https://login.example.com/", "https://other.example.com"],
                "client_ids": None,
                "audiences": ["api://tessera"],
                "token_use": None,
                "algorithms": ["ES256", "ES384", "EdDSA", "RS256"],
                "leeway_seconds": 30,
                "max_age_seconds": 3600,
                "claims": {"id": "username", "groups": "groups", "scopes": "scp"},
            }
        },
    }
    jwks = {"keys": [public_jwk("ec-256", keys["ec-256"]), public_jwk("ec-384", keys["ec-384"]), public_jwk("ed-1", keys["ed-1"]), public_jwk("rsa-1", keys["rsa-1"])]}
    names = dict(id_claim="username", groups_claim="groups", scopes_claim="scp")

    def claims(**over):
        c = {
            "iss": "https://login.example.com/",
            "sub": "0001",
            "username": "bob",
            "aud": "api://tessera",
            "groups": ["staff"],
            "scp": ["read", "write"],
            "auth_time": NOW - 600,
            "iat": NOW - 60,
            "exp": NOW + 600,
        }
        return apply(c, over)

    cases = []

    def add(name, spec, c, now=NOW, alg="ES256", kid="ec-256", expect=None):
        key = {"ec-256": keys["ec-256"], "ec-384": keys["ec-384"], "ed-1": keys["ed-1"], "rsa-1": keys["rsa-1"]}[kid]
        token = raw_jws({"alg": alg, "kid": kid, "typ": "JWT"}, c, key, alg)
        if expect is None:
            expect = jwt_principal(c, policy, **names)
        cases.append(case(name, spec, "verify_jwt", expect, token=token, keys=jwks, now=now))

    add("ES256 with custom claim names", "§6.1 claim names configurable; scope array", claims())
    add("ES384", "§6.1 EC P-384", claims(), alg="ES384", kid="ec-384")
    add("EdDSA", "§6.1 Ed25519", claims(), alg="EdDSA", kid="ed-1")
    add("RS256 in a mixed public JWKS", "§6.1 RSA and EC keys in one set", claims(), alg="RS256", kid="rsa-1")
    add("second issuer", "§6.1 iss one of issuers", claims(iss="https://other.example.com"))
    add("token_use not required", "§6.1 token_use: null skips the check; aud is checked", claims())
    add("aud not accepted", "§6.1 aud in audiences", claims(aud="api://else"), expect=err("wrong_audience"))
    add("custom id claim missing", "§6.1 id claim required", claims(username=DROP), expect=err("missing_claim"))
    add("scp a string is split", "§6.1 scopes from a space-delimited string", claims(scp="read  write"))
    add("scp a number", "§6.1 claims typed", claims(scp=7), expect=err("missing_claim"))
    exp = NOW + 100
    add("leeway: exp + 29", "§6.1 exp with leeway: now < exp + leeway", claims(exp=exp), now=exp + 29)
    add("leeway: exp + 30", "§6.1 exp with leeway: now = exp + leeway is expired", claims(exp=exp), now=exp + 30, expect=err("expired"))
    add("leeway: nbf - 30", "§6.1 nbf with leeway: now >= nbf - leeway", claims(nbf=NOW + 30), now=NOW)
    add("leeway: nbf - 31", "§6.1 nbf with leeway", claims(nbf=NOW + 31), now=NOW, expect=err("not_yet_valid"))
    add("leeway: iat + 30", "§6.1 iat with leeway: iat <= now + leeway", claims(iat=NOW + 30), now=NOW)
    add("leeway: iat + 31", "§6.1 iat with leeway", claims(iat=NOW + 31), now=NOW, expect=err("not_yet_valid"))
    add("max age: exactly at the limit plus leeway", "§6.1 auth_time within max_age_seconds (+ leeway)", claims(auth_time=NOW - 3630))
    add("max age: one second over", "§6.1 auth_time within max_age_seconds", claims(auth_time=NOW - 3631), expect=err("too_old"))
    add("max age: auth_time missing", "§6.1 auth_time required when max_age_seconds is set", claims(auth_time=DROP), expect=err("missing_claim"))
    add("max age: auth_time a string", "§6.1 claims typed", claims(auth_time="then"), expect=err("missing_claim"))
    add("wrong issuer before audience", "§6.1 order: iss before aud", claims(iss="https://x.example", aud="api://else"), expect=err("wrong_issuer"))
    return write("jwt_options", "SPEC §6.1 policy options: leeway on exp/nbf/iat/auth_time, max_age_seconds (too_old), configurable claim names, token_use and client_ids null (not checked), EC P-256/P-384 and Ed25519 keys. Tokens minted with `cryptography` (RFC 6979 ECDSA).", policy, cases)


def jwt_hmac(keys):
    policy = {
        "version": 1,
        "roles": ROLES,
        "tokens": {"jwt": {"issuers": ["https://hs.example"], "token_use": None, "client_ids": None, "audiences": ["svc"], "algorithms": ["HS256"]}},
    }
    secret = keys["hs-provider"]
    jwks = {"keys": [public_jwk("hs-1", secret)]}
    c = {"iss": "https://hs.example", "sub": "svc-1", "aud": "svc", "iat": NOW, "exp": NOW + 60}
    def add(name, spec, expect, token, keyset=jwks):
        cases.append(case(name, spec, "verify_jwt", expect, token=token, keys=keyset, now=NOW))

    cases = []
    add("HS256 provider token", "§6.1 oct keys", jwt_principal(c, policy), pyjwt_token(c, secret, "HS256", kid="hs-1"))
    add("HS256 with a 16-byte secret", "§6.1 weak keys refused (RFC 7518 §3.2)", err("weak_key"),
        raw_jws({"alg": "HS256", "kid": "short"}, c, keys["hs-short"], "HS256"), {"keys": [public_jwk("short", keys["hs-short"])]})
    add("HS384 not allowed", "§6.1 alg in algorithms", err("unsupported_alg"), raw_jws({"alg": "HS384", "kid": "hs-1"}, c, secret, "HS384"))
    add("HS256 with the wrong secret", "§6.1 signature", err("bad_signature"), raw_jws({"alg": "HS256", "kid": "hs-1"}, c, keys["hs-other"], "HS256"))
    return write("jwt_hmac", "SPEC §6.1 with a shared-secret (oct) JWKS: HS256 tokens, secret length, allow-list.", policy, cases)


def jwt_modes(keys):
    """SPEC 6.1: Cognito and generic modes, typ, claim paths, one kid for several key types."""
    rsa1, ec256 = keys["rsa-1"], keys["ec-256"]
    iss = "https://idp.example.com/"
    jwks = {"keys": [public_jwk("k1", rsa1), public_jwk("k1", ec256), public_jwk("e1", keys["ed-1"])]}

    def jwt_policy(**jwt_over):
        j = {"issuers": [iss, REGION_POOL], "algorithms": ["RS256", "ES256", "ES384"]}
        j.update(jwt_over)
        return {"version": 1, "roles": ROLES, "groups": GROUPS, "tokens": {"jwt": j}}

    def claims(**over):
        c = {"iss": iss, "sub": "user-1", "aud": "https://api-a", "iat": NOW - 60, "exp": NOW + 600}
        return apply(c, over)

    cases = []

    def verify(name, spec, policy, c, expect=None, alg="RS256", kid="k1", header=None, token=None, keyset=jwks, now=NOW, **names):
        key = {"RS256": rsa1, "ES256": ec256, "ES384": keys["ec-384"]}[alg]
        h = {"alg": alg, "kid": kid} if header is None else header
        if token is None:
            token = raw_jws(h, c, key, alg)
        if expect is None:
            expect = jwt_principal(c, policy, **names)
        cases.append(case(name, spec, "verify_jwt", expect, policy=policy, token=token, keys=keyset, now=now))

    def load(name, spec, policy, problems):
        expect = {"ok": True} if problems is None else {"error": "invalid_policy", "problems": [{"code": "invalid_value", "path": p} for p in problems]}
        cases.append(case(name, spec, "load_policy", expect, policy=policy))

    # -- Cognito mode (token_use a list; the default) --
    load("cognito mode: access tokens with client_ids null", "§6.1 Cognito mode: accepting a token kind whose list is null fails to load",
         jwt_policy(audiences=["https://api-a"], client_ids=None), ["tokens.jwt.client_ids"])
    load("cognito mode: id tokens with audiences null", "§6.1 Cognito mode: accepting a token kind whose list is null fails to load",
         jwt_policy(token_use=["access", "id"], client_ids=[CLIENT], audiences=None), ["tokens.jwt.audiences"])
    load("cognito mode: id only, client_ids null loads", "§6.1 Cognito mode: only the accepted kinds need their list",
         jwt_policy(token_use=["id"], client_ids=None, audiences=[CLIENT]), None)
    cognito = jwt_policy(client_ids=[CLIENT])
    access = cognito_access()
    verify("cognito mode is the default", "§6.1 defaults: token_use [\"access\"] (Cognito mode)", cognito, access)
    verify("cognito mode default refuses an ID token", "§6.1 defaults: token_use [\"access\"]", cognito, cognito_id(), expect=err("wrong_token_use"))
    verify("cognito mode default refuses a token without token_use", "§6.1 Cognito mode: the token's token_use must be in the list",
           cognito, claims(client_id=CLIENT, iss=REGION_POOL), expect=err("missing_claim"))
    ids = jwt_policy(token_use=["id"], client_ids=None, audiences=[CLIENT])
    verify("cognito id mode: access token refused", "§6.1 Cognito mode: no token-controlled bypass (token_use access is not accepted)",
           ids, cognito_access(), expect=err("wrong_token_use"))
    verify("cognito id mode: id token checked by aud", "§6.1 Cognito mode: an ID token is checked aud in audiences", ids, cognito_id())
    verify("cognito id mode: id token of another client", "§6.1 Cognito mode: an ID token is checked aud in audiences",
           ids, cognito_id(aud="other"), expect=err("wrong_audience"))
    # -- generic mode (token_use null) --
    generic_aud = jwt_policy(token_use=None, client_ids=None, audiences=["https://api-a"])
    verify("generic: aud accepted", "§6.1 generic mode: aud must meet audiences", generic_aud, claims())
    verify("generic: aud array", "§6.1 generic mode: aud string or array", generic_aud, claims(aud=["https://x", "https://api-a"]))
    verify("generic: token_use access cannot skip the aud check", "§6.1 which audience check runs follows from the policy, never from a claim of the token",
           generic_aud, claims(aud="https://api-b", token_use="access", client_id="anything"), expect=err("wrong_audience"))
    verify("generic: aud missing", "§6.1 generic mode: aud required when audiences is set", generic_aud, claims(aud=DROP, token_use="access"), expect=err("missing_claim"))
    generic_client = jwt_policy(token_use=None, client_ids=["c1"], audiences=None)
    verify("generic: RFC 9068 client_id accepted", "§6.1 generic mode: client_id in client_ids", generic_client, claims(aud="https://rs", client_id="c1"))
    verify("generic: RFC 9068 wrong client_id", "§6.1 generic mode: client_id in client_ids (no token_use needed)",
           generic_client, claims(aud="https://rs", client_id="c2"), expect=err("wrong_client"))
    verify("generic: azp when there is no client_id", "§6.1 generic mode: client_id or else azp", generic_client, claims(azp="c1"))
    verify("generic: client_id wins over azp", "§6.1 generic mode: client_id or else azp", generic_client, claims(azp="c1", client_id="c2"), expect=err("wrong_client"))
    verify("generic: neither client_id nor azp", "§6.1 generic mode: client_id required when client_ids is set", generic_client, claims(), expect=err("missing_claim"))
    both = jwt_policy(token_use=None, client_ids=["c1"], audiences=["https://api-a"])
    verify("generic: both checked, both pass", "§6.1 generic mode: aud and client_id each checked unless null", both, claims(client_id="c1"))
    verify("generic: both checked, client fails", "§6.1 generic mode: aud and client_id each checked unless null", both, claims(client_id="c9"), expect=err("wrong_client"))
    load("generic: both null fails to load", "§6.1 generic mode: both null is a load error unless any_audience",
         jwt_policy(token_use=None, client_ids=None, audiences=None), ["tokens.jwt.audiences"])
    anyaud = jwt_policy(token_use=None, client_ids=None, audiences=None, any_audience=True)
    verify("generic: any_audience true accepts any aud", "§6.1 any_audience: true", anyaud, claims(aud="https://whatever"))
    verify("generic: any_audience with no aud", "§6.1 any_audience: true", anyaud, claims(aud=DROP))
    verify("generic: default lists accept nothing", "§6.1 defaults: client_ids [] and audiences [] (nothing passes until set)",
           jwt_policy(token_use=None), claims(client_id="c1"), expect=err("wrong_audience"))
    # -- typ --
    typed = jwt_policy(token_use=None, client_ids=None, audiences=["https://api-a"], typ=["at+jwt"])
    verify("typ at+jwt", "§6.1 typ compared as RFC 9068 says", typed, claims(), header={"alg": "RS256", "kid": "k1", "typ": "at+jwt"})
    verify("typ application/AT+JWT", "§6.1 typ case-insensitive, application/ prefix allowed", typed, claims(), header={"alg": "RS256", "kid": "k1", "typ": "application/AT+JWT"})
    verify("typ JWT refused", "§6.1 typ: wrong_type", typed, claims(), header={"alg": "RS256", "kid": "k1", "typ": "JWT"}, expect=err("wrong_type"))
    verify("typ missing refused", "§6.1 typ required when configured", typed, claims(), expect=err("wrong_type"))
    verify("typ not checked by default", "§6.1 typ default null", generic_aud, claims(), header={"alg": "RS256", "kid": "k1", "typ": "whatever"})
    # -- claim paths --
    keycloak = jwt_policy(token_use=None, client_ids=["app"], audiences=None,
                          claims={"id": "preferred_username", "groups": "/realm_access/roles", "scopes": "scope"})
    kc = claims(azp="app", preferred_username="kate", realm_access={"roles": ["administrators", "offline_access"]},
                resource_access={"app": {"roles": ["x"]}}, scope="openid email")
    kc_names = dict(id_claim="preferred_username", groups_claim="/realm_access/roles", scopes_claim="scope")
    verify("keycloak realm roles by JSON Pointer", "§6.1 a claim name starting with / is a JSON Pointer (RFC 6901)", keycloak, kc, **kc_names)
    verify("JSON Pointer to a missing member", "§6.1 JSON Pointer: absent groups are no groups", keycloak, apply(dict(kc), {"realm_access": {}}), **kc_names)
    verify("JSON Pointer to a number", "§6.1 groups typed", keycloak, apply(dict(kc), {"realm_access": {"roles": 5}}), expect=err("missing_claim"))
    escaped = jwt_policy(token_use=None, client_ids=None, audiences=["https://api-a"],
                         claims={"groups": "/ext/a~1b~0c/0"})
    esc_claims = claims(ext={"a/b~c": [["managers"], ["x"]]})
    verify("JSON Pointer escapes and array index", "§6.1 JSON Pointer (RFC 6901 ~1, ~0, array index)", escaped, esc_claims, groups_claim="/ext/a~1b~0c/0")
    url_named = jwt_policy(token_use=None, client_ids=None, audiences=["https://api-a"],
                           claims={"groups": "https://example.com/groups", "scopes": "scp"})
    verify("URL claim name is one member", "§6.1 any other name is one top-level member", url_named,
           claims(**{"https://example.com/groups": ["managers"], "scp": ["read", "write"]}), groups_claim="https://example.com/groups", scopes_claim="scp")
    load("bad JSON Pointer fails to load", "§6.1 JSON Pointer syntax (RFC 6901)",
         jwt_policy(token_use=None, client_ids=None, audiences=["x"], claims={"groups": "/a~2b"}), ["tokens.jwt.claims.groups"])
    verify("scopes an array", "§6.1 scopes string or array", generic_aud, claims(scope=["read", "write"]))
    verify("groups a string", "§6.1 groups string or array", generic_aud, claims(**{"cognito:groups": "administrators"}))
    # -- one kid, several key types (RFC 7517 §4.5) --
    verify("one kid: RSA key", "§6.1 several keys under one kid when their types differ: the one that fits alg", generic_aud, claims())
    verify("one kid: EC key", "§6.1 several keys under one kid when their types differ: the one that fits alg", generic_aud, claims(), alg="ES256")
    verify("one kid: no key fits", "§6.1 alg of the key's type and curve", generic_aud, claims(), alg="ES384", expect=err("unsupported_alg"))
    two_rsa = {"keys": [public_jwk("k1", rsa1, alg="RS256"), public_jwk("k1", keys["rsa-2"], alg="PS256")]}
    verify("one kid, two RSA keys", "§6.1 two keys that both fit are invalid_argument (same type under one kid)", generic_aud, claims(),
           keyset=two_rsa, expect=err("invalid_argument"))
    # -- host mistakes --
    good = raw_jws({"alg": "RS256", "kid": "k1"}, claims(), rsa1, "RS256")
    verify("Bearer prefix given to verify_jwt", "§6.4 lead: an Authorization header value is malformed (use parse_authorization)", generic_aud, claims(),
           token="Bearer " + good, expect=err("malformed"))
    verify("now in milliseconds", "lead: now is whole seconds; a value past the year 5000 is invalid_argument", generic_aud, claims(),
           token=good, now=NOW * 1000, expect=err("invalid_argument"))
    return write("jwt_modes", "SPEC §6.1 rules on which checks run: Cognito mode vs generic mode (no token-controlled bypass, load errors), typ (RFC 9068), JSON-Pointer claim names and string-or-array groups/scopes, one kid for several key types, host mistakes (a Bearer header, now in milliseconds). Each case has its own policy. Tokens minted with `cryptography` (conformance/tools/mint_fixtures.py).", generic_aud, cases)


# ---------------------------------------------------------------- sessions


def session_claims(sub, roles, sid, iat, exp, auth_time, epoch=0, api=None, limits=None):
    c = {"sub": sub, "roles": roles, "sid": sid, "iat": iat, "exp": exp, "auth_time": auth_time, "epoch": epoch}
    if api is not None:
        c["api"] = api
    if limits is not None:
        c["limits"] = limits
    return c


def session_token(c, key, alg):
    # PyJWT sorts header keys: {"alg":...,"typ":...}, the engine's fixed order.
    return jwt.encode(c, key, algorithm=alg, headers={"typ": SESSION_TYP})


def session_principal(c):
    p = {"id": c["sub"], "roles": c["roles"], "groups": [], "permissions": [], "scopes": []}
    if "limits" in c:
        p["limits"] = c["limits"]
    p.update({"credential": "session", "expires_at": c["exp"], "session_id": c["sid"]})
    if "api" in c:
        p["api_token_id"] = c["api"]
    return p


def sessions(keys, name, alg):
    ttl, life = 600, 7200
    policy = {
        "version": 1,
        "roles": ROLES,
        "groups": GROUPS,
        "tokens": {"session": {"ttl_seconds": ttl, "max_lifetime_seconds": life}},
    }
    if alg == "HS256":
        secret = keys["hs-session"]
        sign_key, jwk, public = secret, {"kty": "oct", "k": b64(secret)}, {"kty": "oct", "k": b64(secret)}
        other = {"kty": "oct", "k": b64(keys["hs-other"])}
    else:
        ed = keys["ed-session"]
        sign_key, jwk = ed, private_okp_jwk(ed)
        public = {k: v for k, v in jwk.items() if k != "d"}
        other = private_okp_jwk(keys["ed-1"])
    cases = []
    T = NOW

    def grant(c, ceiling):
        return {"token": session_token(c, sign_key, alg), "session_id": c["sid"], "expires_at": c["exp"], "renewable_until": ceiling}

    # issue
    alice = {"id": "alice", "roles": ["user"]}
    c1 = session_claims("alice", ["user"], "sess-1", T, T + ttl, T)
    cases.append(case("issue", "§6.2 issue: expires_at = now + ttl, renewable_until = now + max_lifetime; exact token", "issue_session",
                      grant(c1, T + life), principal=alice, key=jwk, now=T, options={"session_id": "sess-1"}))
    grouped = {"id": "carol", "roles": ["user"], "groups": ["administrators", "managers"]}
    cg = session_claims("carol", ["user", "admin", "manager"], "sess-g", T, T + ttl, T)
    cases.append(case("issue folds groups into roles", "§6.2 session roles: the principal's roles plus its groups' roles (choice)", "issue_session",
                      grant(cg, T + life), principal=grouped, key=jwk, now=T, options={"session_id": "sess-g"}))
    api_principal = {"id": "dev-7", "roles": ["user"], "limits": ["read_own_device"], "credential": "api_token", "api_token_id": "tok-1"}
    ca = session_claims("dev-7", ["user"], "sess-api", T, T + ttl, T, api="tok-1", limits=["read_own_device"])
    cases.append(case("issue from an API token principal", "§6.2 api and limits copied from the token (principal's, by default)", "issue_session",
                      grant(ca, T + life), principal=api_principal, key=jwk, now=T, options={"session_id": "sess-api"}))
    co = session_claims("alice", ["user"], "sess-o", T, T + ttl, T, epoch=3, api="tok-9", limits=["read_device"])
    cases.append(case("issue with options", "§6.2 options api_token_id, limits (and epoch)", "issue_session",
                      grant(co, T + life), principal=alice, key=jwk, now=T,
                      options={"session_id": "sess-o", "api_token_id": "tok-9", "limits": ["read_device"], "epoch": 3}))
    cases.append(case("issue without id", "§6.2 a session needs a subject", "issue_session", err("invalid_argument"),
                      principal={"roles": ["user"]}, key=jwk, now=T, options={"session_id": "x"}))
    cases.append(case("issue with a bad limit", "§6.2 limits are labels of the policy", "issue_session", err("invalid_argument"),
                      principal=alice, key=jwk, now=T, options={"session_id": "x", "limits": ["fly_device"]}))
    if alg == "HS256":
        cases.append(case("issue with a 31-byte secret", "§6.2 HS256 secret under 32 bytes", "issue_session", err("weak_key"),
                          principal=alice, key={"kty": "oct", "k": b64(b"x" * 31)}, now=T, options={"session_id": "x"}))
        cases.append(case("issue with a 32-byte secret", "§6.2 HS256 secret of exactly 32 bytes", "issue_session",
                          grant(c1, T + life) | {"token": session_token(c1, b"x" * 32, "HS256")},
                          principal=alice, key={"kty": "oct", "k": b64(b"x" * 32)}, now=T, options={"session_id": "sess-1"}))
        cases.append(case("issue with an RSA key", "§6.2 sessions are HS256 or EdDSA", "issue_session", err("unsupported_alg"),
                          principal=alice, key=public_jwk("r", keys["rsa-1"]), now=T, options={"session_id": "x"}))
    else:
        cases.append(case("issue with a public key only", "§6.2 signing needs d", "issue_session", err("invalid_argument"),
                          principal=alice, key=public, now=T, options={"session_id": "x"}))
        bad_pair = dict(jwk, x=other["x"])
        cases.append(case("issue with mismatched d and x", "§6.2 key halves must agree", "issue_session", err("invalid_argument"),
                          principal=alice, key=bad_pair, now=T, options={"session_id": "x"}))

    token1 = session_token(c1, sign_key, alg)
    # verify
    cases.append(case("verify", "§6.2 verify: principal with credential session", "verify_session", session_principal(c1),
                      token=token1, key=public, now=T + 1))
    cases.append(case("verify at expiry - 1", "§6.2 exp boundary", "verify_session", session_principal(c1), token=token1, key=public, now=T + ttl - 1))
    cases.append(case("verify at expiry", "§6.2 exp boundary: expired at exp", "verify_session", err("expired"), token=token1, key=public, now=T + ttl))
    cases.append(case("verify before issue", "§6.2 iat in the future", "verify_session", err("not_yet_valid"), token=token1, key=public, now=T - 1))
    tokena = session_token(ca, sign_key, alg)
    cases.append(case("verify API session", "§6.2 api and limits in the principal", "verify_session", session_principal(ca), token=tokena, key=public, now=T))
    cases.append(case("verify with another key", "§6.2 signature", "verify_session", err("bad_signature"), token=token1, key=other, now=T))
    h, p, s = token1.split(".")
    forged = h + "." + b64(compact_json(dict(c1, roles=["admin"]))) + "." + s
    cases.append(case("verify a forged payload", "§6.2 signature", "verify_session", err("bad_signature"), token=forged, key=public, now=T))
    provider = raw_jws({"alg": alg, "typ": "JWT"}, c1, sign_key, alg)
    cases.append(case("provider JWT as session", "§6.2 a provider JWT is never accepted as a session", "verify_session", err("wrong_token_use"),
                      token=provider, key=public, now=T))
    notyp = raw_jws({"alg": alg}, c1, sign_key, alg)
    cases.append(case("no typ", "§6.2 typ tessera-session+jwt required", "verify_session", err("wrong_token_use"), token=notyp, key=public, now=T))
    crit = raw_jws({"alg": alg, "crit": ["x"], "typ": SESSION_TYP}, c1, sign_key, alg)
    cases.append(case("crit", "§6.2 crit refused", "verify_session", err("unsupported_crit"), token=crit, key=public, now=T))
    other_alg = "EdDSA" if alg == "HS256" else "HS256"
    cases.append(case("header alg not the key's", "§6.2 alg must be the key's", "verify_session", err("unsupported_alg"),
                      token=b64(compact_json({"alg": other_alg, "typ": SESSION_TYP})) + "." + p + "." + s, key=public, now=T))
    nosid = {k: v for k, v in c1.items() if k != "sid"}
    cases.append(case("sid missing", "§6.2 claims required", "verify_session", err("missing_claim"),
                      token=session_token(nosid, sign_key, alg), key=public, now=T))
    cases.append(case("roles not an array", "§6.2 claims typed", "verify_session", err("missing_claim"),
                      token=session_token(dict(c1, roles="user"), sign_key, alg), key=public, now=T))
    cases.append(case("malformed", "§6.2 compact JWS", "verify_session", err("malformed"), token=h + "." + p, key=public, now=T))
    cases.append(case("too large", "§6.2 same 16 KiB cap", "verify_session", err("too_large"), token="a" * 16385, key=public, now=T))
    cases.append(case("duplicate claim", "§6.2 JSON without duplicate keys", "verify_session", err("malformed"),
                      token=raw_jws({"alg": alg, "typ": SESSION_TYP}, compact_json(c1)[:-1] + b',"sub":"root"}', sign_key, alg), key=public, now=T))

    # revocations
    for label, rev in [
        ("by session", {"sessions": ["sess-api"]}),
        ("by subject", {"subjects": ["dev-7"]}),
        ("by API token", {"api_tokens": ["tok-1"]}),
        ("by epoch", {"epoch": 1}),
    ]:
        cases.append(case(f"revoked {label}", "§6.2 revocations: sid, subject, API token, epoch", "verify_session", err("revoked"),
                          token=tokena, key=public, now=T + 1, revocations=rev))
    cases.append(case("not revoked by others", "§6.2 revocations name other sessions", "verify_session", session_principal(ca),
                      token=tokena, key=public, now=T, revocations={"sessions": ["x"], "subjects": ["y"], "api_tokens": ["z"], "epoch": 0}))
    tokeno = session_token(co, sign_key, alg)
    cases.append(case("epoch equal is alive", "§6.2 dead only if epoch is below", "verify_session", session_principal(co),
                      token=tokeno, key=public, now=T, revocations={"epoch": 3}))
    cases.append(case("expired and revoked", "§6.2 expiry is checked before revocation (choice)", "verify_session", err("expired"),
                      token=token1, key=public, now=T + ttl, revocations={"sessions": ["sess-1"]}))

    # renew
    n1 = T + 300
    r1 = dict(c1, iat=n1, exp=n1 + ttl)
    cases.append(case("renew", "§6.2 renew: same sid and auth_time, expires_at = now + ttl", "renew_session", grant(r1, T + life),
                      token=token1, key=jwk, now=n1))
    # a chain of renewals up to the ceiling
    late = T + life - 100
    chain = dict(c1, iat=late - 200, exp=late - 200 + ttl)
    chain_token = session_token(chain, sign_key, alg)
    capped = dict(c1, iat=late, exp=T + life)
    cases.append(case("renew capped at the ceiling", "§6.2 expires_at = min(now + ttl, auth_time + max_lifetime)", "renew_session",
                      grant(capped, T + life), token=chain_token, key=jwk, now=late))
    last = dict(c1, iat=T + life - 1, exp=T + life)
    last_token = session_token(dict(c1, iat=T + life - 300, exp=T + life), sign_key, alg)
    cases.append(case("renew one second before the ceiling", "§6.2 ceiling boundary", "renew_session", grant(last, T + life),
                      token=last_token, key=jwk, now=T + life - 1))
    cases.append(case("renew at the ceiling", "§6.2 past auth_time + max_lifetime: session_ended", "renew_session", err("session_ended"),
                      token=last_token, key=jwk, now=T + life))
    cases.append(case("verify at the ceiling", "§6.2 session_ended before expired (choice)", "verify_session", err("session_ended"),
                      token=last_token, key=public, now=T + life))
    cases.append(case("renew an expired session", "§6.2 an expired session is not renewable (choice)", "renew_session", err("expired"),
                      token=token1, key=jwk, now=T + ttl))
    cases.append(case("renew a revoked session", "§6.2 renew honours revocations", "renew_session", err("revoked"),
                      token=token1, key=jwk, now=n1, revocations={"subjects": ["alice"]}))
    ra = dict(ca, iat=n1, exp=n1 + ttl)
    cases.append(case("renew keeps api and limits", "§6.2 renew keeps the token's api, limits and epoch", "renew_session", grant(ra, T + life),
                      token=tokena, key=jwk, now=n1))
    if alg == "EdDSA":
        cases.append(case("renew with a public key only", "§6.2 renewing signs: needs d", "renew_session", err("invalid_argument"),
                          token=token1, key=public, now=n1))
    about = f"SPEC §6.2 sessions signed with {alg}: exact tokens from issue and renew (minted independently by PyJWT), verify, revocations, the 48-hour-style ceiling (here ttl {ttl}s, max lifetime {life}s) and every error."
    return write(name, about, policy, cases)


# ---------------------------------------------------------------- API tokens

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(data: bytes) -> str:
    import math

    width = math.ceil(len(data) * 8 / math.log2(62))
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def api_tokens(keys):
    policy = {"version": 1, "roles": ROLES}
    seeds = [hashlib.sha256(f"tessera api token {i}".encode()).digest() for i in range(8)]

    def make(i, owner, roles, state="active", limits=None, created=NOW - 1000, expires=None):
        tid = base62(seeds[i][:16])
        secret = f"tsr_{tid}_{base62(hashlib.sha256(seeds[i]).digest())}"
        record = {"id": tid, "owner": owner, "roles": roles, "limits": limits, "state": state, "created_at": created,
                  "expires_at": expires, "hash": hashlib.sha256(secret.encode()).hexdigest()}
        return secret, record

    def principal(rec):
        p = {"id": rec["owner"], "roles": rec["roles"], "groups": [], "permissions": [], "scopes": []}
        if rec["limits"] is not None:
            p["limits"] = rec["limits"]
        p["credential"] = "api_token"
        if rec["expires_at"] is not None:
            p["expires_at"] = rec["expires_at"]
        p["api_token_id"] = rec["id"]
        return p

    s0, r0 = make(0, "dev-1", ["user"])
    s1, r1 = make(1, "dev-2", ["user"], limits=["read_own_device"], expires=NOW + 100)
    s2, r2 = make(2, "dev-3", ["user"], state="suspended")
    s3, r3 = make(3, "dev-4", ["user"], state="revoked")
    s4, r4 = make(4, "dev-5", ["admin"], state="suspended", expires=NOW - 10)
    records = [r0, r1, r2, r3, r4]
    cases = []

    def add(name, spec, secret, expect, now=NOW, recs=None):
        cases.append(case(name, spec, "verify_api_token", expect, secret=secret, records=records if recs is None else recs, now=now))

    add("active token", "§6.3 verify: principal with credential api_token", s0, principal(r0))
    add("limits and expiry carried", "§6.3 limits narrow; expires_at", s1, principal(r1))
    add("one second before expiry", "§6.3 expiry boundary", s1, principal(r1), now=NOW + 99)
    add("at expiry", "§6.3 expiry boundary: expired at expires_at", s1, err("expired"), now=NOW + 100)
    add("suspended", "§6.3 state suspended", s2, err("suspended"))
    add("revoked", "§6.3 state revoked", s3, err("revoked"))
    add("suspended and expired", "§6.3 state before expiry (choice)", s4, err("suspended"))
    wrong = s0[:-1] + ("A" if s0[-1] != "A" else "B")
    add("wrong secret for a known id", "§6.3 hash compared in constant time; no hint the id exists", wrong, err("unknown_token"))
    add("unknown id", "§6.3 unknown_token", s0, err("unknown_token"), recs=[r1, r2])
    add("no records", "§6.3 unknown_token", s0, err("unknown_token"), recs=[])
    add("secret of another record under this id", "§6.3 the hash binds id and secret", s0.split("_")[0] + "_" + r1["id"] + "_" + s0.split("_")[2], err("unknown_token"))
    add("uppercase hex hash", "§6.3 hex digits in either case (choice)", s0, principal(r0), recs=[dict(r0, hash=r0["hash"].upper())])
    add("no prefix", "§6.3 tsr_<id>_<secret>", s0[4:], err("malformed"))
    add("other prefix", "§6.3 tsr_<id>_<secret>", "tsx_" + s0[4:], err("malformed"))
    add("secret too short", "§6.3 secret of 32 bytes in base62 (43 characters)", s0[:-1], err("malformed"))
    add("secret too long", "§6.3 secret of 32 bytes in base62", s0 + "0", err("malformed"))
    add("non-base62 character", "§6.3 base62", s0[:-1] + "-", err("malformed"))
    add("a JWT", "§6.3 not an API token", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", err("malformed"))
    add("empty", "§6.3 malformed", "", err("malformed"))
    add("record with a broken hash", "§6.3 records are host data", s0, err("invalid_argument"), recs=[dict(r0, hash="xyz")])
    return write("api_token_verify", "SPEC §6.3 API tokens: tsr_<id>_<secret> (base62, 32-byte secret), SHA-256 at rest (lowercase hex of the whole token), constant-time comparison, states, expiry, limits. Secrets and records minted by conformance/tools/mint_fixtures.py.", policy, cases)


def authorization():
    token = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"
    rows = [
        ("Bearer", "Bearer " + token, token),
        ("lower-case scheme", "bearer " + token, token),
        ("upper-case scheme", "BEARER " + token, token),
        ("mixed-case scheme", "bEaReR " + token, token),
        ("several spaces", "Bearer    " + token, token),
        ("surrounding white space dropped", "  Bearer " + token + " \t", token),
        ("bare token (Ioto CloudAPI)", token, token),
        ("bare API token", "tsr_abc_def", "tsr_abc_def"),
        ("empty", "", None),
        ("only spaces", "   ", None),
        ("scheme alone", "Bearer", None),
        ("scheme and spaces", "Bearer   ", None),
        ("Basic scheme", "Basic dXNlcjpwYXNz", None),
        ("token with inner space", "Bearer abc def", None),
        ("tab after scheme", "Bearer\t" + token, None),
        ("bare token with a space", "abc def", None),
        ("non-ASCII token", "Bearer t\u00f6ken", None),
        ("control character", "Bearer abc\u0001", None),
        ("Bearer with comma list", "Bearer a, Bearer b", None),
    ]
    cases = [
        case(name, "§6.4 parse_authorization", "parse_authorization", err("malformed") if want is None else want, header=header)
        for name, header, want in rows
    ]
    return write("authorization", "SPEC §6.4: Bearer with a case-insensitive scheme and one or more spaces, or a bare token without white space; everything else malformed. The policy is not used.", {"version": 1, "roles": {}}, cases)


def main():
    keys = load_or_make_keys()
    total = 0
    total += jwt_cognito(keys)
    total += jwt_structure(keys)
    total += jwt_options(keys)
    total += jwt_hmac(keys)
    total += jwt_modes(keys)
    total += sessions(keys, "session_hs256", "HS256")
    total += sessions(keys, "session_eddsa", "EdDSA")
    total += api_tokens(keys)
    total += authorization()
    print(f"{total} token cases")


if __name__ == "__main__":
    main()

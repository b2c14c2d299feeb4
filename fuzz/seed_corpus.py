#!/usr/bin/env python3
"""Builds the seed corpus of every fuzz target from the conformance vectors.

Usage: seed_corpus.py VECTORS_DIR OUT_DIR

Writes OUT_DIR/<target>/<sha1 of the input>: the inputs of the vectors, in
the framing fuzz/src/lib.rs reads (parts separated by a NUL byte). Nothing
here is committed: `make fuzz` rebuilds it, and libFuzzer adds what it finds
next to it.
"""
import base64
import hashlib
import json
import pathlib
import sys


def dumps(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def b64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def main(vectors, out):
    seeds = {}

    def add(target, *parts):
        data = b"\0".join(p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p for p in parts)
        seeds.setdefault(target, set()).add(data)

    # The same list, in the same order, as SPLICE in fuzz/src/lib.rs.
    splice = [[], ["roles"], ["roles", "user"], ["roles", "user", "permissions"],
              ["roles", "admin", "inherits"], ["groups"], ["grants"], ["operations"],
              ["operations", "Cluster.UpdateSettings"], ["actions"], ["subjects"], ["tokens"],
              ["tokens", "jwt"], ["tokens", "session"], ["realm"]]
    for path in sorted(pathlib.Path(vectors).glob("*.json")):
        doc = json.loads(path.read_text())
        file_policy = doc.get("policy")
        for case in doc["cases"]:
            op = case["op"]
            policy = case.get("policy", file_policy)
            if policy is not None:
                add("fuzz_policy_text", dumps(policy))
                if isinstance(policy, dict):
                    for i, where in enumerate(splice):
                        node = policy
                        for key in where:
                            node = node.get(key) if isinstance(node, dict) else None
                        if node is not None:
                            add("fuzz_policy_value", bytes([i]) + dumps(node).encode())
            if op == "parse_label":
                add("fuzz_label", case["label"])
            elif op in ("authorize", "explain", "capabilities"):
                add("fuzz_request", dumps(case["principal"]), case.get("action", "read"),
                    dumps(case["resource"]))
            elif op == "authorize_operation":
                principal = case.get("principal")
                add("fuzz_request", dumps(principal) if principal is not None else "null", "read",
                    dumps({"type": "device"}), case["operation"])
            elif op == "parse_authorization":
                add("fuzz_authorization", case["header"])
            elif op == "verify_jwt":
                token = case["token"]
                add("fuzz_jwt_raw", token)
                add("fuzz_authorization", "Bearer " + token)
                add("fuzz_jwks", dumps(case["keys"]))
                segments = token.split(".")
                if len(segments) == 3:
                    try:
                        add("fuzz_jwt_signed", b64(segments[0]), b64(segments[1]))
                    except ValueError:
                        pass
            elif op in ("verify_session", "renew_session"):
                add("fuzz_session", case["token"])
                add("fuzz_session", case["token"], dumps(case["key"]))
            elif op == "issue_session":
                expect = case.get("expect", {})
                if "token" in expect:
                    add("fuzz_session", expect["token"], dumps(case["key"]))
            elif op == "verify_api_token":
                add("fuzz_api_token", case["secret"])
                add("fuzz_api_token", case["secret"], dumps(case["records"]))
            elif op == "realm":
                if "snapshot" in case:
                    add("fuzz_realm_restore", dumps(case["snapshot"]))
                for step in case.get("steps", []):
                    args = step.get("args") or {}
                    if step.get("call") == "restore" and "snapshot" in args:
                        add("fuzz_realm_restore", dumps(args["snapshot"]))
                    expect = step.get("expect")
                    if step.get("call") == "snapshot" and isinstance(expect, dict) and "version" in expect:
                        add("fuzz_realm_restore", dumps(expect))
    total = 0
    for target, inputs in sorted(seeds.items()):
        folder = pathlib.Path(out) / target
        folder.mkdir(parents=True, exist_ok=True)
        for data in inputs:
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        total += len(inputs)
        print(f"{target}: {len(inputs)} seeds")
    print(f"seed corpus: {total} inputs in {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

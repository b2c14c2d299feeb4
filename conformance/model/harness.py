"""Shared by the Python-side runners: loading vector files and comparing results.

The comparison rules are the ones conformance/README.md states for every
runner: an `error` expectation compares the code and, when given, `offset`,
`path` and `problems` (as a multiset, each by code and, when given, path);
any other expectation is compared exactly, except that an expected string
`"*"` stands for any non-empty string (messages, random ids, tokens).
"""

import json
import pathlib

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"


def load_files(directory=VECTORS):
    """[(file name, document)] for every vectors/*.json, sorted by name."""
    return [(p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(directory.glob("*.json"))]


def cases(directory=VECTORS):
    """Every case as (id, case, policy), the case's own policy overriding the file's."""
    out = []
    for name, doc in load_files(directory):
        for case in doc["cases"]:
            policy = case["policy"] if "policy" in case else doc.get("policy")
            out.append((f"{name}::{case['name']}", case, policy))
    return out


def _same(expected, actual):
    # "*" is any non-empty string; "prefix*" any longer string beginning with prefix
    if isinstance(expected, str) and expected.endswith("*"):
        prefix = expected[:-1]
        return isinstance(actual, str) and len(actual) > len(prefix) and actual.startswith(prefix)
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(_same(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(_same(e, a) for e, a in zip(expected, actual)))
    # bool is an int in Python: keep true distinct from 1
    return type(expected) is type(actual) and expected == actual


def _problems_match(expected, actual):
    remaining = list(actual)
    for want in expected:
        for i, got in enumerate(remaining):
            if got.get("code") == want["code"] and ("path" not in want or got.get("path") == want["path"]):
                del remaining[i]
                break
        else:
            return False
    return not remaining


def compare(expect, outcome):
    """None when `outcome` meets `expect`, else a description of the difference.

    `outcome` is ("ok", value) or ("error", {"code", "offset"?, "path"?, "problems"?}).
    """
    kind, value = outcome
    # Only an object can be an error expectation (an expected number or
    # string never is, whatever it contains).
    if isinstance(expect, dict) and "error" in expect:
        if kind != "error":
            return f"expected error {expect['error']!r}, got {json.dumps(value)}"
        if value.get("code") != expect["error"]:
            return f"expected error {expect['error']!r}, got error {value.get('code')!r}"
        for key in ("offset", "path"):
            if key in expect and value.get(key) != expect[key]:
                return f"expected {key} {expect[key]!r}, got {value.get(key)!r}"
        if "problems" in expect and not _problems_match(expect["problems"], value.get("problems") or []):
            return f"expected problems {expect['problems']}, got {value.get('problems')}"
        return None
    if kind == "error":
        return f"expected {json.dumps(expect)}, got error {json.dumps(value)}"
    if not _same(expect, value):
        return f"expected {json.dumps(expect)}, got {json.dumps(value)}"
    return None

"""Random differential: the reference model against the core, case by case.

    python3 conformance/random/differential.py --core target/debug/differential --n 10000 --seed 1

Generates seeded random cases (generate.py), runs them through the reference
model (conformance/model) and through a core driver (a command that reads the
cases as JSON lines and answers one JSON line each: `{"ok": result}`,
`{"error": {...}}` or `{"fault": message}`; the Rust one is
`conformance/src/bin/differential.rs`), and compares everything: decision,
reason, rule, source, and for explain and capabilities the whole result.

A disagreement is shrunk to a minimal case (dropping roles, labels, grants,
operations and fields while it still disagrees), printed, and saved into
conformance/vectors/regressions.json with the model's answer as `expect`, so
the vector runners keep failing until the core or the model is fixed.
"""

import argparse
import copy
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "model"))
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import harness  # noqa: E402
import run_model  # noqa: E402

REGRESSIONS = HERE.parent / "vectors" / "regressions.json"


class Core:
    """A core driver process fed one batch of JSON lines per call."""

    def __init__(self, command):
        self.command = command

    def run(self, cases):
        lines, last = [], None
        for case in cases:
            line = dict(case)
            if line["policy"] == last and case["op"] != "load_policy":
                del line["policy"]  # the driver keeps the last policy in force
            # A load_policy line sets its (broken) policy in force: resend the next one.
            last = case["policy"] if case["op"] != "load_policy" else None
            lines.append(json.dumps(line))
        proc = subprocess.run(self.command, input="\n".join(lines) + "\n", capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"core driver failed ({proc.returncode}): {proc.stderr[-2000:]}")
        replies = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        if len(replies) != len(cases):
            raise SystemExit(f"core driver answered {len(replies)} lines for {len(cases)} cases")
        out = []
        for reply in replies:
            if "fault" in reply:
                raise SystemExit(f"core driver could not run a case: {reply['fault']}")
            out.append(("ok", reply["ok"]) if "ok" in reply else ("error", reply["error"]))
        return out


def expectation(model_outcome):
    """The model's outcome written as a vector's `expect`."""
    kind, value = model_outcome
    if kind == "error":
        expect = {"error": value["code"]}
        if "problems" in value:  # paths too, except for cycles, whose path SPEC leaves open
            expect["problems"] = [{"code": p["code"]} if p["code"] == "cycle" else p for p in value["problems"]]
        return expect
    value = copy.deepcopy(value)
    if isinstance(value, dict) and "message" in value:
        value["message"] = "*"
    return value


def kind_of(outcome):
    """A short name for an outcome: its reason, its error code, or "value"."""
    kind, value = outcome
    if kind == "error":
        return f"error {value.get('code')}"
    return value.get("reason", "value") if isinstance(value, dict) else "value"


def disagreement(case, core_outcome):
    """None when model and core agree on `case`, else (expect, difference)."""
    try:
        expect = expectation(run_model.run(case, case["policy"]))
    except Exception as e:  # a model crash is a finding too
        return {"error": "model crashed"}, f"model raised {type(e).__name__}: {e}"
    problem = harness.compare(expect, core_outcome)
    return None if problem is None else (expect, problem)


# ---------------------------------------------------------------- shrinking

def _without(seq, i):
    return seq[:i] + seq[i + 1:]


def candidates(case):
    """Every case one small step simpler than `case`."""
    out = []

    def variant(change):
        c = copy.deepcopy(case)
        change(c)
        out.append(c)

    policy = case["policy"]
    for name in policy.get("roles", {}):
        def drop_role(c, name=name):
            del c["policy"]["roles"][name]
            for role in c["policy"]["roles"].values():
                if name in role.get("inherits", []):
                    role["inherits"].remove(name)
            for group, members in c["policy"].get("groups", {}).items():
                c["policy"]["groups"][group] = [m for m in members if m != name]
            for entry in c["policy"].get("operations", {}).values():
                access = entry.get("access")
                if isinstance(access, dict) and name in access.get("roles_any", []):
                    access["roles_any"].remove(name)
        variant(drop_role)
        role = policy["roles"][name]
        for key in ("inherits", "permissions"):
            for i in range(len(role.get(key, []))):
                variant(lambda c, name=name, key=key, i=i: c["policy"]["roles"][name][key].pop(i))
            if key in role:
                variant(lambda c, name=name, key=key: c["policy"]["roles"][name].pop(key))
    for key in ("roles", "groups", "grants", "operations"):
        if key in policy and not policy[key]:
            variant(lambda c, key=key: c["policy"].pop(key))
    for section in ("groups", "operations"):
        for key in policy.get(section, {}):
            variant(lambda c, section=section, key=key: c["policy"][section].pop(key))
        if section in policy:
            variant(lambda c, section=section: c["policy"].pop(section))
    for i, grant in enumerate(policy.get("grants", [])):
        variant(lambda c, i=i: c["policy"].__setitem__("grants", _without(c["policy"]["grants"], i)))
        for j in range(len(grant["permissions"])):
            variant(lambda c, i=i, j=j: c["policy"]["grants"][i]["permissions"].pop(j))
    for key in ("actions", "subjects"):
        for i in range(len(policy.get(key, []))):
            variant(lambda c, key=key, i=i: c["policy"][key].pop(i))
    for field in ("principal", "resource", "context"):
        value = case.get(field)
        if field == "context" and value is not None:
            variant(lambda c: c.pop("context"))
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            if field == "resource" and key == "type":
                continue
            variant(lambda c, field=field, key=key: c[field].pop(key))
            if isinstance(item, list):
                for i in range(len(item)):
                    variant(lambda c, field=field, key=key, i=i: c[field][key].pop(i))
    return out


def shrink(case, core):
    """The smallest case reachable by dropping parts that still disagrees."""
    while True:
        options = candidates(case)
        if not options:
            return case
        for option, outcome in zip(options, core.run(options)):
            if disagreement(option, outcome) is not None:
                case = option
                break
        else:
            return case


def save_regression(case, expect, problem, origin):
    doc = {"name": "regressions",
           "about": "Cases the random differential (conformance/random) found where the core and the reference model "
                    "disagreed, shrunk to a minimum. `expect` is the model's answer: review each against SPEC.",
           "policy": None, "cases": []}
    if REGRESSIONS.exists():
        doc = json.loads(REGRESSIONS.read_text(encoding="utf-8"))
    body = {k: v for k, v in case.items()}
    for old in doc["cases"]:
        if {k: v for k, v in old.items() if k not in ("name", "spec", "expect")} == body:
            return False
    entry = {"name": f"{origin} #{len(doc['cases']) + 1}",
             "spec": f"random differential ({origin}); core said: {problem}"}
    entry.update(body)
    entry["expect"] = expect
    doc["cases"].append(entry)
    text = ['{', f'  "name": {json.dumps(doc["name"])},', f'  "about": {json.dumps(doc["about"])},',
            '  "policy": null,', '  "cases": [']
    text.append(",\n".join("    " + json.dumps(c) for c in doc["cases"]))
    text += ['  ]', '}']
    REGRESSIONS.write_text("\n".join(text) + "\n", encoding="utf-8")
    return True


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--core", required=True, help="core driver command (whitespace-separated)")
    ap.add_argument("--n", type=int, default=10000, help="number of random cases")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=20000, help="cases per core driver run")
    ap.add_argument("--max-failures", type=int, default=5, help="stop after this many kinds of disagreement")
    ap.add_argument("--no-save", action="store_true", help="do not write regressions.json")
    args = ap.parse_args(argv)
    core = Core(args.core.split())
    started, checked, failures = time.time(), 0, 0
    counts, seen = {}, {}
    for start in range(0, args.n, args.batch):
        # Each batch is its own seeded stream, so a long run is reproducible in parts.
        batch = generate.cases(args.seed * 1_000_003 + start, min(args.batch, args.n - start))
        for index, (case, outcome) in enumerate(zip(batch, core.run(batch))):
            found = disagreement(case, outcome)
            checked += 1
            key = (case["op"], kind_of(outcome))
            counts[key] = counts.get(key, 0) + 1
            if found is None:
                continue
            failures += 1
            # One shrunk report per kind of disagreement: the op, what the
            # model said and what the core said.
            expect = found[0]
            model_kind = (f"error {expect['error']}" if isinstance(expect, dict) and "error" in expect else
                          expect.get("reason", "value") if isinstance(expect, dict) else "value")
            signature = (case["op"], model_kind, kind_of(outcome))
            seen[signature] = seen.get(signature, 0) + 1
            if seen[signature] > 1:
                continue
            origin = f"seed {args.seed} case {start + index}"
            small = shrink(case, core)
            expect, problem = disagreement(small, core.run([small])[0])
            print(f"DISAGREEMENT ({origin}), shrunk:\n  case:   {json.dumps(small)}\n"
                  f"  model:  {json.dumps(expect)}\n  core:   {problem}", file=sys.stderr)
            if not args.no_save and save_regression(small, expect, problem, origin):
                print(f"  saved to {REGRESSIONS}", file=sys.stderr)
            if len(seen) >= args.max_failures:
                break
        if len(seen) >= args.max_failures:
            break
    spread = ", ".join(f"{op}/{reason} {n}" for (op, reason), n in sorted(counts.items()))
    print(f"outcomes: {spread}")
    for (op, model_kind, core_kind), n in sorted(seen.items()):
        print(f"disagreements: {n} x {op}: model {model_kind}, core {core_kind}")
    print(f"differential: {checked - failures} passed, {failures} failed "
          f"(seed {args.seed}, {time.time() - started:.1f}s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

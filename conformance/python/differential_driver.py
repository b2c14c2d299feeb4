"""A core driver for the random differential made of the Python package: reads
cases as JSON lines on stdin (the vector case format without `expect`; a
line's `policy` stays in force for the lines after it) and prints one JSON line
per case, `{"ok": result}`, `{"error": {code, ...}}` or `{"fault": message}`,
exactly as conformance/src/bin/differential.rs does for the Rust core.

    .venv/bin/python conformance/random/differential.py \\
        --core ".venv/bin/python conformance/python/differential_driver.py" --n 10000 --seed 1
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "model"), str(HERE)]

import runner  # noqa: E402


def main():
    run = runner.Runner()
    policy = None
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except ValueError as e:
            reply = {"fault": f"bad JSON line: {e}"}
        else:
            if "policy" in case:
                policy = case["policy"]
            try:
                kind, value = run.run(case, policy)
                reply = {kind: value}
            except runner.Fault as fault:
                reply = {"fault": str(fault)}
        out.write(json.dumps(reply) + "\n")
    out.flush()


if __name__ == "__main__":
    main()

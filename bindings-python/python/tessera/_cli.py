"""The ``tessera`` command (installed with the Python package), for CI::

    tessera diff old.json new.json          # what the change opens up or closes
    tessera diff --json old.json new.json   # the same, as the diff's JSON

Exit status: 0 when the two policies decide every request alike (the diff is
empty), 1 when they do not, 2 when a policy does not load or the command is
wrong (the load errors are printed, with the side they are on).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Optional, Sequence

from tessera._analysis import diff
from tessera._errors import TesseraError


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="tessera", description="tessera policy tools")
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser("diff", help="what differs between two policies (exit 1 if anything does)")
    d.add_argument("old", help="policy A: a JSON file")
    d.add_argument("new", help="policy B: a JSON file")
    d.add_argument("--json", action="store_true", help="print the diff as JSON (SPEC §9 shape)")
    args = parser.parse_args(argv)
    try:
        result = diff(_path(args.old), _path(args.new))
    except TesseraError as e:
        if args.json:
            problems = [{"code": p.code, "message": p.message, "path": p.path} for p in e.problems]
            print(json.dumps({"error": {"code": e.code, "message": str(e), "path": e.path, "problems": problems}}))
        else:
            print(f"tessera diff: {e}", file=sys.stderr)
            for p in e.problems:
                print(f"  {e.path}: {p.path or '(root)'}: {p.code}: {p.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    elif result.empty:
        print("no change: the two policies decide every request alike")
    else:
        for line in result.summary():
            print(line)
    return 0 if result.empty else 1


def _path(text: str) -> pathlib.Path:
    return pathlib.Path(text)  # always a file, whatever the name looks like


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

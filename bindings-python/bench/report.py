"""Turns a pytest-benchmark JSON file into this package's section of BENCHMARKS.md.

    python bench/report.py BENCH_JSON BENCHMARKS_MD

Only the section headed SECTION is rewritten (up to the next "## " heading);
the rest of the file is left exactly as it is. Figures are medians (the
machine is shared, and means are pulled up by other processes), divided by the
number of decisions each benchmarked call makes.
"""

from __future__ import annotations

import json
import pathlib
import platform
import sys
from typing import Any, Dict, List, Tuple

SECTION = "## Python decisions vs cedarpy and pycasbin; RS256 vs PyJWT"
COMMAND = "make bench-python"


def fmt(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def cpu() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def per_op(bench: Dict[str, Any]) -> float:
    return float(bench["stats"]["median"]) / float(bench["extra_info"].get("per_call", 1))


def table(rows: List[Tuple[str, float]], base: float, base_name: str) -> List[str]:
    out = [
        f"| call | per decision (median) | × {base_name} |",
        "| --- | ---: | ---: |",
    ]
    for label, t in rows:
        out.append(f"| {label} | {fmt(t)} | {t / base:,.1f} |")
    return out


def render(data: Dict[str, Any]) -> str:
    benches = {b["name"]: b for b in data["benchmarks"]}

    def get(name: str) -> Tuple[str, float]:
        b = benches[name]
        return str(b["extra_info"]["label"]), per_op(b)

    decision_names = [
        "test_tessera_is_allowed",
        "test_tessera_batch",
        "test_tessera_prepared_authorize",
        "test_tessera_authorize",
        "test_cedarpy_handles",
        "test_cedarpy_batch",
        "test_cedarpy_strings",
        "test_casbin_enforce",
    ]
    decisions = [get(n) for n in decision_names if n in benches]
    base = per_op(benches["test_tessera_is_allowed"])

    rs_names = (
        "test_tessera_keyset_fresh",
        "test_tessera_keyset_fetched",
        "test_tessera_keyset_seen",
        "test_tessera_rs256_fresh",
        "test_tessera_rs256_repeat",
        "test_pyjwt_rs256",
        "test_cryptography_rs256_bare",
    )
    rs_rows = [get(n) for n in rs_names if n in benches]
    pyjwt = per_op(benches["test_pyjwt_rs256"]) if "test_pyjwt_rs256" in benches else None

    machine = data.get("machine_info", {})
    commit_info = data.get("commit_info", {})
    commit = str(commit_info.get("id") or "")[:12]
    if commit and commit_info.get("dirty"):
        commit += " + uncommitted changes"
    t = {n: per_op(benches[n]) for n in benches}
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND}` (pytest-benchmark, every engine in the same run; the figures",
        "below are rewritten by `bindings-python/bench/report.py`). Machine: "
        f"{cpu()}, {machine.get('cpu', {}).get('count', '?')} cores shared with other work, "
        f"CPython {machine.get('python_version', platform.python_version())}"
        + (f", commit {commit}" if commit else "")
        + ". Medians; a call that makes several decisions is divided by their number.",
        "",
        "Scenario, identical in every engine and checked to give identical answers: role `user`",
        "may do anything on the devices it owns (`admin_own_device`; in Cedar `resource.owner ==",
        "principal`; in casbin an RBAC matcher with an owner test), user `u-1` reads its own device",
        "(allowed) and someone else's (denied).",
        "",
        "### Decisions",
        "",
        *table(decisions, base, "`is_allowed`"),
        "",
    ]
    if "test_cedarpy_strings" in t and "test_tessera_authorize" in t:
        lines.append(
            f"- Goal ≤ 0.5 µs per prepared decision: `is_allowed` takes **{fmt(t['test_tessera_is_allowed'])}**"
            + (f", a batch **{fmt(t['test_tessera_batch'])}** per request." if "test_tessera_batch" in t else ".")
        )
        lines.append(
            f"- Dict in, dict out, as cedarpy is used: `Engine.authorize` is "
            f"**{t['test_cedarpy_strings'] / t['test_tessera_authorize']:,.0f}×** faster than cedarpy with policy "
            f"text, **{t['test_cedarpy_handles'] / t['test_tessera_authorize']:,.0f}×** faster than cedarpy with "
            f"pre-parsed handles, **{t['test_casbin_enforce'] / t['test_tessera_authorize']:,.0f}×** faster "
            "than pycasbin."
        )
        lines.append(
            f"- The fast path against the peers' best: `is_allowed` is "
            f"**{t['test_cedarpy_handles'] / t['test_tessera_is_allowed']:,.0f}×** faster than cedarpy (handles) and "
            f"**{t['test_casbin_enforce'] / t['test_tessera_is_allowed']:,.0f}×** faster than pycasbin."
        )
    lines += ["", "### RS256 verification (2048-bit key, Cognito-shaped access token)", ""]
    if pyjwt:
        lines += [
            "| call | per token (median) | × faster than PyJWT |",
            "| --- | ---: | ---: |",
        ]
        for label, v in rs_rows:
            lines.append(f"| {label} | {fmt(v)} | {pyjwt / v:,.1f} |")
        lines.append("")
        if "test_tessera_rs256_fresh" in t:
            lines.append(
                f"- Goal ≥ 2× PyJWT: every token new (no cache help) **{pyjwt / t['test_tessera_rs256_fresh']:.1f}×**; "
                f"a token seen before **{pyjwt / t['test_tessera_rs256_repeat']:.1f}×**. Both check the same claims "
                "(signature, `exp`, `iat`, `iss`, `client_id`, `token_use`) and read the clock; tessera's "
                f"crypto backend is `{data.get('tessera_crypto_backend', 'aws-lc-rs')}`, PyJWT's is `cryptography`."
            )
        if "test_tessera_keyset_fresh" in t and "test_cryptography_rs256_bare" in t:
            bare = t["test_cryptography_rs256_bare"]
            fresh = t["test_tessera_keyset_fresh"]
            lines.append(
                f"- Through a `KeySet` (goals: every token new ≤ 1.3× the bare `cryptography` verify and ≥ 2.5× "
                f"PyJWT; seen before ≤ 3 µs): every token new **{fresh / bare:.2f}×** the bare verify, "
                f"**{pyjwt / fresh:.1f}×** faster than PyJWT; seen before **{fmt(t['test_tessera_keyset_seen'])}**."
            )
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    bench_json, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    data = json.loads(bench_json.read_text())
    section = render(data)
    text = target.read_text() if target.exists() else "# Benchmarks\n\n"
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        end = len(text) if nxt < 0 else nxt + 1
        text = text[:start] + section + ("\n" if nxt >= 0 else "") + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    target.write_text(text)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How engines and realms show themselves: ``repr`` for a console and
``_repr_html_`` for a notebook, from the policy document in force (and, for a
realm, how many users, API tokens and live sessions it holds). Nothing secret
is shown: counts and names only."""

from __future__ import annotations

import html
from typing import Any, Mapping

__all__ = ["policy_summary", "policy_html", "counted"]


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _names(doc: Mapping[str, Any], key: str) -> list[str]:
    value = doc.get(key)
    return [str(k) for k in value] if isinstance(value, (Mapping, list)) else []


def policy_summary(doc: Mapping[str, Any]) -> str:
    """``3 roles (user, admin, owner), 12 operations, 2 groups, 0 grants``."""
    roles = _names(doc, "roles")
    shown = ", ".join(roles[:6]) + (", …" if len(roles) > 6 else "")
    parts = [counted(len(roles), "role") + (f" ({shown})" if roles else "")]
    for key, noun in (("operations", "operation"), ("groups", "group"), ("grants", "grant")):
        parts.append(counted(len(_names(doc, key)), noun))
    return ", ".join(parts)


def policy_html(title: str, doc: Mapping[str, Any], extra: Mapping[str, int] = {}) -> str:
    """A small table: each role with what it inherits and its permissions, the
    counts of operations, groups and grants, and any ``extra`` counts."""
    esc = html.escape
    rows = []
    roles = doc.get("roles")
    if isinstance(roles, Mapping):
        for name, role in roles.items():
            role = role if isinstance(role, Mapping) else {}
            inherits = ", ".join(esc(str(r)) for r in role.get("inherits", []) or [])
            perms = " ".join(f"<code>{esc(str(p))}</code>" for p in role.get("permissions", []) or [])
            rows.append(f"<tr><td><b>{esc(str(name))}</b></td><td>{inherits}</td><td>{perms}</td></tr>")
    counts = {
        "operations": len(_names(doc, "operations")),
        "groups": len(_names(doc, "groups")),
        "grants": len(_names(doc, "grants")),
        **extra,
    }
    footer = ", ".join(counted(n, k.rstrip("s")) for k, n in counts.items())
    return (
        f'<div class="tessera"><b>{esc(title)}</b>'
        "<table><tr><th>role</th><th>inherits</th><th>permissions</th></tr>"
        + "".join(rows)
        + f"</table><div>{esc(footer)}</div></div>"
    )

"""Analysis for audits, notebooks and CI (SPEC §9): ``who_can``, ``permissions``,
``diff``, ``suggest`` and the role graph.

Every answer is exact, computed by the Rust core from the compiled policy by
enumeration (no solver, no sampling), and comes back as plain data: the same
JSON shapes as in every other binding (``to_dict()``), rows for a table
(``rows()``), an HTML table in a notebook (``_repr_html_``), and a pandas
DataFrame with ``to_pandas()`` when pandas is installed (it is optional)::

    engine = tessera.Engine("policy.json")
    engine.who_can("delete", {"type": "device", "id": "d-1"})      # who, and under what condition
    engine.permissions("manager").to_pandas()                      # the effective table of a role
    tessera.diff("old.json", "new.json")                           # what a change opens up
    engine.suggest(alice, "read", device)                          # what would allow a denial
    engine.role_graph().to_svg()                                   # inheritance, groups, denies
"""

from __future__ import annotations

import abc
import copy
import html
import importlib
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

from tessera import _native
from tessera._graph import RoleGraph
from tessera._types import AnyPrincipal, PolicySource, Principal, Resource

__all__ = ["WhoCan", "PermissionTable", "Diff", "Suggestions", "RoleGraph", "AnalysisMixin", "diff"]

Row = dict[str, Any]


def _cell(value: Any) -> str:
    e = html.escape
    if value is None or value == "":
        return "—"
    if value is True:
        return '<b style="color:#1a7f37">yes</b>'
    if value is False:
        return '<span style="color:#cf222e">no</span>'
    if isinstance(value, (list, tuple)):
        return e(", ".join(str(v) for v in value)) or "—"
    return f"<code>{e(str(value))}</code>"


def _table(rows: Sequence[Row], columns: Sequence[str], css: str, empty: str) -> str:
    if not rows:
        return f'<div class="{css}"><p>{html.escape(empty)}</p></div>'
    head = "".join(f'<th style="text-align:left">{html.escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="text-align:left">{_cell(r.get(c))}</td>' for c in columns) + "</tr>"
        for r in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class _Result(abc.ABC):
    """Plain data from the core, with table views. Compares by its data.

    Each result kind says how its data flattens into rows (``rows``).
    """

    __slots__ = ("_data",)
    _columns: tuple[str, ...] = ()
    _css = "tessera-analysis"
    _empty = "Nothing to show."

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The SPEC's JSON shape (a deep copy: changing it changes nothing here)."""
        return copy.deepcopy(self._data)

    @abc.abstractmethod
    def rows(self) -> list[Row]:
        """One flat dict per row of the table (what ``to_pandas`` holds)."""

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs ``pip install pandas``)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as e:  # pandas is optional
            raise ImportError("to_pandas() needs pandas, which is optional: pip install pandas") from e
        return pandas.DataFrame(self.rows(), columns=list(self._columns))

    def _repr_html_(self) -> str:
        return _table(self.rows(), self._columns, self._css, self._empty)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Result) or type(other) is not type(self):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # mutable data inside

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


def _via(entry: Mapping[str, Any]) -> str:
    return " → ".join(entry.get("via") or [])


class WhoCan(_Result):
    """Who could do ``action`` on ``resource``: every role, group and grant
    whose labels allow it (``allowed_by``), with the condition (``any``,
    ``own``: the principal must own it, ``instance``: the label names it), the
    role path it is reached by, and the denies that override it; the denies
    (``denied_by``); what each holder gets alone (``holders``); and the labels
    a principal may hold itself (``labels``)."""

    __slots__ = ()
    _columns = ("effect", "kind", "name", "rule", "source", "via", "condition", "overridden_by")
    _css = "tessera-who-can"
    _empty = "No role, group or grant allows this."

    @property
    def action(self) -> str:
        return str(self._data["action"])

    @property
    def resource(self) -> Resource:
        return self._data["resource"]  # type: ignore[no-any-return]

    @property
    def allowed_by(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["allowed_by"])

    @property
    def denied_by(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["denied_by"])

    @property
    def holders(self) -> list[dict[str, Any]]:
        """``[{kind, name, when_owner, otherwise}]``: what each holder alone gets."""
        return copy.deepcopy(self._data["holders"])

    @property
    def labels(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["labels"])

    def names(self, kind: str = "role", owner: bool = False) -> list[str]:
        """The holders of ``kind`` allowed alone (as the resource's owner if ``owner``)."""
        key = "when_owner" if owner else "otherwise"
        return [h["name"] for h in self._data["holders"] if h["kind"] == kind and h[key]]

    def rows(self) -> list[Row]:
        out: list[Row] = []
        for effect, key in (("allow", "allowed_by"), ("deny", "denied_by")):
            for a in self._data[key]:
                out.append({
                    "effect": effect, "kind": a["kind"], "name": a["name"], "rule": a["rule"],
                    "source": a["source"], "via": _via(a), "condition": a["condition"],
                    "overridden_by": [d["rule"] for d in a.get("overridden_by") or []],
                })
        return out

    def _repr_html_(self) -> str:
        e = html.escape
        holders = "".join(
            f"<li>{e(h['kind'])} <code>{e(h['name'])}</code>: "
            f"{'yes' if h['otherwise'] else ('as owner only' if h['when_owner'] else 'no (a deny wins)')}</li>"
            for h in self._data["holders"]
        )
        title = f"<p>Who can <code>{e(self.action)}</code> <code>{e(str(self.resource))}</code>?</p>"
        return (
            f'<div class="tessera-who-can">{title}<ul>{holders or "<li>nobody</li>"}</ul>'
            f"{super()._repr_html_()}</div>"
        )


class PermissionTable(_Result):
    """The effective permissions of a principal or a role: one cell per action ×
    subject × scope (``all``: anyone's, ``own``: its own and type-level
    requests, ``instance`` / ``own_instance``: a named instance), with the rule
    and source that decide it."""

    __slots__ = ()
    _columns = ("action", "subject", "scope", "instance", "allowed", "reason", "rule", "source")
    _css = "tessera-permissions"

    @property
    def principal(self) -> Principal:
        return copy.deepcopy(self._data["principal"])  # type: ignore[no-any-return]

    @property
    def effective_roles(self) -> list[str]:
        return list(self._data["effective_roles"])

    @property
    def unknown_roles(self) -> list[str]:
        return list(self._data["unknown_roles"])

    @property
    def cells(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["cells"])

    def rows(self) -> list[Row]:
        return [dict(c) for c in self._data["cells"]]

    def allowed(self) -> list[Row]:
        """Only the allowed cells."""
        return [r for r in self.rows() if r["allowed"]]

    def can(self, action: str, subject: str, scope: str = "all", instance: Optional[str] = None) -> bool:
        """The cell for ``action`` on ``subject`` in ``scope`` (``all``, ``own``,
        ``instance``, ``own_instance``). An instance no label names has no cell
        of its own: it answers as ``all`` (not owned) or ``own`` (owned)."""
        cells = [c for c in self._data["cells"] if c["action"] == action and c["subject"] == subject]
        if not cells:
            raise KeyError((action, subject))
        for c in cells:
            if c["scope"] == scope and c["instance"] == instance:
                return bool(c["allowed"])
        plain = {"instance": "all", "own_instance": "own"}.get(scope, scope)
        for c in cells:
            if c["scope"] == plain and c["instance"] is None:
                return bool(c["allowed"])
        raise KeyError((action, subject, scope, instance))


class Diff(_Result):
    """What differs between two policies: ``changes`` (each holder × action ×
    subject × scope whose decision differs, with both decisions), the
    ``vocabulary`` change and the ``operations`` whose access changed.
    ``empty`` (and ``not diff``) when the two decide every request alike."""

    __slots__ = ()
    _columns = (
        "kind", "name", "action", "subject", "scope", "instance",
        "a_allowed", "a_reason", "a_rule", "b_allowed", "b_reason", "b_rule",
    )
    _css = "tessera-diff"
    _empty = "No decision differs."

    @property
    def empty(self) -> bool:
        return bool(self._data["empty"])

    def __bool__(self) -> bool:
        return not self.empty

    @property
    def vocabulary(self) -> dict[str, list[str]]:
        return copy.deepcopy(self._data["vocabulary"])

    @property
    def changes(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["changes"])

    @property
    def operations(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["operations"])

    def rows(self) -> list[Row]:
        out: list[Row] = []
        for c in self._data["changes"]:
            row: Row = {k: c[k] for k in ("kind", "name", "action", "subject", "scope", "instance")}
            for side in ("a", "b"):
                row[f"{side}_allowed"] = c[side]["allowed"]
                row[f"{side}_reason"] = c[side]["reason"]
                row[f"{side}_rule"] = c[side]["rule"]
            out.append(row)
        return out

    def summary(self) -> list[str]:
        """One line per change, for a terminal (what ``tessera diff`` prints)."""
        lines: list[str] = []
        v = self._data["vocabulary"]
        for key, what in (("actions_added", "action added"), ("actions_removed", "action removed"),
                          ("subjects_added", "subject added"), ("subjects_removed", "subject removed")):
            lines.extend(f"{what}: {name}" for name in v[key])
        for c in self._data["changes"]:
            where = c["scope"] + (f" {c['instance']}" if c["instance"] else "")
            a, b = c["a"], c["b"]
            lines.append(
                f"{c['kind']} {c['name']}: {c['action']} {c['subject']} ({where}): "
                f"{_verdict(a)} -> {_verdict(b)}"
            )
        for o in self._data["operations"]:
            who = ", ".join(f"{h['kind']} {h['name']}" for h in o["holders"])
            lines.append(f"operation {o['operation']}: {o['change']}" + (f" ({who})" if who else ""))
        return lines

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [f'<div class="tessera-diff"><p><b>{"No change." if self.empty else "Changes:"}</b></p>']
        vocab = [line for line in self.summary() if line.startswith(("action ", "subject "))]
        if vocab:
            parts.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in vocab) + "</ul>")
        if self._data["changes"]:
            parts.append(_table(self.rows(), self._columns, "tessera-diff-changes", self._empty))
        if self._data["operations"]:
            ops = [{"operation": o["operation"], "change": o["change"],
                    "holders": [f"{h['kind']} {h['name']}" for h in o["holders"]]}
                   for o in self._data["operations"]]
            parts.append(_table(ops, ("operation", "change", "holders"), "tessera-diff-operations", ""))
        parts.append("</div>")
        return "".join(parts)


def _verdict(d: Mapping[str, Any]) -> str:
    word = "allowed" if d["allowed"] else d["reason"]
    return f"{word} ({d['rule']})" if d.get("rule") else str(word)


def _target(edit: Mapping[str, Any]) -> str:
    if "role" in edit:
        return f"role {edit['role']}"
    if "principal" in edit:
        return f"grants of {edit['principal']}"
    return "the principal" if edit["change"] != "add_limit" else "the credential's limits"


class Suggestions(_Result):
    """What would allow a denied request: ``suggestions``, each a list of
    ``edits`` (``add_label``, ``remove_label``, ``add_grant``, ``remove_grant``,
    ``add_role``, ``remove_permission``, ``add_limit``) verified by deciding
    again, with the ``decision`` they lead to. Empty when the request is
    allowed (or invalid)."""

    __slots__ = ()
    _columns = ("suggestion", "change", "target", "label", "then_allowed_by")
    _css = "tessera-suggestions"
    _empty = "Nothing to suggest."

    @property
    def decision(self) -> _native.Decision:
        d = self._data["decision"]
        return _native.Decision(d["allowed"], d["reason"], d.get("rule"), d.get("source"), d.get("message"))

    @property
    def suggestions(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._data["suggestions"])

    def __len__(self) -> int:
        return len(self._data["suggestions"])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.suggestions)

    def rows(self) -> list[Row]:
        out: list[Row] = []
        for n, s in enumerate(self._data["suggestions"], 1):
            for edit in s["edits"]:
                out.append({
                    "suggestion": n, "change": edit["change"], "target": _target(edit),
                    "label": edit.get("label") or edit.get("role"),
                    "then_allowed_by": f"{s['decision']['rule']} ({s['decision']['source']})",
                })
        return out


PolicyLike = Union[PolicySource, Mapping[str, Any]]


def _source(policy: object) -> Union[Mapping[str, Any], str, bytes]:
    from tessera import _policy_value  # the Engine's source rule (dict, path, JSON text)

    return _policy_value(policy)


def diff(policy_a: PolicyLike, policy_b: PolicyLike) -> Diff:
    """What differs between two policies (each a dict, a path or JSON text).

    A policy that does not load raises :class:`tessera.PolicyError` with its
    problems and ``path`` ``"policy_a"`` or ``"policy_b"``."""
    return Diff(_native._diff(_sided(policy_a, "policy_a"), _sided(policy_b, "policy_b")))


def _sided(policy: object, name: str) -> Union[Mapping[str, Any], str, bytes]:
    from tessera._errors import PolicyError

    try:
        return _source(policy)
    except PolicyError as e:  # an unreadable file: say which side
        e.path = name
        raise


class AnalysisMixin:
    """The analysis methods of :class:`tessera.Engine`."""

    __slots__ = ()

    def who_can(self, action: str, resource: Resource) -> WhoCan:
        """Every role, group and grant that would allow ``action`` on
        ``resource``; an unknown action or type raises ``ArgumentError``
        with code ``invalid_request``."""
        return WhoCan(_native._who_can(self, action, resource))  # type: ignore[arg-type]

    def permissions(self, of: Union[str, AnyPrincipal]) -> PermissionTable:
        """The effective permission table of a role (by name) or a principal."""
        return PermissionTable(_native._permissions(self, of))  # type: ignore[arg-type]

    def suggest(self, principal: AnyPrincipal, action: str, resource: Resource) -> Suggestions:
        """The smallest changes that would allow a denied request, each
        verified by deciding again."""
        return Suggestions(_native._suggest(self, principal, action, resource))  # type: ignore[arg-type]

    def diff(self, other: PolicyLike) -> Diff:
        """This engine's policy (A) against ``other`` (B: a dict, a path, JSON text)."""
        return Diff(_native._engine_diff(self, _sided(other, "policy_b")))  # type: ignore[arg-type]

    def role_graph(self) -> RoleGraph:
        """Roles, inheritance, groups and denies, to draw (``to_svg``, ``to_dot``)."""
        return RoleGraph(_native._role_graph(self))  # type: ignore[arg-type]


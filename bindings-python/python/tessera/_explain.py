"""``Explanation``: a decision with everything that led to it, readable in a
terminal (``repr``) and in a notebook (``_repr_html_``)."""

from __future__ import annotations

import copy
import html
from typing import Any, Dict, List, Literal, Mapping, NamedTuple, Optional, Tuple

from tessera._errors import ArgumentError, TesseraError
from tessera._native import Decision
from tessera._types import ExplanationDict, Reason

__all__ = ["Explanation", "MatchedRule"]


class MatchedRule(NamedTuple):
    """One rule that matched a request: the label, where it came from
    (``principal``, ``grant``, ``role:NAME``) and whether it allows or denies."""

    rule: str
    source: str
    effect: Literal["allow", "deny"]


def _strings(items: object, what: str) -> List[str]:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ArgumentError(f"explanation: {what} must be a list of str", code="invalid_argument")
    return list(items)


def _matched(m: object) -> Tuple[str, str, Literal["allow", "deny"]]:
    if not isinstance(m, Mapping):
        raise TypeError("a matched rule must be a dict")
    rule, source, effect = m["rule"], m["source"], m["effect"]
    if not (isinstance(rule, str) and isinstance(source, str) and effect in ("allow", "deny")):
        raise ValueError("a matched rule is {rule: str, source: str, effect: 'allow'|'deny'}")
    return rule, source, effect


class Explanation:
    """What ``Engine.explain`` returns: the decision (``allowed``, ``reason``,
    ``rule``, ``source``, ``message``), the principal's ``effective_roles``
    (breadth-first), the ``unknown_roles`` it named that the policy does not
    define, every rule that ``matched``, in the order they were considered, and
    for a denied request the ``suggestions`` that would allow it (SPEC §9: each
    ``{edits, decision}``, checked by deciding again; the same as
    ``Engine.suggest``), empty when allowed or invalid.

    Truthy when allowed. ``to_dict()`` gives the SPEC's JSON shape; in a
    notebook it renders as a table.
    """

    __slots__ = ("decision", "effective_roles", "unknown_roles", "matched", "suggestions")

    decision: Decision
    effective_roles: List[str]
    unknown_roles: List[str]
    matched: List[MatchedRule]
    suggestions: List[Dict[str, Any]]

    def __init__(
        self,
        decision: Decision,
        effective_roles: List[str],
        unknown_roles: List[str],
        matched: List[MatchedRule],
        suggestions: Optional[List[Dict[str, Any]]] = None,
    ) -> None:
        self.decision = decision
        self.effective_roles = list(effective_roles)
        self.unknown_roles = list(unknown_roles)
        self.matched = list(matched)
        self.suggestions = copy.deepcopy(list(suggestions or []))

    @classmethod
    def from_dict(cls, data: ExplanationDict) -> Explanation:
        """Builds an explanation from its JSON shape (as ``to_dict`` returns).

        Raises :class:`ArgumentError` if ``data`` does not have that shape."""
        try:
            decision = Decision(
                data["allowed"],
                data["reason"],
                data["rule"],
                data["source"],
                data.get("message"),
            )
            matched = [MatchedRule(*_matched(m)) for m in data["matched"]]
            roles = _strings(data["effective_roles"], "effective_roles")
            unknown = _strings(data["unknown_roles"], "unknown_roles")
            suggestions = data.get("suggestions", [])
            if not isinstance(suggestions, list) or not all(
                isinstance(x, Mapping) and isinstance(x.get("edits"), list) and isinstance(x.get("decision"), Mapping)
                for x in suggestions
            ):
                raise ValueError("suggestions must be a list of {edits: [...], decision: {...}}")
        except TesseraError:
            raise
        except Exception as e:  # a missing key, a wrong type, a mapping that fails to read
            raise ArgumentError(f"explanation: not the shape of Explanation.to_dict(): {e!r}", code="invalid_argument") from e
        return cls(decision, roles, unknown, matched, [dict(x) for x in suggestions])

    @property
    def allowed(self) -> bool:
        """Whether the request is allowed."""
        return self.decision.allowed

    @property
    def reason(self) -> Reason:
        """Why (see ``Decision.reason``)."""
        return self.decision.reason

    @property
    def rule(self) -> Optional[str]:
        """The label that decided, or None."""
        return self.decision.rule

    @property
    def source(self) -> Optional[str]:
        """Where the deciding label came from, or None."""
        return self.decision.source

    @property
    def message(self) -> Optional[str]:
        """Why the request is invalid (reason ``invalid_request`` only)."""
        return self.decision.message

    def __bool__(self) -> bool:
        return self.decision.allowed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Explanation):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable lists inside

    def to_dict(self) -> ExplanationDict:
        """The SPEC's JSON shape: the decision's keys plus ``effective_roles``,
        ``unknown_roles``, ``matched`` (``[{rule, source, effect}]``) and
        ``suggestions`` (``[{edits, decision}]``)."""
        out: dict[str, Any] = dict(self.decision.to_dict())
        out["effective_roles"] = list(self.effective_roles)
        out["unknown_roles"] = list(self.unknown_roles)
        out["matched"] = [m._asdict() for m in self.matched]
        out["suggestions"] = copy.deepcopy(self.suggestions)
        return out  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (
            f"Explanation({self.decision!r}, effective_roles={self.effective_roles!r}, "
            f"unknown_roles={self.unknown_roles!r}, matched={[tuple(m) for m in self.matched]!r}, "
            f"suggestions={self.suggestions!r})"
        )

    def _repr_html_(self) -> str:
        """A table for Jupyter: the verdict, the roles, and every matched rule
        with the deciding one marked."""
        e = html.escape
        verdict = "allowed" if self.allowed else "denied"
        colour = "#1a7f37" if self.allowed else "#cf222e"
        rows = [
            ("decision", f'<b style="color:{colour}">{verdict}</b>'),
            ("reason", f"<code>{e(self.reason)}</code>"),
            ("rule", f"<code>{e(self.rule)}</code>" if self.rule else "—"),
            ("source", f"<code>{e(self.source)}</code>" if self.source else "—"),
        ]
        if self.message:
            rows.append(("message", e(self.message)))
        rows.append(("effective roles", e(", ".join(self.effective_roles)) or "—"))
        if self.unknown_roles:
            rows.append(("unknown roles", e(", ".join(self.unknown_roles))))
        head = "".join(
            f'<tr><th style="text-align:left">{e(k)}</th><td style="text-align:left">{v}</td></tr>'
            for k, v in rows
        )
        if self.matched:
            body = "".join(
                "<tr>"
                f'<td style="text-align:left"><code>{e(m.rule)}</code></td>'
                f'<td style="text-align:left">{e(m.source)}</td>'
                f'<td style="text-align:left">{e(m.effect)}</td>'
                f'<td style="text-align:left">{"◀ decides" if (m.rule, m.source) == (self.rule, self.source) else ""}</td>'
                "</tr>"
                for m in self.matched
            )
            matched = (
                '<table class="tessera-matched">'
                '<thead><tr><th style="text-align:left">matched rule</th><th style="text-align:left">source</th>'
                '<th style="text-align:left">effect</th><th></th></tr></thead>'
                f"<tbody>{body}</tbody></table>"
            )
        else:
            matched = "<p>No rule matched.</p>"
        return f'<div class="tessera-explanation"><table>{head}</table>{matched}{self._suggestions_html()}</div>'

    def _suggestions_html(self) -> str:
        if not self.suggestions:
            return ""
        e = html.escape

        def edit(x: Mapping[str, Any]) -> str:
            target = x.get("role") or x.get("principal") or ""
            label = x.get("label")
            what = f"{e(str(x.get('change')))} <code>{e(str(label))}</code>" if label else e(str(x.get("change")))
            return f"{what} → {e(str(target))}" if target and label else f"{what} <code>{e(str(target))}</code>" if target else what

        items = "".join(
            "<li>" + "; ".join(edit(x) for x in s["edits"]) + f" (then allowed by <code>{e(str(s['decision'].get('rule')))}</code>)</li>"
            for s in self.suggestions
        )
        return f'<p>What would allow it:</p><ol class="tessera-suggestions">{items}</ol>'

"""``ForbiddenError``: a refused decision raised, for code outside a route
(``Engine.assert_allowed``, ``Engine.assert_operation``), in the way of CASL's
``ForbiddenError.throwUnlessCan``. The decision itself is the core's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from tessera._errors import TesseraError

if TYPE_CHECKING:
    from tessera._native import Decision

__all__ = ["ForbiddenError"]


def _rebuild_forbidden(message: str, decision: Decision) -> ForbiddenError:
    return ForbiddenError(message, decision)


class ForbiddenError(TesseraError):
    """A decision that refused (``code`` ``forbidden``). ``decision`` is the
    whole :class:`tessera.Decision`; ``reason`` its reason (``no_match``,
    ``denied``, ``unauthenticated``, ``missing_group``, ``invalid_request``, ...)."""

    kind: ClassVar[str] = "forbidden"

    def __init__(self, message: str, decision: Decision) -> None:
        super().__init__(message, code="forbidden")
        self.decision = decision
        self.reason: str = decision.reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_forbidden, (self.message, self.decision))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["reason"] = self.reason
        return out

"""The exceptions of :mod:`tessera`.

Every error the package raises for a bad input or a refused credential is a
:class:`TesseraError`. The subclass says which family it belongs to and, where it
helps ``except`` clauses written for the standard library, also derives from the
matching built-in exception:

==================  ==========================  =======================================
class               also a                      raised for
==================  ==========================  =======================================
``LabelError``      ``ValueError``              a permission label that does not parse
``PolicyError``     ``ValueError``              a policy that does not load (``problems``)
``TokenError``      (nothing else)              a refused credential (``code``)
``ArgumentError``   ``TypeError``, ``ValueError``  an argument of the wrong type or shape
``RealmError``      (nothing else)              a refused ``Realm`` operation
``InternalError``   (nothing else)              a bug in tessera (please report it)
==================  ==========================  =======================================

``TokenError`` is deliberately *not* a ``PermissionError``: that one is an ``OSError``
(errno, filename), and a web framework or an ``except OSError`` around file handling
would treat a forged token as an I/O failure.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable, Mapping, NamedTuple, Optional, Union

__all__ = [
    "Problem",
    "TesseraError",
    "LabelError",
    "PolicyError",
    "TokenError",
    "ArgumentError",
    "RealmError",
    "InternalError",
]


class Problem(NamedTuple):
    """One problem found while loading a policy.

    ``path`` is the JSON path of the fault in the policy document, such as
    ``roles.admin.permissions[2]`` (empty for the document as a whole).
    """

    code: str
    message: str
    path: str

    def to_dict(self) -> dict[str, str]:
        """``{"code", "message", "path"}``, the SPEC's JSON shape."""
        return {"code": self.code, "message": self.message, "path": self.path}


_ProblemLike = Union[Problem, Mapping[str, Any], "tuple[str, str, str]"]


def _problem(p: _ProblemLike) -> Problem:
    if isinstance(p, Problem):
        return p
    if isinstance(p, Mapping):
        return Problem(str(p["code"]), str(p["message"]), str(p.get("path", "")))
    code, message, path = p
    return Problem(code, message, path)


def _rebuild(
    cls: type[TesseraError],
    message: str,
    code: str,
    path: Optional[str],
    offset: Optional[int],
    problems: list[Problem],
) -> TesseraError:
    return cls(message, code=code, path=path, offset=offset, problems=problems)


class TesseraError(Exception):
    """Base class of every error tessera raises.

    Attributes:
        code: stable machine code, part of the contract (``syntax``,
            ``invalid_policy``, ``expired``, ``invalid_argument``, ...).
        message: the human explanation (also ``str(error)``).
        path: JSON path of the fault, where there is one, else None.
        offset: byte offset of the fault in a label, where there is one, else None.
        problems: every problem of a failed policy load (empty otherwise).
    """

    #: The error family: ``label``, ``policy``, ``token``, ``argument``, ``realm``, ``internal``.
    kind: ClassVar[str] = "error"

    code: str
    message: str
    path: Optional[str]
    offset: Optional[int]
    problems: list[Problem]

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        path: Optional[str] = None,
        offset: Optional[int] = None,
        problems: Iterable[_ProblemLike] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        self.offset = offset
        self.problems = [_problem(p) for p in problems]

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [f"code={self.code!r}", f"message={self.message!r}"]
        if self.path is not None:
            parts.append(f"path={self.path!r}")
        if self.offset is not None:
            parts.append(f"offset={self.offset!r}")
        if self.problems:
            parts.append(f"problems={self.problems!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), self.message, self.code, self.path, self.offset, self.problems),
        )

    def to_dict(self) -> dict[str, Any]:
        """The error as the SPEC's JSON shape: ``kind``, ``code``, ``message``,
        and ``path``, ``offset``, ``problems`` when they apply."""
        out: dict[str, Any] = {"kind": self.kind, "code": self.code, "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        if self.offset is not None:
            out["offset"] = self.offset
        if self.problems:
            out["problems"] = [p.to_dict() for p in self.problems]
        return out


class LabelError(TesseraError, ValueError):
    """A permission label did not parse.

    ``code`` is one of ``syntax``, ``unknown_action``, ``unknown_subject``,
    ``own_with_instance``, ``too_long``; ``offset`` is the byte where the text
    stopped making sense.
    """

    kind: ClassVar[str] = "label"


class PolicyError(TesseraError, ValueError):
    """A policy document did not load (``code`` ``invalid_policy``).

    ``problems`` lists every problem found, each with ``code``, ``message`` and
    ``path`` (``roles.admin.inherits[0]``). A failed ``Engine.load`` leaves the
    engine's previous policy in force.
    """

    kind: ClassVar[str] = "policy"


class TokenError(TesseraError):
    """A credential was refused; ``code`` says why (SPEC §6): ``too_large``,
    ``malformed``, ``unsupported_alg``, ``unsupported_crit``, ``unknown_key``,
    ``weak_key``, ``bad_signature``, ``expired``, ``not_yet_valid``,
    ``wrong_issuer``, ``wrong_token_use``, ``wrong_client``, ``wrong_audience``,
    ``too_old``, ``missing_claim``, ``session_ended``, ``revoked``,
    ``unknown_token``, ``suspended``, ``invalid_transition``.

    Not a ``PermissionError`` (an ``OSError``): see the module documentation.
    """

    kind: ClassVar[str] = "token"


class ArgumentError(TesseraError, TypeError, ValueError):
    """An argument had the wrong type or shape (``code`` ``invalid_argument``):
    a non-``str`` action, a principal whose ``roles`` is not a list, an unknown
    key in a resource, a ``now`` that is not an ``int``, ...

    It is a ``TypeError`` (wrong types are the common case) and a ``ValueError``
    (an empty owner or an out-of-range lifespan has the right type but not an
    acceptable value), so either standard ``except`` clause catches it.
    Calling a function with missing or extra arguments is a plain ``TypeError``
    raised by Python itself.
    """

    kind: ClassVar[str] = "argument"


class RealmError(TesseraError):
    """A ``Realm`` operation was refused: ``forbidden`` (the policy does not
    allow the actor), ``not_found``, ``conflict`` (a username or id taken),
    ``invalid_credentials`` (unknown username or wrong password).
    """

    kind: ClassVar[str] = "realm"


class InternalError(TesseraError):
    """A bug in tessera (``code`` ``internal``): the Rust core panicked. The
    engine is still usable; please report the call that caused it."""

    kind: ClassVar[str] = "internal"


# Shown (and pickled) as `tessera.X`, where users import them from.
for _cls in (Problem, TesseraError, LabelError, PolicyError, TokenError, ArgumentError, RealmError, InternalError):
    _cls.__module__ = "tessera"
del _cls

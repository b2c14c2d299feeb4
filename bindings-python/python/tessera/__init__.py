"""tessera — one authorization engine: permission labels, roles, operations and tokens.

The Rust core of tessera, for Python (PyPI ``tessera-policy``)::

    import tessera

    engine = tessera.Engine("policy.json")          # or a dict, or JSON text
    alice = {"id": "u-1", "roles": ["user"]}
    decision = engine.authorize(alice, "read", {"type": "device", "id": "d-1", "owner": "u-1"})
    if decision:                                     # truthy when allowed
        ...
    print(decision)   # Decision(allowed=True, reason='allowed', rule='read_own_device', source='role:user')

    fast = engine.prepare(alice)                     # the hot path: no dict per call
    fast.is_allowed("update", "device", id="d-1", owner="u-1")

Every operation of the SPEC is a method of :class:`Engine` (``parse_label``,
``format_label`` and ``parse_authorization`` are also functions). Shapes and
codes are the SPEC's, in snake_case. Errors are :class:`TesseraError`
subclasses with a stable ``code``. Engines and prepared principals are
immutable from Python's side and safe to share across threads; the GIL is
released around the work that takes time (token cryptography, batches,
policy compilation).
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Optional, Union

from tessera import _native
from tessera._errors import (
    ArgumentError,
    InternalError,
    LabelError,
    PolicyError,
    Problem,
    RealmError,
    TesseraError,
    TokenError,
)
from tessera._analysis import AnalysisMixin, Diff, PermissionTable, RoleGraph, Suggestions, WhoCan, diff
from tessera._display import policy_html, policy_summary
from tessera._explain import Explanation, MatchedRule
from tessera._keyset import KeySet
from tessera._store import Store, StoredRealm, StoreError
from tessera._forbidden import ForbiddenError
from tessera._native import (
    REASONS,
    Decision,
    PreparedPrincipal,
    crypto_backend,
    format_label,
    parse_authorization,
    parse_label,
    resume_api_token,
    revoke_api_token,
    suspend_api_token,
)
from tessera._types import (
    ApiTokenOptions,
    ApiTokenRecord,
    ApiTokenState,
    BatchRequest,
    Credential,
    DecisionDict,
    ExplanationDict,
    Jwk,
    Jwks,
    Label,
    MatchedRuleDict,
    NewApiToken,
    OperationContext,
    PolicyDocument,
    PolicySource,
    Principal,
    VerifiedPrincipal,
    AnyPrincipal,
    Argon2Options,
    RealmOptions,
    RealmSnapshot,
    Reason,
    Resource,
    Revocations,
    SessionGrant,
    SessionOptions,
    User,
    UserOptions,
)

__version__: str = _native.__version__

__all__ = [
    "__version__",
    "REASONS",
    # engine and results
    "Engine",
    "Realm",
    "KeySet",
    "StoredRealm",
    "Store",
    "PreparedPrincipal",
    "Decision",
    "Explanation",
    "MatchedRule",
    # analysis (SPEC §9)
    "WhoCan",
    "PermissionTable",
    "Diff",
    "Suggestions",
    "RoleGraph",
    "diff",
    # functions
    "parse_label",
    "format_label",
    "parse_authorization",
    "suspend_api_token",
    "resume_api_token",
    "revoke_api_token",
    "crypto_backend",
    # errors
    "TesseraError",
    "LabelError",
    "PolicyError",
    "TokenError",
    "ArgumentError",
    "RealmError",
    "StoreError",
    "InternalError",
    "ForbiddenError",
    "Problem",
    # shapes
    "ApiTokenOptions",
    "ApiTokenRecord",
    "ApiTokenState",
    "BatchRequest",
    "Credential",
    "DecisionDict",
    "ExplanationDict",
    "Jwk",
    "Jwks",
    "Label",
    "MatchedRuleDict",
    "NewApiToken",
    "OperationContext",
    "PolicyDocument",
    "PolicySource",
    "Principal",
    "VerifiedPrincipal",
    "AnyPrincipal",
    "Reason",
    "Resource",
    "Revocations",
    "SessionGrant",
    "SessionOptions",
    "User",
    "UserOptions",
    "Argon2Options",
    "RealmOptions",
    "RealmSnapshot",
]


def _unreadable(what: str) -> PolicyError:
    return PolicyError(
        f"invalid policy: {what}",
        code="invalid_policy",
        problems=[Problem("unreadable", what, "")],
    )


def _show(path: Union[str, os.PathLike[str]]) -> str:
    try:
        return repr(os.fsdecode(path))
    except Exception:  # a hostile __fspath__ or __repr__: name the type only
        return f"<{type(path).__name__}>"


def _read_path(path: Union[str, os.PathLike[str]]) -> bytes:
    """The file's bytes; the core reads them as JSON text (``invalid_json``
    when they are not UTF-8 or not JSON)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise _unreadable(f"cannot read policy file {_show(path)}: {e.strerror or e}") from e
    except Exception as e:  # an embedded NUL, a lone surrogate, an __fspath__ that raises
        raise ArgumentError(
            f"policy: not a usable path: {type(e).__name__}: {e}", code="invalid_argument", path="policy"
        ) from e


def _policy_value(policy: object) -> Union[Mapping[str, Any], str, bytes]:
    """Turns a policy source into what the core reads: a mapping or JSON text.

    The rule (documented on :class:`Engine`):

    - a ``dict`` (any mapping) is the policy document itself;
    - ``bytes``/``bytearray`` are JSON text (UTF-8);
    - an ``os.PathLike`` (``pathlib.Path``) is always a file to read;
    - a ``str`` whose first non-blank character is ``{`` is JSON text (a policy
      document is always a JSON object); any other ``str`` is a file path.
    """
    if isinstance(policy, str):
        if policy.lstrip()[:1] == "{":
            return policy
        if not policy.strip():
            raise ArgumentError(
                "policy: an empty string is neither JSON text nor a path", code="invalid_argument"
            )
        return _read_path(policy)
    if isinstance(policy, (bytes, bytearray)):
        return bytes(policy)
    if isinstance(policy, os.PathLike):
        try:
            path = os.fspath(policy)
        except Exception as e:  # whatever a hostile __fspath__ raises: still our error
            raise ArgumentError(
                f"policy: the path-like's __fspath__ failed: {type(e).__name__}: {e}",
                code="invalid_argument",
                path="policy",
            ) from e
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return _read_path(path)
    if isinstance(policy, Mapping):
        return policy
    raise ArgumentError(
        "policy: expected a dict, JSON text, or a path "
        f"(str or os.PathLike), got {type(policy).__name__}",
        code="invalid_argument",
    )


class Engine(AnalysisMixin, _native.Engine):
    """A policy, loaded and compiled once, and every decision made with it.

    ``policy`` may be:

    - a ``dict`` (any ``Mapping``): the policy document of SPEC §2;
    - a ``pathlib.Path`` (any ``os.PathLike``): a JSON file to read;
    - a ``str``: **JSON text if its first non-blank character is** ``{``
      (a policy is always a JSON object), **otherwise a file path**. Use
      :meth:`from_path` / :meth:`from_json` to say which explicitly;
    - ``bytes``: JSON text in UTF-8.

    Raises :class:`PolicyError` listing every problem (``.problems``), including
    an unreadable file (problem code ``unreadable``) and text that is not JSON
    (``invalid_json``); :class:`ArgumentError` for any other type.

    An engine is safe to share across threads. :meth:`load` replaces the policy
    atomically: a failed load leaves the old policy in force.
    """

    __slots__ = ()

    def __new__(cls, policy: PolicySource) -> Engine:
        return super().__new__(cls, _policy_value(policy))

    @classmethod
    def from_path(cls, path: Union[str, os.PathLike[str]]) -> Engine:
        """Loads the policy in the JSON file at ``path`` (whatever the string looks like)."""
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentError(
                f"path: expected str or os.PathLike, got {type(path).__name__}", code="invalid_argument"
            )
        return cls(_read_path(path))

    @classmethod
    def from_json(cls, text: Union[str, bytes, bytearray]) -> Engine:
        """Loads a policy from JSON text (never read as a path)."""
        if isinstance(text, (bytes, bytearray)):
            return cls(bytes(text))
        if not isinstance(text, str):
            raise ArgumentError(f"text: expected str, got {type(text).__name__}", code="invalid_argument")
        return super().__new__(cls, text)

    def load(self, policy: PolicySource) -> None:
        """Replaces the policy atomically (same sources as the constructor);
        on error the old policy stays in force."""
        super().load(_policy_value(policy))

    def explain(self, principal: AnyPrincipal, action: str, resource: Resource) -> Explanation:
        """The decision for ``principal`` doing ``action`` on ``resource``, with
        the effective roles, the unknown roles, and every rule that matched."""
        return Explanation.from_dict(self._explain(principal, action, resource))

    def assert_allowed(self, principal: AnyPrincipal, action: str, resource: Resource) -> Decision:
        """The decision of :meth:`authorize` when it allows; else raises
        :class:`ForbiddenError` carrying it (for code outside a route)::

            engine.assert_allowed(alice, "delete", {"type": "device", "id": "d-1"})
        """
        decision = self.authorize(principal, action, resource)
        if not decision.allowed:
            raise ForbiddenError(
                f"{action} on {resource.get('type')!s} refused: {decision.reason}", decision
            )
        return decision

    def assert_operation(
        self, principal: Optional[AnyPrincipal], operation: str, context: Optional[OperationContext] = None
    ) -> Decision:
        """The decision of :meth:`authorize_operation` when it allows; else raises
        :class:`ForbiddenError` carrying it. A refused path (``invalid_path``) is
        the core's :class:`ArgumentError`, as from ``authorize_operation``."""
        decision = self.authorize_operation(principal, operation, context)
        if not decision.allowed:
            raise ForbiddenError(f"{operation} refused: {decision.reason}", decision)
        return decision

    @classmethod
    def _of_realm(cls, realm: _native.Realm) -> Engine:
        """The engine a realm owns, shared (``Realm.engine``)."""
        return _native.Engine.__new__(cls, realm)

    async def verify_jwt_async(
        self, token: str, jwks: Union["KeySet", Jwks, str, bytes], now: Optional[int] = None
    ) -> VerifiedPrincipal:
        """:meth:`verify_jwt` for asyncio code: a fetch the key set needs runs
        in a worker thread (``KeySet.refresh_async``), so the event loop never
        blocks; the verification itself is CPU-only (microseconds)."""
        if not isinstance(jwks, KeySet):
            return self.verify_jwt(token, jwks, now)
        at = int(time.time()) if now is None else now
        if jwks._needs_fetch(at):
            await jwks.refresh_async(at)
        try:
            return self.verify_jwt(token, jwks, now, fetch=False)
        except TokenError as e:
            if e.code != "unknown_key" or not jwks._refetch_for(token, at):
                raise
        await jwks.refresh_async(at, token)
        return self.verify_jwt(token, jwks, now, fetch=False)

    def __repr__(self) -> str:
        return f"<tessera.Engine: {policy_summary(self.policy_document())}>"

    def _repr_html_(self) -> str:
        return policy_html("tessera.Engine", self.policy_document())


from tessera._realm import Realm  # noqa: E402  (needs Engine and _policy_value above)


"""What the web framework integrations (:mod:`tessera.fastapi`, :mod:`tessera.flask`)
share: reading ``Authorization``, authenticating it, and asking the core's
operations table about ``METHOD /raw/path``. No policy logic lives here: which
operation a request is (HEAD as GET, percent-decoding, the trailing slash, refused
paths) and whether it is allowed are the core's answers (docs/decisions.md, Paths).

The outcome of a check is an :class:`Outcome`; each integration turns it into its
framework's response (400, 401 with ``WWW-Authenticate``, 403, 404) or lets the
request through with the principal attached.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping, Optional, Sequence, Union, cast

from tessera._errors import ArgumentError, TesseraError, TokenError
from tessera._keyset import KeySet as _KeySet
from tessera._native import parse_authorization
from tessera._types import AnyPrincipal, Jwks, OperationContext

if TYPE_CHECKING:
    from tessera import Engine, KeySet, Realm

__all__ = ["Outcome", "Guard", "Owners", "MAX_AUTHORIZATION_BYTES", "WAIT", "Wait"]

#: The largest ``Authorization`` header read (SPEC §6.1: a JWT is at most 16 KiB).
MAX_AUTHORIZATION_BYTES = 16 * 1024

#: What an owners hook may return: nothing (type level), one owner, several, or
#: a whole operation context (``id``, ``owner``, ``owners``).
Owners = Union[None, str, Sequence[str], OperationContext, Mapping[str, Any]]

Unknown = Literal["not_found", "pass"]


class Wait:
    """The type of :data:`WAIT`."""

    def __repr__(self) -> str:
        return "tessera._web.WAIT"


#: :meth:`Guard.authenticate_now`'s answer when a key fetch is due: await
#: :meth:`Guard.authenticate_async` instead.
WAIT = Wait()


class Outcome:
    """The answer for one request: ``status`` 200 (go on, with ``principal``;
    ``None`` for a public operation or a passed-through unknown one), 400, 401,
    403 or 404, with the JSON ``body`` and ``headers`` to send when refused."""

    __slots__ = ("status", "principal", "code", "reason", "operation")

    def __init__(
        self,
        status: int,
        *,
        principal: Optional[AnyPrincipal] = None,
        code: Optional[str] = None,
        reason: Optional[str] = None,
        operation: str = "",
    ) -> None:
        self.status = status
        self.principal = principal
        self.code = code
        self.reason = reason
        self.operation = operation

    @property
    def allowed(self) -> bool:
        return self.status == 200

    @property
    def body(self) -> dict[str, str]:
        """``{"error": code}`` and, for a 403, ``"reason"`` (the decision's reason)."""
        out = {"error": self.code or "error"}
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @property
    def headers(self) -> dict[str, str]:
        """RFC 6750 §3: a 401 names the scheme; a refused token also says
        ``error="invalid_token"`` and the tessera code."""
        if self.status != 401:
            return {}
        if self.code == "unauthenticated":
            return {"WWW-Authenticate": 'Bearer realm="tessera"'}
        return {
            "WWW-Authenticate": f'Bearer realm="tessera", error="invalid_token", error_description="{self.code}"'
        }

    def __repr__(self) -> str:
        return f"Outcome(status={self.status}, code={self.code!r}, reason={self.reason!r}, operation={self.operation!r})"


def _context(value: Owners) -> OperationContext:
    """The operation context an owners hook's answer stands for."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"owner": value}
    if isinstance(value, Mapping):
        return dict(value)  # type: ignore[return-value]  # checked by the core
    if isinstance(value, Iterable):
        owners = list(value)
        if all(isinstance(o, str) for o in owners):
            return {"owners": owners}
    raise ArgumentError(
        f"owners hook: expected None, a str, a list of str or an operation context, got {type(value).__name__}",
        code="invalid_argument",
    )


class Guard:
    """The framework-neutral check; the integrations build one from their arguments.

    - ``engine``: the :class:`tessera.Engine` whose ``operations`` table decides
      (default: ``realm.engine``).
    - ``realm``: authenticates session tokens, API tokens and, if the realm was
      given a key set, provider JWTs (``Realm.authenticate``).
    - ``keys``: a :class:`tessera.KeySet` (or a JWKS, parsed on every call) for provider JWTs when
      there is no realm (``Engine.verify_jwt``). Give a realm *or* keys: a realm
      that should also accept provider JWTs holds its own key set.
    - ``authenticate``: any other ``(authorization_header) -> principal`` that
      raises :class:`tessera.TokenError` on a refused credential.
    - ``unknown``: ``"not_found"`` (default) answers 404 for a request that is
      not in the table; ``"pass"`` lets it through unauthenticated (for routes
      the table does not govern, such as static files).
    - ``now``: a clock returning whole seconds, for tests (default: the real one).
    """

    __slots__ = ("engine", "realm", "keys", "_authenticate", "unknown", "now")

    def __init__(
        self,
        engine: Optional[Engine] = None,
        *,
        realm: Optional[Realm] = None,
        keys: Union[KeySet, Jwks, None] = None,
        authenticate: Optional[Callable[[str], AnyPrincipal]] = None,
        unknown: Unknown = "not_found",
        now: Optional[Callable[[], int]] = None,
    ) -> None:
        given = [name for name, v in (("realm", realm), ("keys", keys), ("authenticate", authenticate)) if v is not None]
        if len(given) > 1:
            raise ArgumentError(
                f"give one of realm, keys or authenticate, not {' and '.join(given)} "
                "(a realm that should accept provider JWTs holds its own key set)",
                code="invalid_argument",
            )
        if engine is None:
            if realm is None:
                raise ArgumentError("an engine (or a realm, whose engine is used) is required", code="invalid_argument")
            engine = realm.engine
        if unknown not in ("not_found", "pass"):
            raise ArgumentError(f"unknown: expected 'not_found' or 'pass', got {unknown!r}", code="invalid_argument")
        self.engine = engine
        self.realm = realm
        self.keys = keys
        self._authenticate = authenticate
        self.unknown = unknown
        self.now = now

    def _principal(self, header: str) -> AnyPrincipal:
        now = self.now() if self.now is not None else None
        if self.realm is not None:
            return self.realm.authenticate(header, now)
        token = parse_authorization(header)
        if self._authenticate is not None:
            return self._authenticate(header)
        if self.keys is not None:
            return self.engine.verify_jwt(token, self.keys, now)
        raise TokenError("no authenticator was configured (realm, keys or authenticate)", code="unauthenticated")

    def _principal_now(self, header: str) -> Union[AnyPrincipal, Wait]:
        """The principal, when no key fetch is due; else :data:`WAIT` (a key
        set that must fetch does it in :meth:`authenticate_async`, off the loop)."""
        if self.realm is None and self._authenticate is None and self.keys is not None:
            now = self.now() if self.now is not None else None
            token = parse_authorization(header)
            keys = self.keys
            if not isinstance(keys, _KeySet):
                return self.engine.verify_jwt(token, keys, now)
            if keys._needs_fetch(int(time.time()) if now is None else now):
                return WAIT
            try:
                return self.engine.verify_jwt(token, keys, now, fetch=False)
            except TokenError as e:
                # An unknown kid may be a rotation: the asynchronous call refetches if one is due.
                if e.code != "unknown_key":
                    raise
                return WAIT
        return self._principal(header)

    def operation(self, method: str, raw_path: str) -> str:
        """The operation key a request is asked as: ``METHOD /raw/path`` (the
        path still percent-encoded, so that the core decodes it once)."""
        return f"{method} {raw_path}"

    def anonymous(self, operation: str) -> Optional[Outcome]:
        """The answer that needs no credential: a refused path (400), an unknown
        operation (404 or pass) or a public one (200); None when a credential is needed."""
        try:
            decision = self.engine.authorize_operation(None, operation)
        except ArgumentError as e:
            return Outcome(400, code=e.code, operation=operation)
        if decision.reason == "unknown_operation":
            if self.unknown == "pass":
                return Outcome(200, operation=operation)
            return Outcome(404, code="not_found", operation=operation)
        if decision.allowed:
            return Outcome(200, operation=operation)
        return None

    @staticmethod
    def _header(headers: Sequence[str], operation: str) -> Union[str, Outcome]:
        """The one ``Authorization`` value, or the 401 for none (``unauthenticated``),
        repeated or joined by a proxy (``malformed``), or over 16 KiB (``too_large``)."""
        if not headers:
            return Outcome(401, code="unauthenticated", operation=operation)
        # WSGI servers join repeated headers with ","; no token form holds one.
        if len(headers) > 1 or "," in headers[0]:
            return Outcome(401, code="malformed", operation=operation)
        if len(headers[0]) > MAX_AUTHORIZATION_BYTES:
            return Outcome(401, code="too_large", operation=operation)
        return headers[0]

    @staticmethod
    def _refused(e: TesseraError, operation: str) -> Outcome:
        # A header the core cannot read as the text of a token is no credential.
        code = "malformed" if isinstance(e, ArgumentError) and e.code == "invalid_argument" else e.code
        return Outcome(401, code=code, operation=operation)

    def authenticate(self, headers: Sequence[str], operation: str = "") -> Union[AnyPrincipal, Outcome]:
        """The principal of the request's ``Authorization`` header values, or the
        401 to answer (a bad header, or a credential the authenticator refused)."""
        header = self._header(headers, operation)
        if isinstance(header, Outcome):
            return header
        try:
            return self._principal(header)
        except (TokenError, ArgumentError) as e:
            return self._refused(e, operation)

    def authenticate_now(self, headers: Sequence[str], operation: str = "") -> Union[AnyPrincipal, Outcome, Wait]:
        """:meth:`authenticate` for asyncio without a coroutine: the principal or
        the 401 when nothing needs waiting, else :data:`WAIT` (then await
        :meth:`authenticate_async`, which fetches the key set's keys off the loop)."""
        header = self._header(headers, operation)
        if isinstance(header, Outcome):
            return header
        try:
            return self._principal_now(header)
        except (TokenError, ArgumentError) as e:
            return self._refused(e, operation)

    async def authenticate_async(self, headers: Sequence[str], operation: str = "") -> Union[AnyPrincipal, Outcome]:
        """:meth:`authenticate` for asyncio: a key set's fetch runs off the event loop."""
        found = self.authenticate_now(headers, operation)
        if not isinstance(found, Wait):
            return found
        # authenticate_now read the one header and found a fetch due.
        try:
            now = self.now() if self.now is not None else None
            return await self.engine.verify_jwt_async(parse_authorization(headers[0]), cast("KeySet", self.keys), now)
        except (TokenError, ArgumentError) as e:
            return self._refused(e, operation)

    @property
    def verifies(self) -> bool:
        """Whether principals come from the package's own verifiers (the realm
        or the key set), not from an ``authenticate`` callable."""
        return self._authenticate is None

    def decide(self, principal: AnyPrincipal, operation: str, owners: Owners = None, *, verified: bool = False) -> Outcome:
        """Authorizes ``principal`` for ``operation`` with the owners hook's answer.

        ``verified``: the principal came from the package's own verifiers
        (:attr:`verifies`), so its raw ``claims`` are the core's own JSON, and
        the engine is asked without them: no decision reads a token's raw
        claims (SPEC §4–5 decide on roles, groups, permissions, scopes, limits
        and the credential), and converting them is most of the call's cost.
        The request still gets the whole principal."""
        asked: Any = principal
        if verified and type(principal) is dict and "claims" in principal:
            asked = dict(principal)
            del asked["claims"]
        try:
            decision = self.engine.authorize_operation(asked, operation, _context(owners))
        except TesseraError as e:
            # A principal the policy cannot read (a bad label in it) is refused, never let through.
            return Outcome(403, code="forbidden", reason=e.code, operation=operation)
        if decision.allowed:
            return Outcome(200, principal=principal, operation=operation)
        return Outcome(403, code="forbidden", reason=decision.reason, operation=operation)

"""FastAPI integration (``pip install "tessera-policy[fastapi]"``): a dependency
and a router-level guard over the policy's ``operations`` table.

::

    from fastapi import Depends, FastAPI
    import tessera
    from tessera.fastapi import Authorizer

    realm = tessera.Realm("policy.json", session_key)
    auth = Authorizer(realm=realm, owners=lambda request: devices.owner(request.path_params.get("id")))
    app = FastAPI()
    auth.install(app)                                 # every route, bad paths refused before routing
    router = auth.router(prefix="/api/v1")            # or: a guarded APIRouter

    @app.get("/api/v1/devices/{id}")
    def read(id: str, principal: tessera.Principal = Depends(auth)): ...

For each request the guard asks the core about ``METHOD /raw/path`` (HEAD as GET,
percent-decoding, one trailing slash; ``..`` or ``%2F`` inside a segment is 400
``invalid_path``), lets public operations through, reads ``Authorization``
(``Bearer <token>`` or a bare token), authenticates it, calls the ``owners`` hook
(sync or async; ``None``, an owner, a list of owners, or an operation context),
authorizes, and sets ``request.state.principal``. Refusals are
:class:`fastapi.HTTPException` with ``detail`` ``{"error": code}`` (and
``"reason"`` for a 403): 401 carries ``WWW-Authenticate: Bearer ...
error="invalid_token"``; an operation not in the table is 404, or passes through
with ``unknown="pass"``.

FastAPI's ``@app.get`` answers ``HEAD`` with 405; declare
``@app.api_route(path, methods=["GET", "HEAD"])`` where HEAD should work: the
guard then decides it as the GET operation.
"""

# No `from __future__ import annotations` here: FastAPI up to 0.115 reads the
# annotations of a callable instance (Authorizer.__call__) without its module's
# globals, so a string "Request" became a required query parameter (422).
import inspect
import json
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Optional, Union, cast

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from tessera._types import AnyPrincipal, Jwks
from tessera._web import Guard, Outcome, Owners, Unknown, Wait

if TYPE_CHECKING:
    from tessera import Engine, KeySet, Realm

__all__ = ["Authorizer", "OwnersHook"]

_ANONYMOUS = "tessera.anonymous"

#: ``owners(request)``: who owns what the request acts on (sync or async).
OwnersHook = Callable[[Request], Union[Owners, Awaitable[Owners]]]


def _raw_path(scope: Mapping[str, Any]) -> str:
    """The path as the client sent it (still percent-encoded; ASGI ``raw_path``)."""
    raw = scope.get("raw_path")
    if isinstance(raw, (bytes, bytearray)) and raw:
        return bytes(raw).decode("latin-1").split("?", 1)[0]
    return str(scope.get("path", "/"))


# Owners-hook answers that are never awaitable.
_PLAIN_ANSWERS = (str, list, tuple, dict)


class _Prefilter:
    """ASGI middleware (``Authorizer.install``): answers what needs no route
    before routing, so that a path with ``..`` or ``%2F`` in a segment is 400
    ``invalid_path`` even where no route matches (the router would say 404), and
    hands the anonymous answer on to the dependency, which need not ask again."""

    def __init__(self, app: Any, authorizer: "Authorizer") -> None:
        self.app = app
        self.guard = authorizer.guard

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            operation = self.guard.operation(scope["method"], _raw_path(scope))
            early = self.guard.anonymous(operation)
            if early is not None and early.status == 400:
                body = json.dumps({"detail": early.body}).encode()
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            scope[_ANONYMOUS] = (operation, early)
        await self.app(scope, receive, send)


class Authorizer:
    """A FastAPI dependency: ``Depends(Authorizer(...))`` on the app, a router or
    a route; it returns the principal (``None`` on a public or passed-through
    operation). Arguments as :class:`tessera._web.Guard`, plus ``owners``."""

    def __init__(
        self,
        engine: Optional["Engine"] = None,
        *,
        realm: Optional["Realm"] = None,
        keys: Union["KeySet", Jwks, None] = None,
        authenticate: Optional[Callable[[str], AnyPrincipal]] = None,
        owners: Optional[OwnersHook] = None,
        unknown: Unknown = "not_found",
        now: Optional[Callable[[], int]] = None,
    ) -> None:
        self.guard = Guard(engine, realm=realm, keys=keys, authenticate=authenticate, unknown=unknown, now=now)
        self.owners = owners

    @staticmethod
    def _refuse(outcome: Outcome) -> HTTPException:
        return HTTPException(outcome.status, detail=outcome.body, headers=outcome.headers or None)

    async def __call__(self, request: Request) -> Optional[AnyPrincipal]:
        guard = self.guard
        known = request.scope.get(_ANONYMOUS)
        if known is not None:
            operation, early = known
        else:
            operation = guard.operation(request.method, _raw_path(request.scope))
            early = guard.anonymous(operation)
        if early is not None:
            if not early.allowed:
                raise self._refuse(early)
            request.state.principal = None
            return None
        # The raw header list, as Starlette's `headers.getlist` reads it
        # (ASGI header names are lowercase), without building a Headers.
        values = [v.decode("latin-1") for k, v in request.scope["headers"] if k == b"authorization"]
        # No coroutine of the guard's own when no key fetch is due.
        found = guard.authenticate_now(values, operation)
        if isinstance(found, Wait):
            found = await guard.authenticate_async(values, operation)
        if isinstance(found, Outcome):
            raise self._refuse(found)
        owners: Owners = None
        if self.owners is not None:
            answer = self.owners(request)
            if answer is None or type(answer) in _PLAIN_ANSWERS:
                # The usual answers (None, an id, a list) need no awaitable check.
                owners = cast(Owners, answer)
            else:
                owners = await answer if inspect.isawaitable(answer) else answer
        outcome = guard.decide(found, operation, owners, verified=guard.verifies)
        if not outcome.allowed:
            raise self._refuse(outcome)
        request.state.principal = found
        return found

    def install(self, app: FastAPI) -> None:
        """Guards every route of ``app`` (a dependency on the app) and adds the
        middleware that refuses bad paths before routing. Call it before the
        routes are declared; or use ``Depends(self)`` where you choose."""
        app.router.dependencies.insert(0, Depends(self))
        app.add_middleware(_Prefilter, authorizer=self)

    def router(self, **kwargs: Any) -> APIRouter:
        """An :class:`fastapi.APIRouter` every route of which is guarded (the
        keyword arguments are APIRouter's; given ``dependencies`` are kept, after the guard)."""
        dependencies = [Depends(self), *kwargs.pop("dependencies", [])]
        return APIRouter(dependencies=dependencies, **kwargs)

    def __repr__(self) -> str:
        how = "realm" if self.guard.realm is not None else "keys" if self.guard.keys is not None else "authenticate"
        return f"<tessera.fastapi.Authorizer via {how}, unknown={self.guard.unknown!r}>"

"""Flask integration (``pip install "tessera-policy[flask]"``): an extension that
guards every request, and a decorator that guards one view.

::

    from flask import Flask, g
    import tessera
    from tessera.flask import Tessera

    app = Flask(__name__)
    guard = Tessera(app, realm=realm, owners=lambda request: devices.owner((request.view_args or {}).get("id")))

    @app.get("/api/v1/devices/<id>")
    def read(id):
        return {"id": id, "by": g.principal["id"]}

With ``Tessera(app, every_request=False)`` nothing is guarded until a view says
so with ``@guard.required``. Either way the check asks the core about
``METHOD /raw/path`` (HEAD as GET, percent-decoding, one trailing slash; ``..`` or
``%2F`` inside a segment is 400 ``invalid_path``), lets public operations
through, reads ``Authorization`` (``Bearer <token>`` or a bare token),
authenticates it, calls ``owners(request)``, authorizes and sets
``flask.g.principal``. Refusals are JSON: 401 ``{"error": code}`` with
``WWW-Authenticate: Bearer ... error="invalid_token"``, 403 ``{"error":
"forbidden", "reason": ...}``, 404 for an operation not in the table (or pass
through with ``unknown="pass"``).

The raw path comes from the WSGI server's ``RAW_URI``/``REQUEST_URI`` (werkzeug,
gunicorn); a server that gives neither leaves only the decoded ``PATH_INFO``,
re-encoded, in which an encoded ``/`` can no longer be told from a real one.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, TypeVar, Union, cast
from urllib.parse import quote

from flask import Flask, Request, Response, g, jsonify, request

from tessera._types import AnyPrincipal, Jwks
from tessera._web import Guard, Outcome, Owners, Unknown

if TYPE_CHECKING:
    from tessera import Engine, KeySet, Realm

__all__ = ["Tessera", "OwnersHook"]

#: ``owners(request)``: who owns what the request acts on.
OwnersHook = Callable[[Request], Owners]

F = TypeVar("F", bound=Callable[..., Any])


def _raw_path(environ: Mapping[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw.split("?", 1)[0]
    # PEP 3333: PATH_INFO is decoded bytes as latin-1 text.
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "") or "/")
    return quote(path.encode("latin-1", "replace"), safe="/:@!$&'()*+,;=-._~")


class Tessera:
    """The Flask extension. Arguments as :class:`tessera._web.Guard`, plus
    ``owners`` and ``every_request`` (default True: a ``before_request`` hook
    guards the whole app)."""

    def __init__(
        self,
        app: Optional[Flask] = None,
        engine: Optional[Engine] = None,
        *,
        realm: Optional[Realm] = None,
        keys: Union[KeySet, Jwks, None] = None,
        authenticate: Optional[Callable[[str], AnyPrincipal]] = None,
        owners: Optional[OwnersHook] = None,
        unknown: Unknown = "not_found",
        every_request: bool = True,
        now: Optional[Callable[[], int]] = None,
    ) -> None:
        self.guard = Guard(engine, realm=realm, keys=keys, authenticate=authenticate, unknown=unknown, now=now)
        self.owners = owners
        self.every_request = every_request
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Registers the extension (and, with ``every_request``, the guard) on ``app``."""
        app.extensions["tessera"] = self
        if self.every_request:
            app.before_request(self._before)

    def _before(self) -> Optional[Response]:
        return self.check()

    @staticmethod
    def _response(outcome: Outcome) -> Response:
        response = jsonify(outcome.body)
        response.status_code = outcome.status
        for name, value in outcome.headers.items():
            response.headers[name] = value
        return response

    def check(self) -> Optional[Response]:
        """Checks the current request: None when it may go on (``g.principal``
        set), else the refusal to return."""
        guard = self.guard
        g.principal = None
        operation = guard.operation(request.method, _raw_path(request.environ))
        early = guard.anonymous(operation)
        if early is not None:
            return None if early.allowed else self._response(early)
        found = guard.authenticate(request.headers.getlist("Authorization"), operation)
        if isinstance(found, Outcome):
            return self._response(found)
        owners = self.owners(request) if self.owners is not None else None
        outcome = guard.decide(found, operation, owners, verified=guard.verifies)
        if not outcome.allowed:
            return self._response(outcome)
        g.principal = found
        return None

    def required(self, view: F) -> F:
        """Guards one view (for ``every_request=False``): the view runs only when
        the request is allowed, with ``g.principal`` set."""

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = self.check()
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return cast(F, wrapper)

    def __repr__(self) -> str:
        how = "realm" if self.guard.realm is not None else "keys" if self.guard.keys is not None else "authenticate"
        return f"<tessera.flask.Tessera via {how}, every_request={self.every_request}, unknown={self.guard.unknown!r}>"

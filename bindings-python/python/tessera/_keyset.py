"""Key sets (SPEC §6.1.2): a JWKS parsed once, optionally fetched from a URL.

The core (``tessera._native.KeySet``) holds the parsed keys and decides
*whether* to fetch (cache time, ``max-age``, cooldown, unknown ``kid``); this
module does the fetching, with ``urllib`` from the standard library:

- one fetch at a time per set: concurrent verifications that need keys wait
  for the fetch under way and use its result (``attempts`` tells them it
  happened), instead of each asking the server;
- the socket waits happen in ``urllib``, which releases the GIL;
- a whole-request deadline (``timeout_seconds``), a body limit
  (``max_bytes``), https only (http to loopback addresses allowed), and no
  redirect to another scheme or host;
- a failure is recorded in the set (``jwks_unavailable`` at verification,
  with the reason) and the last good set stays in use until it expires.

``Engine.verify_jwt(token, key_set)`` fetches when needed (blocking the
calling thread). In asyncio code use ``await engine.verify_jwt_async(token,
key_set)``: a due fetch runs in a worker thread (``asyncio.to_thread``), so
the event loop never blocks; the verification itself is CPU-only.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPMessage
from typing import IO, Any, Dict, Mapping, Optional, Tuple, Union

from tessera import _native
from tessera._errors import TesseraError, TokenError

JwksSource = Union[Mapping[str, Any], str, bytes, bytearray]


def _options(
    timeout_seconds: float, max_bytes: int, cache_seconds: int, cooldown_seconds: int
) -> Dict[str, Any]:
    return {
        "timeout_seconds": timeout_seconds,
        "max_bytes": max_bytes,
        "cache_seconds": cache_seconds,
        "cooldown_seconds": cooldown_seconds,
    }


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme and host (checked by the core)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> Optional[urllib.request.Request]:
        _native.KeySet._check_redirect(req.full_url, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects())


def _get(url: str, timeout: float, max_bytes: int) -> Tuple[bytes, Optional[str]]:
    """GET ``url``: ``(body, Cache-Control)``; raises ``OSError`` or
    ``TesseraError`` with a reason a person can act on."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with _OPENER.open(request, timeout=timeout) as response:
        status = getattr(response, "status", 200)
        if status != 200:
            raise OSError(f"HTTP {status}")
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise OSError(f"the response is {length} bytes, over the limit of {max_bytes}")
        chunks = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer within {timeout} seconds")
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise OSError(f"the response is over the limit of {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks), response.headers.get("Cache-Control")


def _describe(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"cannot connect: {e.reason}"
    if isinstance(e, TesseraError):
        return str(e)
    return f"{type(e).__name__}: {e}"


class KeySet(_native.KeySet):
    """A JWKS parsed and checked once (SPEC §6.1.2); pass it wherever
    ``verify_jwt`` takes a JWKS, and to ``Realm`` as ``options["jwks"]``.

    - ``KeySet(jwks)``: a given JWKS (dict, or JSON text as ``str``/``bytes``),
      never fetched;
    - ``KeySet.from_url(url, ...)``: fetched from ``url`` (https, or http to a
      loopback address) when first needed;
    - ``KeySet.cognito(region, user_pool_id, ...)``: a Cognito user pool's
      keys; tokens of any other issuer are refused (``wrong_issuer``);
    - ``KeySet.oidc(issuer, ...)``: reads the issuer's OpenID discovery
      document now (``await KeySet.oidc_async(...)`` in asyncio code), whose
      ``issuer`` must equal ``issuer``, and fetches its ``jwks_uri``.

    Options (keyword-only): ``timeout_seconds=5``, ``max_bytes=524288``,
    ``cache_seconds=600`` (or the response's ``max-age``, if shorter),
    ``cooldown_seconds=30`` (least time between two fetches; an unknown
    ``kid`` refetches at most this often).

    Safe to share across threads and engines.
    """

    __slots__ = ("_lock",)

    def __new__(cls, jwks: JwksSource, **native: Any) -> "KeySet":
        return super().__new__(cls, jwks, **native)

    def __init__(self, jwks: Any = None, **native: Any) -> None:
        self._lock = threading.Lock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout_seconds: float = 5,
        max_bytes: int = 524288,
        cache_seconds: int = 600,
        cooldown_seconds: int = 30,
    ) -> "KeySet":
        """A set fetched from ``url`` when first needed."""
        opts = _options(timeout_seconds, max_bytes, cache_seconds, cooldown_seconds)
        return cls(None, _remote=url, options=opts)

    @classmethod
    def cognito(
        cls,
        region: str,
        user_pool_id: str,
        *,
        timeout_seconds: float = 5,
        max_bytes: int = 524288,
        cache_seconds: int = 600,
        cooldown_seconds: int = 30,
    ) -> "KeySet":
        """A Cognito user pool's keys, from
        ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}/.well-known/jwks.json``."""
        opts = _options(timeout_seconds, max_bytes, cache_seconds, cooldown_seconds)
        return cls(None, _cognito=(region, user_pool_id), options=opts)

    @classmethod
    def oidc(
        cls,
        issuer: str,
        *,
        timeout_seconds: float = 5,
        max_bytes: int = 524288,
        cache_seconds: int = 600,
        cooldown_seconds: int = 30,
    ) -> "KeySet":
        """An OpenID provider's keys through its discovery document (read now;
        raises ``TokenError`` ``jwks_unavailable`` if it cannot be read or
        names another issuer)."""
        opts = _options(timeout_seconds, max_bytes, cache_seconds, cooldown_seconds)
        url = _native.KeySet._discovery_url(issuer)
        try:
            document, _ = _get(url, float(timeout_seconds), int(max_bytes))
        except Exception as e:  # noqa: BLE001 - every failure becomes jwks_unavailable
            raise TokenError(f"cannot read {url}: {_describe(e)}", code="jwks_unavailable") from e
        return cls(None, _discovery=(issuer, document), options=opts)

    @classmethod
    async def oidc_async(cls, issuer: str, **options: Any) -> "KeySet":
        """:meth:`oidc` without blocking the event loop."""
        return await asyncio.to_thread(cls.oidc, issuer, **options)

    def refresh(self, now: Optional[int] = None) -> None:
        """Fetches now if the set says a fetch is due at ``now`` (never for a
        given JWKS). Failures are recorded, not raised: verification reports
        them as ``jwks_unavailable`` once no good keys are left."""
        self._refresh(int(time.time()) if now is None else now, None)

    async def refresh_async(self, now: Optional[int] = None, token: Optional[str] = None) -> None:
        """:meth:`refresh` in a worker thread, for asyncio code."""
        at = int(time.time()) if now is None else now
        await asyncio.to_thread(self._refresh, at, token)

    def _refresh(self, now: int, token: Optional[str]) -> None:
        """One fetch, shared: whoever holds the lock fetches; whoever waited
        sees ``attempts`` moved and uses that fetch."""
        seen = self.attempts
        with self._lock:
            if self.attempts != seen:
                return
            due = self._needs_fetch(now) if token is None else self._refetch_for(token, now)
            if not due:
                return
            url = self.url
            if url is None:
                return
            opts = self.options
            try:
                body, cache_control = _get(url, float(opts["timeout_seconds"]), int(opts["max_bytes"]))
            except Exception as e:  # noqa: BLE001 - recorded, reported at verification
                self._failed(_describe(e), now)
                return
            try:
                self._apply(body, cache_control, now)
            except TesseraError:
                pass  # recorded by the core with its reason

    def __repr__(self) -> str:
        where = self.url or "given JWKS"
        return f"<tessera.KeySet {where} ({len(self)} keys)>"

    def _repr_html_(self) -> str:
        import html

        rows = [("source", self.url or "given JWKS"), ("keys", str(len(self))), ("fetches", str(self.attempts))]
        if self.issuer:
            rows.append(("issuer", self.issuer))
        cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f'<table class="tessera-keyset"><caption>tessera.KeySet</caption>{cells}</table>'


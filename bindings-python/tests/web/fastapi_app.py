"""The FastAPI test app: ``python fastapi_app.py MODE JWKS_URL UNKNOWN`` (MODE
``realm`` or ``keys``, UNKNOWN ``not_found`` or ``pass``), served by uvicorn."""

from __future__ import annotations

import socket
import sys
from typing import Any, Optional

import uvicorn
from fastapi import Depends, FastAPI, Request

import tessera
from tessera.fastapi import Authorizer

from common import announce, setup


def main() -> None:
    mode, jwks_url, unknown = sys.argv[1], sys.argv[2], sys.argv[3]
    engine, realm, keys, tokens, devices = setup(mode, jwks_url)

    def owners(request: Request) -> Optional[str]:
        return devices.get(request.path_params.get("id", ""))

    auth = Authorizer(engine, realm=realm, keys=keys, owners=owners, unknown=unknown)
    app = FastAPI()
    auth.install(app)
    guarded = auth.router(prefix="/api/v1")

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @guarded.get("/devices")
    def devices_list(request: Request) -> dict[str, Any]:
        return {"devices": sorted(devices), "by": request.state.principal["id"]}

    @guarded.api_route("/devices/{id}", methods=["GET", "HEAD"])
    def device(id: str, principal: tessera.Principal = Depends(auth)) -> dict[str, Any]:
        return {"id": id, "by": principal["id"]}

    @guarded.delete("/devices/{id}")
    def device_delete(id: str, principal: tessera.Principal = Depends(auth)) -> dict[str, Any]:
        return {"deleted": id, "by": principal["id"]}

    @guarded.get("/jwt")
    def jwt_only(principal: tessera.Principal = Depends(auth)) -> dict[str, Any]:
        return {"by": principal["id"], "credential": principal.get("credential")}

    @app.get("/unlisted")
    def unlisted(request: Request) -> dict[str, Any]:
        return {"unlisted": True, "principal": request.state.principal}

    app.include_router(guarded)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # h11's default limit on a request head is 16 KiB; raised so that the guard
    # (not the server) answers an oversize Authorization header.
    config = uvicorn.Config(app, log_level="warning", h11_max_incomplete_event_size=64 * 1024, access_log=False)
    server = uvicorn.Server(config)
    announce(sock.getsockname()[1], tokens)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()

"""The Flask test app: ``python flask_app.py MODE JWKS_URL UNKNOWN``, served by
werkzeug's threaded server, guarded by the extension on every request (the
decorator is tested in test_web_units.py)."""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask, Request, g
from werkzeug.serving import make_server

from tessera.flask import Tessera

from common import announce, setup


def main() -> None:
    mode, jwks_url, unknown = sys.argv[1], sys.argv[2], sys.argv[3]
    engine, realm, keys, tokens, devices = setup(mode, jwks_url)

    def owners(request: Request) -> Any:
        return devices.get((request.view_args or {}).get("id", ""))

    app = Flask(__name__)
    Tessera(app, engine, realm=realm, keys=keys, owners=owners, unknown=unknown)

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    @app.get("/api/v1/devices")
    def devices_list() -> Any:
        return {"devices": sorted(devices), "by": g.principal["id"]}

    @app.get("/api/v1/devices/<id>")
    def device(id: str) -> Any:
        return {"id": id, "by": g.principal["id"]}

    @app.delete("/api/v1/devices/<id>")
    def device_delete(id: str) -> Any:
        return {"deleted": id, "by": g.principal["id"]}

    @app.get("/api/v1/jwt")
    def jwt_only() -> Any:
        return {"by": g.principal["id"], "credential": g.principal.get("credential")}

    @app.get("/unlisted")
    def unlisted() -> Any:
        return {"unlisted": True, "principal": g.principal}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    announce(server.server_port, tokens)
    server.serve_forever()


if __name__ == "__main__":
    main()

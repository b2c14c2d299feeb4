"""A separate process on a realm store, for the store tests (not a test).

    python store_worker.py PATH bootstrap NAME     -> prints "ok <roles>" or "refused <code>"
    python store_worker.py PATH create NAME        -> as admin u-root; "ok" or "refused <code>"
    python store_worker.py PATH burst RUN COUNT    -> per step: user, token, session, revoke; prints "ack <i>"

It waits for a line on stdin before acting, so that every process of a test
starts its call at once.
"""

from __future__ import annotations

import sys

import tessera

POLICY = {
    "version": 1,
    "roles": {
        "user": {"permissions": ["read_own_user", "update_own_user", "admin_own_token"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_user", "admin_token"]},
    },
}
KEY = {"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}
FAST = {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}}
ADMIN = {"id": "u-root", "roles": ["admin"]}


def main() -> None:
    path, what = sys.argv[1], sys.argv[2]
    realm = tessera.Realm.open(POLICY, KEY, "sqlite:" + path, FAST, synchronous="NORMAL")
    print("ready", flush=True)
    sys.stdin.readline()
    if what in ("bootstrap", "create"):
        try:
            user = realm.create_user(None if what == "bootstrap" else ADMIN, sys.argv[3], None, None, 100)
            print("ok", ",".join(user["roles"]), flush=True)
        except tessera.RealmError as e:
            print("refused", e.code, flush=True)
    elif what == "burst":
        run, count = sys.argv[3], int(sys.argv[4])
        for i in range(count):
            user = realm.create_user(ADMIN, f"r{run}-{i}", None, {"id": f"u-r{run}-{i}"}, 100)
            token = realm.create_api_token(ADMIN, user["id"], None, None, 100)
            realm.open_session(token["secret"], 100)
            realm.revoke_api_token(ADMIN, token["record"]["id"])
            print("ack", i, token["record"]["id"], flush=True)
    realm.close_store()


if __name__ == "__main__":
    main()

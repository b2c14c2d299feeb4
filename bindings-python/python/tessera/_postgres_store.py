"""The PostgreSQL realm store (SPEC §7.1), for many replicas: ``psycopg`` 3
with ``psycopg-pool``.

Tables (shared by any number of realms, told apart by ``realm``):
``realm_meta``, ``realm_changes (realm, seq, record)`` — the log — and
``realm_checkpoint``. Writes are serialized per realm by an advisory
transaction lock, so seq order is commit order; each commit sends
``NOTIFY tessera_realm`` as a doorbell. A listener thread rings it locally; on
a reconnect (or a missed ring) the log is replayed from the realm's seq, and a
read at least every ``max_lag_seconds / 2`` is the safety net. A process that
cannot read the log for longer than ``max_lag_seconds`` (default 1) fails
closed: ``store_unavailable``.
"""

from __future__ import annotations

import threading
import time
from typing import Optional

from tessera._store import SCHEMA_VERSION, STORE_FORMAT, StoreError

__all__ = ["PostgresStore"]

CHANNEL = "tessera_realm"
# pg_advisory_xact_lock key for creating the schema (any fixed number).
SCHEMA_LOCK = 7_261_946_815

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS realm_meta (realm text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (realm, key))",
    "CREATE TABLE IF NOT EXISTS realm_changes (realm text NOT NULL, seq bigint NOT NULL, record text NOT NULL, PRIMARY KEY (realm, seq))",
    "CREATE TABLE IF NOT EXISTS realm_checkpoint (realm text PRIMARY KEY, seq bigint NOT NULL, snapshot text NOT NULL)",
)


def _unavailable(e: BaseException) -> StoreError:
    return StoreError(f"the PostgreSQL store failed: {e}", code="store_unavailable")


class PostgresStore:
    """A realm in a PostgreSQL database. ``realm`` names it (several realms
    can share a database); ``max_lag_seconds`` bounds how stale this
    process's view may be before it refuses to answer."""

    def __init__(
        self,
        url: str,
        *,
        realm: str = "default",
        max_lag_seconds: float = 1.0,
        pool_size: int = 4,
        connect_timeout_seconds: float = 5.0,
    ) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.url = url
        self.realm = realm
        self.max_lag = float(max_lag_seconds)
        try:
            self._pool = ConnectionPool(
                url, min_size=1, max_size=pool_size, open=True, timeout=connect_timeout_seconds, kwargs={"autocommit": True}
            )
            self._pool.wait(timeout=connect_timeout_seconds)
        except Exception as e:  # noqa: BLE001  any failure to connect
            try:
                self._pool.close()
            except Exception:  # noqa: BLE001
                pass
            raise _unavailable(e) from e
        self._lock_key: int = 0
        try:
            self._prepare()
        except BaseException:
            self._pool.close()
            raise
        self._rung = threading.Event()
        self._rung.set()
        self._last_read = 0.0
        self._listening = False
        self._stop = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="tessera-realm-listen", daemon=True)
        self._listener.start()

    # ----- setup ----------------------------------------------------------

    def _prepare(self) -> None:
        try:
            with self._pool.connection() as conn:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    meta: dict[str, str] = dict(conn.execute("SELECT key, value FROM realm_meta WHERE realm = %s", (self.realm,)).fetchall())
                    if not meta:
                        conn.execute(
                            "INSERT INTO realm_meta VALUES (%s, 'format', %s), (%s, 'schema_version', %s)",
                            (self.realm, STORE_FORMAT, self.realm, str(SCHEMA_VERSION)),
                        )
                    key_row = conn.execute("SELECT hashtext(%s)", (f"tessera-realm:{self.realm}",)).fetchone()
                    self._lock_key = int(key_row[0]) if key_row else 0
        except self._psycopg.Error as e:
            raise _unavailable(e) from e
        if meta:
            if meta.get("format") != STORE_FORMAT:
                raise StoreError(f"realm {self.realm!r} is not a tessera realm store", code="invalid_store")
            version = meta.get("schema_version", "")
            if not version.isdigit():
                raise StoreError(f"realm {self.realm!r} has a malformed schema_version {version!r}", code="invalid_store")
            if int(version) > SCHEMA_VERSION:
                raise StoreError(
                    f"realm {self.realm!r} has schema version {version}; this tessera reads up to {SCHEMA_VERSION}",
                    code="unsupported_store_version",
                )

    # ----- the doorbell ---------------------------------------------------

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._psycopg.connect(self.url, autocommit=True)
            except Exception:  # noqa: BLE001  the database is away: try again
                self._listening = False
                self._stop.wait(0.2)
                continue
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                self._listening = True
                # Anything committed while we were not listening: replay.
                self._rung.set()
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.5, stop_after=1):
                        if note.payload == self.realm:
                            self._rung.set()
            except Exception:  # noqa: BLE001  connection lost: reconnect
                pass
            finally:
                self._listening = False
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass

    # ----- Store ----------------------------------------------------------

    def load(self) -> tuple[Optional[str], int]:
        try:
            with self._pool.connection() as conn:
                row = conn.execute("SELECT snapshot, seq FROM realm_checkpoint WHERE realm = %s", (self.realm,)).fetchone()
        except self._psycopg.Error as e:
            raise _unavailable(e) from e
        return (str(row[0]), int(row[1])) if row else (None, 0)

    def read_after(self, seq: int) -> list[str]:
        started = time.monotonic()
        try:
            with self._pool.connection(timeout=max(self.max_lag, 0.1)) as conn:
                rows = conn.execute(
                    "SELECT seq, record FROM realm_changes WHERE realm = %s AND seq > %s ORDER BY seq", (self.realm, seq)
                ).fetchall()
        except Exception as e:  # noqa: BLE001  psycopg errors and pool timeouts alike
            self._rung.set()  # read again next time
            if time.monotonic() - self._last_read > self.max_lag:
                raise _unavailable(e) from e
            return []  # still within the bound: answer from memory
        self._last_read = started
        expected = seq + 1
        for s, _ in rows:
            if s != expected:
                raise StoreError(f"the store's records jump from {expected - 1} to {s}", code="seq_gap")
            expected += 1
        return [str(r) for _, r in rows]

    def changed(self) -> bool:
        if not self._listening or time.monotonic() - self._last_read > self.max_lag / 2:
            return True
        if self._rung.is_set():
            self._rung.clear()
            return True
        return False

    def append(self, records: list[str], first_seq: int) -> None:
        try:
            with self._pool.connection() as conn:
                with conn.transaction():
                    # Serializes the writers of this realm until commit: seq order is commit order.
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    last_row = conn.execute(
                        "SELECT greatest(coalesce((SELECT max(seq) FROM realm_changes WHERE realm = %s), 0),"
                        " coalesce((SELECT seq FROM realm_checkpoint WHERE realm = %s), 0))",
                        (self.realm, self.realm),
                    ).fetchone()
                    last = int(last_row[0]) if last_row else 0
                    if last != first_seq - 1:
                        raise StoreError(f"seq {first_seq} is taken (the store is at {last})", code="store_conflict")
                    with conn.cursor() as cur:
                        cur.executemany(
                            "INSERT INTO realm_changes (realm, seq, record) VALUES (%s, %s, %s)",
                            [(self.realm, first_seq + i, r) for i, r in enumerate(records)],
                        )
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.realm))
        except StoreError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _unavailable(e) from e

    def checkpoint(self, snapshot: str, seq: int) -> None:
        try:
            with self._pool.connection() as conn:
                conn.execute(
                    "INSERT INTO realm_checkpoint (realm, seq, snapshot) VALUES (%s, %s, %s) "
                    "ON CONFLICT (realm) DO UPDATE SET seq = excluded.seq, snapshot = excluded.snapshot "
                    "WHERE excluded.seq > realm_checkpoint.seq",
                    (self.realm, seq, snapshot),
                )
        except Exception as e:  # noqa: BLE001
            raise _unavailable(e) from e

    def close(self) -> None:
        self._stop.set()
        self._listener.join(timeout=5)
        self._pool.close()


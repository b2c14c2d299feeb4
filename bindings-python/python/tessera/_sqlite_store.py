"""The SQLite realm store (SPEC §7.1), the embedded default: Python's
``sqlite3``, WAL, one transaction per call's records.

Tables: ``realm_meta`` (``format``, ``schema_version``), ``realm_changes``
(``seq`` primary key, ``record`` text), ``realm_checkpoint`` (at most one
snapshot and its seq). Appends take the write lock first (``BEGIN
IMMEDIATE``) and check that the first seq is the next one, so two processes
never both write seq ``n``; ``PRAGMA data_version`` tells, for the price of
one pragma, whether another connection committed since the last look.
"""

from __future__ import annotations

import sqlite3
from typing import Optional

from tessera._store import SCHEMA_VERSION, STORE_FORMAT, StoreError

__all__ = ["SQLiteStore"]

_SCHEMA = (
    "CREATE TABLE realm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE realm_changes (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TABLE realm_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, snapshot TEXT NOT NULL)",
)


def _unavailable(e: BaseException) -> StoreError:
    return StoreError(f"the SQLite store failed: {e}", code="store_unavailable")


class SQLiteStore:
    """A realm in one SQLite file (made if absent).

    ``synchronous`` is ``"FULL"`` (the default: a commit survives power loss)
    or ``"NORMAL"`` (survives a crash of the process, not of the machine;
    faster). ``busy_timeout_ms`` bounds the wait for another process's write.
    """

    def __init__(self, path: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise StoreError("synchronous must be FULL or NORMAL", code="invalid_argument")
        self.path = path
        try:
            # Autocommit mode: transactions are begun and ended explicitly.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000)
        except sqlite3.Error as e:
            raise _unavailable(e) from e
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"cannot use WAL on {path} (journal_mode {mode})", code="store_unavailable")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            self._prepare()
        except sqlite3.DatabaseError as e:
            self._db.close()
            # "file is not a database" and its kin.
            raise StoreError(f"{path} is not a tessera realm store: {e}", code="invalid_store") from e
        except BaseException:
            self._db.close()
            raise
        self._data_version = self._version()

    def _prepare(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO realm_meta VALUES ('format', ?), ('schema_version', ?)", (STORE_FORMAT, str(SCHEMA_VERSION)))
            elif "realm_meta" not in tables:
                raise StoreError(f"{self.path} is a SQLite database but not a tessera realm store", code="invalid_store")
            else:
                meta = dict(db.execute("SELECT key, value FROM realm_meta"))
                if meta.get("format") != STORE_FORMAT:
                    raise StoreError(f"{self.path} is not a tessera realm store (format {meta.get('format')!r})", code="invalid_store")
                version = meta.get("schema_version", "")
                if not version.isdigit():
                    raise StoreError(f"{self.path} has a malformed schema_version {version!r}", code="invalid_store")
                if int(version) > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has schema version {version}; this tessera reads up to {SCHEMA_VERSION}",
                        code="unsupported_store_version",
                    )
                if not {"realm_changes", "realm_checkpoint"} <= tables:
                    raise StoreError(f"{self.path} lacks the realm tables", code="invalid_store")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    # ----- Store ----------------------------------------------------------

    def load(self) -> tuple[Optional[str], int]:
        try:
            row = self._db.execute("SELECT snapshot, seq FROM realm_checkpoint WHERE id = 1").fetchone()
        except sqlite3.Error as e:
            raise _unavailable(e) from e
        return (row[0], row[1]) if row else (None, 0)

    def read_after(self, seq: int) -> list[str]:
        try:
            rows = self._db.execute("SELECT seq, record FROM realm_changes WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        except sqlite3.Error as e:
            raise _unavailable(e) from e
        expected = seq + 1
        for s, _ in rows:
            if s != expected:
                raise StoreError(f"the store's records jump from {expected - 1} to {s}", code="seq_gap")
            expected += 1
        return [r for _, r in rows]

    def changed(self) -> bool:
        try:
            v = self._version()
        except sqlite3.Error:
            return True
        if v != self._data_version:
            self._data_version = v
            return True
        return False

    def append(self, records: list[str], first_seq: int) -> None:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                # A checkpoint may be ahead of the log (a store made from a snapshot).
                last = db.execute(
                    "SELECT max(coalesce((SELECT max(seq) FROM realm_changes), 0),"
                    " coalesce((SELECT seq FROM realm_checkpoint WHERE id = 1), 0))"
                ).fetchone()[0]
                if last != first_seq - 1:
                    db.execute("ROLLBACK")
                    raise StoreError(f"seq {first_seq} is taken (the store is at {last})", code="store_conflict")
                db.executemany(
                    "INSERT INTO realm_changes (seq, record) VALUES (?, ?)",
                    [(first_seq + i, r) for i, r in enumerate(records)],
                )
                db.execute("COMMIT")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _unavailable(e) from e
        # Our own commit does not move data_version; others' do.

    def checkpoint(self, snapshot: str, seq: int) -> None:
        try:
            self._db.execute(
                "INSERT INTO realm_checkpoint (id, seq, snapshot) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, snapshot = excluded.snapshot WHERE excluded.seq > realm_checkpoint.seq",
                (seq, snapshot),
            )
        except sqlite3.Error as e:
            raise _unavailable(e) from e

    def close(self) -> None:
        self._db.close()

"""Realm stores (SPEC §7.1): the one small interface every store implements,
and :class:`StoredRealm`, a :class:`tessera.Realm` kept in one.

The core does no I/O. It hands each call's change records (JSON text, the
same bytes in every binding) to the store's :meth:`Store.append` after checking
them and before the call returns; if the store fails, the call fails and the
realm in memory is as it was. Records other processes committed are read with
:meth:`Store.read_after` and applied before the next call that depends on them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Protocol, TypeVar, Union

from tessera._errors import RealmError
from tessera._types import RealmOptions

__all__ = ["Store", "StoreError", "StoredRealm", "open_store"]

T = TypeVar("T")

#: Format name and schema version written into every store.
STORE_FORMAT = "tessera-realm"
SCHEMA_VERSION = 1

#: How often a call is retried after another process wrote first.
_RETRIES = 64


class StoreError(RealmError):
    """A store fault, with a stable ``code``:

    - ``store_unavailable``: the database cannot be reached or a write failed
      (nothing changed in memory);
    - ``store_conflict``: another process committed first (retried by
      :class:`StoredRealm`; seen only after many retries);
    - ``invalid_store``: the file or database is not a tessera realm;
    - ``unsupported_store_version``: made by a newer version of tessera.

    Records that do not fold (an unknown ``kind``, a ``seq`` gap, a broken
    invariant) are the core's ``invalid_change`` and ``seq_gap``.
    """


class Store(Protocol):
    """What a realm store does. Every method is called with the realm's
    write lock held, from one thread at a time."""

    def load(self) -> tuple[Optional[str], int]:
        """The latest checkpoint ``(snapshot JSON text or None, its seq)``."""

    def read_after(self, seq: int) -> list[str]:
        """The records after ``seq``, in order."""

    def changed(self) -> bool:
        """Whether another process may have committed since the last call
        (a cheap check; True is always safe)."""

    def append(self, records: list[str], first_seq: int) -> None:
        """Commits ``records`` (``first_seq`` and on) in one transaction before
        returning; raises ``StoreError("store_conflict")`` if ``first_seq`` is
        taken, ``StoreError("store_unavailable")`` if the commit failed."""

    def checkpoint(self, snapshot: str, seq: int) -> None:
        """Stores a snapshot as of ``seq`` so that opening is quick."""

    def close(self) -> None:
        """Releases the connection."""


def open_store(url: str, **options: Any) -> Store:
    """A store from a URL: ``sqlite:PATH`` (or a bare path) or
    ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from tessera._postgres_store import PostgresStore

        return PostgresStore(url, **options)
    path = url[len("sqlite:") :] if url.startswith("sqlite:") else url
    from tessera._sqlite_store import SQLiteStore

    return SQLiteStore(path, **options)


def _seq_of(record: str) -> int:
    # Records are written by the core as '{"seq":N,...'.
    head = record[7 : record.index(",")]
    return int(head)


class StoredRealm:
    """A :class:`tessera.Realm` whose every change is committed to a store
    before the call returns, and that follows the changes other processes
    commit to the same store. Made by :meth:`tessera.Realm.open`.

    - A call that changes the realm returns only after its records are
      committed; a call that fails commits nothing, and a failed commit
      changes nothing in memory.
    - :meth:`authenticate` (and every other call) first applies what other
      processes committed, so a revocation made anywhere is honoured here.
    - When another process wrote first, the call is redone on the newer state
      (usernames stay unique, one bootstrap admin, a revoked token stays
      revoked).
    - Opening is not a restart: live sessions survive it.

    Every method of :class:`tessera.Realm` is here, with the same arguments.
    """

    def __init__(self, policy: Any, key: Any, store: Store, options: Optional[RealmOptions] = None) -> None:
        from tessera import Realm

        self._store = store
        self._lock = threading.RLock()
        snapshot, _ = store.load()
        if snapshot is None:
            realm = Realm(policy, key, options)
        else:
            realm = Realm.restore(policy, snapshot, key, options)
        realm.apply(store.read_after(realm.seq()))
        self._realm = realm
        self._since_checkpoint = 0
        # Checkpoints every max(10k, rows) records: their O(rows) cost per
        # record stays constant, from the first one on.
        self._checkpoint_every = max(10_000, realm.rows())
        self._written = realm.seq()
        realm.set_journal(self._journal)

    # ----- plumbing -------------------------------------------------------

    def _journal(self, records: list[str]) -> None:
        self._store.append(records, _seq_of(records[0]))
        self._since_checkpoint += len(records)

    def _catch_up(self) -> None:
        if self._store.changed():
            records = self._store.read_after(self._realm.seq())
            if records:
                self._realm.apply(records)

    def _read(self, call: Callable[[], T]) -> T:
        with self._lock:
            self._catch_up()
        return call()

    def _write(self, call: Callable[[], T]) -> T:
        with self._lock:
            for _ in range(_RETRIES):
                self._catch_up()
                try:
                    result = call()
                except RealmError as e:
                    if e.code == "store_conflict":
                        continue
                    if e.code.startswith("store_") and not isinstance(e, StoreError):
                        # The journal's StoreError came back through the core.
                        raise StoreError(e.message, code=e.code) from None
                    raise
                self._written = self._realm.seq()
                self._maybe_checkpoint()
                return result
            raise StoreError("other processes kept writing first; try again", code="store_conflict")

    def _maybe_checkpoint(self) -> None:
        if self._since_checkpoint < self._checkpoint_every:
            return
        # The core writes the text (no Python objects, the GIL released);
        # this object's lock is held, so seq and rows are the text's.
        text = self._realm.snapshot_text()
        seq, rows = self._realm.seq(), self._realm.rows()
        try:
            self._store.checkpoint(text, seq)
        except StoreError:
            # The call itself is committed; a checkpoint only speeds up
            # opening, and the next write tries again.
            return
        # A checkpoint costs O(rows): taken every max(10k, rows) records, its
        # cost per record stays constant.
        self._since_checkpoint = 0
        self._checkpoint_every = max(10_000, rows)

    # ----- the realm's calls ---------------------------------------------

    @property
    def realm(self) -> Any:
        """The realm in memory (read it; change it only through this object)."""
        return self._realm

    @property
    def engine(self) -> Any:
        """The realm's policy engine."""
        return self._realm.engine

    def seq(self) -> int:
        """The seq of the last record applied here."""
        return self._realm.seq()

    @property
    def written_seq(self) -> int:
        """The seq of this object's last committed write: pass it as
        ``min_seq`` to another process's :meth:`authenticate` to read your
        own writes there."""
        return self._written

    def sync(self) -> int:
        """Applies whatever other processes committed; returns the seq."""
        with self._lock:
            self._catch_up()
            return self._realm.seq()

    def changes(self, after_seq: int = 0) -> list[str]:
        return self._read(lambda: self._realm.changes(after_seq))

    def snapshot(self) -> dict[str, Any]:
        return self._read(self._realm.snapshot)

    def snapshot_text(self) -> str:
        return self._read(self._realm.snapshot_text)

    def rows(self) -> int:
        return self._read(self._realm.rows)

    def authenticate(self, authorization: str, now: Optional[int] = None, min_seq: Optional[int] = None) -> Any:
        """As :meth:`tessera.Realm.authenticate`, after applying what other
        processes committed. ``min_seq`` (a seq a write returned) must be
        reached, else ``store_unavailable``."""
        with self._lock:
            self._catch_up()
            if min_seq is not None and self._realm.seq() < min_seq:
                self._catch_up_forced()
                if self._realm.seq() < min_seq:
                    raise StoreError(f"the store has not reached seq {min_seq}", code="store_unavailable")
        return self._realm.authenticate(authorization, now)

    def _catch_up_forced(self) -> None:
        records = self._store.read_after(self._realm.seq())
        if records:
            self._realm.apply(records)

    def get_user(self, actor: Any, user_id: str) -> Any:
        return self._read(lambda: self._realm.get_user(actor, user_id))

    def list_users(self, actor: Any) -> Any:
        return self._read(lambda: self._realm.list_users(actor))

    def list_api_tokens(self, actor: Any, owner: Optional[str] = None) -> Any:
        return self._read(lambda: self._realm.list_api_tokens(actor, owner))

    def create_user(self, actor: Any, username: str, password: Optional[str] = None, options: Any = None, now: Optional[int] = None) -> Any:
        return self._write(lambda: self._realm.create_user(actor, username, password, options, now))

    def set_roles(self, actor: Any, user_id: str, roles: list[str]) -> Any:
        return self._write(lambda: self._realm.set_roles(actor, user_id, roles))

    def set_password(self, actor: Any, user_id: str, password: Optional[str]) -> None:
        return self._write(lambda: self._realm.set_password(actor, user_id, password))

    def delete_user(self, actor: Any, user_id: str) -> None:
        return self._write(lambda: self._realm.delete_user(actor, user_id))

    def login(self, username: str, password: str, now: Optional[int] = None) -> Any:
        return self._write(lambda: self._realm.login(username, password, now))

    def create_api_token(self, actor: Any, owner: str, roles: Optional[list[str]] = None, options: Any = None, now: Optional[int] = None) -> Any:
        return self._write(lambda: self._realm.create_api_token(actor, owner, roles, options, now))

    def suspend_api_token(self, actor: Any, token_id: str) -> Any:
        return self._write(lambda: self._realm.suspend_api_token(actor, token_id))

    def resume_api_token(self, actor: Any, token_id: str) -> Any:
        return self._write(lambda: self._realm.resume_api_token(actor, token_id))

    def revoke_api_token(self, actor: Any, token_id: str) -> Any:
        return self._write(lambda: self._realm.revoke_api_token(actor, token_id))

    def replace_api_token(self, actor: Any, token_id: str, now: Optional[int] = None) -> Any:
        return self._write(lambda: self._realm.replace_api_token(actor, token_id, now))

    def open_session(self, api_token_secret: str, now: Optional[int] = None) -> Any:
        return self._write(lambda: self._realm.open_session(api_token_secret, now))

    def renew(self, token: str, now: Optional[int] = None) -> Any:
        return self._write(lambda: self._realm.renew(token, now))

    def close(self, token: str, now: Optional[int] = None) -> None:
        return self._write(lambda: self._realm.close(token, now))

    def restart(self) -> None:
        """Ends every session everywhere (explicit: opening never does)."""
        return self._write(self._realm.restart)

    def close_store(self) -> None:
        """Detaches the journal and closes the store's connection."""
        with self._lock:
            self._realm.set_journal(None)
            self._store.close()

    def __enter__(self) -> StoredRealm:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close_store()


StoreSource = Union[str, Store]

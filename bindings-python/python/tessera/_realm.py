"""``Realm``: users, passwords, API tokens and sessions for a host that issues
its own credentials (SPEC §7). The rules are in the project's docs/realm.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from tessera import _native
from tessera._display import counted, policy_html, policy_summary
from tessera._types import Jwk, PolicySource, RealmOptions, RealmSnapshot

if TYPE_CHECKING:
    from tessera import Engine
    from tessera._store import Store, StoredRealm

__all__ = ["Realm"]


class Realm(_native.Realm):
    """Users, API token records, password hashes and live sessions, authorised
    by a policy (SPEC §7).

    ``Realm(policy, key, options=None)``: ``policy`` as for :class:`tessera.Engine`
    (a dict, a path, or JSON text); ``key`` the JWK sessions are signed with
    (``{"kty": "oct", "k": ...}`` with at least 32 bytes for HS256, or an Ed25519
    ``OKP`` key with its private ``d``); ``options`` ``{"argon2": {...}, "jwks":
    {...}}``.

    The first user created gets the policy's bootstrap role (default ``admin``)
    and needs no actor; later users get the default role (``user``) and need an
    ``actor`` the policy allows ``create_user``. Every management call names its
    ``actor`` — the principal :meth:`authenticate` returned, or None for an
    anonymous caller — and is authorised by the policy; a refusal is a
    :class:`tessera.RealmError` with code ``forbidden``. Deleting a user ends its
    sessions and revokes its tokens; revoking a token ends the sessions opened
    with it; :meth:`restart` ends every session.

    Safe to share across threads; every call releases the GIL (password hashing
    takes milliseconds by design). Keep :meth:`snapshot` output as secret as a
    password database.
    """

    __slots__ = ()

    def __new__(
        cls,
        policy: PolicySource,
        key: Union[Jwk, Mapping[str, Any], str],
        options: Optional[RealmOptions] = None,
    ) -> Realm:
        from tessera import _policy_value

        return super().__new__(cls, _policy_value(policy), key, options)

    @classmethod
    def restore(
        cls,
        policy: PolicySource,
        snapshot: Union[RealmSnapshot, str],
        key: Union[Jwk, Mapping[str, Any], str],
        options: Optional[RealmOptions] = None,
    ) -> Realm:
        """The realm a :meth:`snapshot` describes: the same users, tokens, live
        sessions, epoch and bootstrap flag (``restore(...).snapshot()`` equals
        the snapshot). ``snapshot`` may be a dict or JSON text."""
        from tessera import _policy_value

        return _native.Realm.__new__(cls, _policy_value(policy), key, options, snapshot=snapshot, restore=True)

    @classmethod
    def open(
        cls,
        policy: PolicySource,
        key: Union[Jwk, Mapping[str, Any], str],
        store: Union[str, "Store"],
        options: Optional[RealmOptions] = None,
        **store_options: Any,
    ) -> StoredRealm:
        """A realm kept in a store (SPEC §7.1): ``store`` is ``"sqlite:PATH"``
        (made if absent), ``"postgresql://..."``, or a :class:`tessera.Store`.
        The realm is what the store holds (an empty store gives an empty
        realm); every change is committed before the call returns, and
        changes other processes commit are applied before the next call.
        Opening is not a restart. ``store_options`` go to the store
        (``synchronous="NORMAL"`` for SQLite)."""
        from tessera._store import StoredRealm, open_store

        st = open_store(store, **store_options) if isinstance(store, str) else store
        try:
            return StoredRealm(policy, key, st, options)
        except BaseException:
            st.close()
            raise

    @property
    def engine(self) -> Engine:
        """The realm's policy engine (shared, not a copy): decide with it, or
        ``load`` a new policy, which the realm follows from its next call."""
        from tessera import Engine

        return Engine._of_realm(self)

    def _counts(self) -> dict[str, int]:
        snap = self.snapshot()
        return {key: len(snap.get(key) or []) for key in ("users", "api_tokens", "sessions")}

    def __repr__(self) -> str:
        c = self._counts()
        return (
            f"<tessera.Realm: {counted(c['users'], 'user')}, {counted(c['api_tokens'], 'API token')}, "
            f"{counted(c['sessions'], 'session')}; policy: {policy_summary(self.engine.policy_document())}>"
        )

    def _repr_html_(self) -> str:
        return policy_html("tessera.Realm", self.engine.policy_document(), self._counts())

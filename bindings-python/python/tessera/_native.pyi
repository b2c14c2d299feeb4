"""Type stubs of the compiled module ``tessera._native`` (written by hand,
checked by ``mypy.stubtest``). Use the package ``tessera``, which re-exports
everything here that is public."""

from typing import Any, Iterable, Mapping, Optional, Tuple, Union, final

from typing_extensions import Self, disjoint_base

from tessera._types import (
    ApiTokenOptions,
    ApiTokenRecord,
    Jwk,
    Jwks,
    Label,
    NewApiToken,
    OperationContext,
    Principal,
    Reason,
    Resource,
    Revocations,
    SessionGrant,
    SessionOptions,
    DecisionDict,
    ExplanationDict,
    RealmOptions,
    RealmSnapshot,
    User,
    UserOptions,
)

__all__ = [
    "REASONS",
    "Decision",
    "Engine",
    "PreparedPrincipal",
    "Realm",
    "__version__",
    "_panic_for_test",
    "crypto_backend",
    "format_label",
    "parse_authorization",
    "parse_label",
    "resume_api_token",
    "revoke_api_token",
    "suspend_api_token",
]

__version__: str
#: Every decision reason (SPEC §4–5), from the core's table, in its order.
REASONS: Tuple[Reason, ...]

@disjoint_base
class Engine:
    """A loaded, compiled policy (SPEC §2) and every operation on it."""

    def __new__(cls, policy: Union[Mapping[str, Any], str, bytes, Realm]) -> Self: ...
    def load(self, policy: Union[Mapping[str, Any], str, bytes]) -> None: ...
    def parse_label(self, text: str) -> Label: ...
    def authorize(self, principal: Principal, action: str, resource: Resource) -> Decision: ...
    def _explain(self, principal: Principal, action: str, resource: Resource) -> ExplanationDict: ...
    def capabilities(self, principal: Principal, resource: Resource) -> list[str]: ...
    def authorize_operation(
        self,
        principal: Optional[Principal],
        operation: str,
        context: Optional[OperationContext] = None,
    ) -> Decision: ...
    def prepare(self, principal: Principal) -> PreparedPrincipal: ...
    def authorize_batch(
        self,
        prepared: Union[PreparedPrincipal, Principal],
        requests: Iterable[tuple[str, Resource]],
    ) -> list[bool]: ...
    def token_cache_len(self) -> int: ...
    def clear_token_cache(self) -> None: ...
    def verify_jwt(self, token: str, jwks: Union[Jwks, Mapping[str, Any], str], now: Optional[int] = None) -> Principal: ...
    def issue_session(
        self,
        principal: Principal,
        key: Union[Jwk, Mapping[str, Any], str],
        now: Optional[int] = None,
        options: Optional[SessionOptions] = None,
    ) -> SessionGrant: ...
    def renew_session(
        self,
        token: str,
        key: Union[Jwk, Mapping[str, Any], str],
        now: Optional[int] = None,
        revocations: Optional[Revocations] = None,
    ) -> SessionGrant: ...
    def verify_session(
        self,
        token: str,
        key: Union[Jwk, Mapping[str, Any], str],
        now: Optional[int] = None,
        revocations: Optional[Revocations] = None,
    ) -> Principal: ...
    def create_api_token(
        self,
        owner: str,
        roles: Iterable[str],
        now: Optional[int] = None,
        options: Optional[ApiTokenOptions] = None,
    ) -> NewApiToken: ...
    def verify_api_token(self, secret: str, records: Iterable[ApiTokenRecord], now: Optional[int] = None) -> Principal: ...
    def replace_api_token(self, record: ApiTokenRecord, now: Optional[int] = None) -> tuple[NewApiToken, ApiTokenRecord]: ...

@final
class PreparedPrincipal:
    """A principal resolved once against an engine's policy: the fast path."""

    def is_allowed(self, action: str, type: str, id: Optional[str] = None, owner: Optional[str] = None) -> bool: ...
    def authorize(self, action: str, resource: Resource) -> Decision: ...
    @property
    def principal(self) -> Principal: ...
    @property
    def effective_roles(self) -> list[str]: ...

@final
class Decision:
    """The answer to "may this principal do this?" (SPEC §4). Truthy when allowed."""

    __match_args__ = ("allowed", "reason", "rule", "source")
    def __new__(
        cls,
        allowed: bool,
        reason: Reason,
        rule: Optional[str] = None,
        source: Optional[str] = None,
        message: Optional[str] = None,
    ) -> "Decision": ...
    @property
    def allowed(self) -> bool: ...
    @property
    def reason(self) -> Reason: ...
    @property
    def rule(self) -> Optional[str]: ...
    @property
    def source(self) -> Optional[str]: ...
    @property
    def message(self) -> Optional[str]: ...
    def to_dict(self) -> DecisionDict: ...
    def __bool__(self) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

_Key = Union[Jwk, Mapping[str, Any], str]

@disjoint_base
class Realm:
    """Users, API tokens, password hashes and sessions (SPEC §7)."""

    def __new__(
        cls,
        policy: Union[Mapping[str, Any], str, bytes],
        key: _Key,
        options: Optional[RealmOptions] = None,
        *,
        snapshot: Union[RealmSnapshot, str, None] = None,
        restore: bool = False,
    ) -> Self: ...
    def snapshot(self) -> RealmSnapshot: ...
    def create_user(
        self,
        actor: Optional[Principal],
        username: str,
        password: Optional[str] = None,
        options: Optional[UserOptions] = None,
        now: Optional[int] = None,
    ) -> User: ...
    def get_user(self, actor: Optional[Principal], user_id: str) -> User: ...
    def list_users(self, actor: Optional[Principal]) -> list[User]: ...
    def set_roles(self, actor: Optional[Principal], user_id: str, roles: Iterable[str]) -> User: ...
    def set_password(self, actor: Optional[Principal], user_id: str, password: Optional[str]) -> None: ...
    def delete_user(self, actor: Optional[Principal], user_id: str) -> None: ...
    def login(self, username: str, password: str, now: Optional[int] = None) -> SessionGrant: ...
    def create_api_token(
        self,
        actor: Optional[Principal],
        owner: str,
        roles: Optional[Iterable[str]] = None,
        options: Optional[ApiTokenOptions] = None,
        now: Optional[int] = None,
    ) -> NewApiToken: ...
    def list_api_tokens(self, actor: Optional[Principal], owner: Optional[str] = None) -> list[ApiTokenRecord]: ...
    def suspend_api_token(self, actor: Optional[Principal], token_id: str) -> ApiTokenRecord: ...
    def resume_api_token(self, actor: Optional[Principal], token_id: str) -> ApiTokenRecord: ...
    def revoke_api_token(self, actor: Optional[Principal], token_id: str) -> ApiTokenRecord: ...
    def replace_api_token(self, actor: Optional[Principal], token_id: str, now: Optional[int] = None) -> NewApiToken: ...
    def open_session(self, api_token_secret: str, now: Optional[int] = None) -> SessionGrant: ...
    def renew(self, token: str, now: Optional[int] = None) -> SessionGrant: ...
    def close(self, token: str, now: Optional[int] = None) -> None: ...
    def restart(self) -> None: ...
    def authenticate(self, authorization: str, now: Optional[int] = None) -> Principal: ...

def parse_label(text: str) -> Label: ...
def format_label(label: Label) -> str: ...
def parse_authorization(header: str) -> str: ...
def suspend_api_token(record: ApiTokenRecord) -> ApiTokenRecord: ...
def resume_api_token(record: ApiTokenRecord) -> ApiTokenRecord: ...
def revoke_api_token(record: ApiTokenRecord) -> ApiTokenRecord: ...
def crypto_backend() -> str: ...
def _panic_for_test() -> None: ...

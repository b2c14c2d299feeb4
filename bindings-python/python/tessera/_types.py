"""The shapes of SPEC §1–6 as ``TypedDict``s, for type checkers and readers.

At run time these are plain ``dict``s: build them as literals, ``json.load``
them, or take them from a token verification. Keys are snake_case, exactly as
in the SPEC's JSON (which is also what every other binding reads and writes).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional, Tuple, TypedDict, Union

if TYPE_CHECKING:
    from tessera._native import KeySet

__all__ = [
    "Credential",
    "Reason",
    "Principal",
    "VerifiedPrincipal",
    "AnyPrincipal",
    "Resource",
    "OperationContext",
    "Label",
    "Jwk",
    "Jwks",
    "SessionOptions",
    "SessionGrant",
    "Revocations",
    "ApiTokenOptions",
    "ApiTokenState",
    "ApiTokenRecord",
    "NewApiToken",
    "MatchedRuleDict",
    "DecisionDict",
    "ExplanationDict",
    "PolicyDocument",
    "PolicySource",
    "BatchRequest",
    "User",
    "UserOptions",
    "Argon2Options",
    "RealmOptions",
    "RealmSnapshot",
]

#: How a principal proved who it is.
Credential = Literal["jwt", "session", "api_token"]

#: Why a decision came out the way it did (SPEC §4–5).
Reason = Literal[
    "allowed",
    "denied",
    "no_match",
    "limited",
    "invalid_request",
    "public",
    "unauthenticated",
    "missing_group",
    "missing_role",
    "missing_scope",
    "wrong_credential",
    "unknown_operation",
]


class _PrincipalFields(TypedDict, total=False):
    # Every key of a principal but `id`, shared by Principal and VerifiedPrincipal.
    roles: List[str]
    groups: List[str]
    #: Labels held by the principal itself (source ``principal``).
    permissions: List[str]
    scopes: List[str]
    #: When present, every allowed request must also match one of these labels.
    limits: Optional[List[str]]
    credential: Credential
    #: Seconds since the epoch at which the credential stops being valid.
    expires_at: int
    #: The session this principal came from (session credentials only).
    session_id: str
    #: The API token this principal came from, directly or through a session.
    api_token_id: str
    #: The verified claims of a provider JWT, untouched.
    claims: Dict[str, Any]


class Principal(_PrincipalFields, total=False):
    """Who is asking (SPEC §3). Token verification returns one, ready to authorize."""

    id: str


class _PrincipalId(TypedDict):
    id: str


class VerifiedPrincipal(_PrincipalId, _PrincipalFields):
    """A :class:`Principal` from a verified credential (``verify_jwt``, ``verify_session``,
    ``verify_api_token``, ``Realm.authenticate``): ``id`` is always there, so
    ``principal["id"]`` type-checks under pyright strict. Accepted wherever a
    ``Principal`` is (see :data:`AnyPrincipal`)."""


#: What every call taking a principal accepts: one written by hand (``id``
#: optional) or one a verification returned (``id`` present). Two types because
#: a TypedDict whose key is required is not assignable to one where it is not.
AnyPrincipal = Union[Principal, VerifiedPrincipal]


class _ResourceType(TypedDict):
    type: str


class Resource(_ResourceType, total=False):
    """What is acted on. Without ``id`` and owners it is type-level (listing, creating)."""

    id: str
    owner: str
    owners: List[str]


class OperationContext(TypedDict, total=False):
    """What the caller knows about the resource an operation acts on (SPEC §5)."""

    #: Used when the route has no ``{id}`` parameter (RPC operations).
    id: str
    owner: str
    owners: List[str]


class Label(TypedDict):
    """A parsed permission label (SPEC §1)."""

    effect: Literal["allow", "deny"]
    #: An action of the policy, or ``admin`` for every action.
    action: str
    own: bool
    #: None only for bare ``admin`` / ``admin_own``.
    subject: Optional[str]
    instance: Optional[str]


class _JwkType(TypedDict):
    kty: str


class Jwk(_JwkType, total=False):
    """A JSON Web Key, verbatim (``kty``, ``kid``, ``alg``, ``use``, ``n``, ``e``,
    ``crv``, ``x``, ``y``, ``k``, ``d``)."""

    kid: str
    alg: str
    use: str
    n: str
    e: str
    crv: str
    x: str
    y: str
    k: str
    d: str


class Jwks(TypedDict):
    """A JSON Web Key Set, verbatim."""

    keys: List[Jwk]


class SessionOptions(TypedDict, total=False):
    """Options of ``Engine.issue_session``."""

    #: Drawn at random (22 base62 characters) when absent.
    session_id: str
    #: The API token the session was opened with (default: the principal's).
    api_token_id: str
    #: Labels narrowing the session (default: the principal's ``limits``).
    limits: List[str]
    #: The host's restart counter at issue (default 0).
    epoch: int


class SessionGrant(TypedDict):
    """What issuing or renewing a session returns."""

    token: str
    session_id: str
    expires_at: int
    renewable_until: int


class Revocations(TypedDict, total=False):
    """Sessions a host has ended (SPEC §6.2)."""

    sessions: List[str]
    subjects: List[str]
    api_tokens: List[str]
    #: Sessions issued with a lower epoch are dead (a restart).
    epoch: int


class ApiTokenOptions(TypedDict, total=False):
    """Options of ``Engine.create_api_token``."""

    #: Seconds until the token expires; absent: it does not expire.
    lifespan_seconds: int
    limits: List[str]


ApiTokenState = Literal["active", "suspended", "revoked"]


class ApiTokenRecord(TypedDict):
    """What a host stores for an API token (never the secret)."""

    id: str
    owner: str
    roles: List[str]
    limits: Optional[List[str]]
    state: ApiTokenState
    created_at: int
    expires_at: Optional[int]
    #: Lowercase hex SHA-256 of the whole token text.
    hash: str


class NewApiToken(TypedDict):
    """A freshly made API token: show ``secret`` once, store ``record``."""

    #: ``tsr_<id>_<secret>``.
    secret: str
    record: ApiTokenRecord


class MatchedRuleDict(TypedDict):
    """One rule that matched a request."""

    rule: str
    source: str
    effect: Literal["allow", "deny"]


class _DecisionRequired(TypedDict):
    allowed: bool
    reason: Reason
    rule: Optional[str]
    source: Optional[str]


class DecisionDict(_DecisionRequired, total=False):
    """``Decision.to_dict()``: the SPEC's JSON shape of a decision."""

    message: str


class _ExplanationRequired(_DecisionRequired):
    effective_roles: List[str]
    unknown_roles: List[str]
    matched: List[MatchedRuleDict]
    #: For a denied request, what would allow it (SPEC §9): ``[{edits, decision}]``.
    suggestions: List[Dict[str, Any]]


class ExplanationDict(_ExplanationRequired, total=False):
    """``Explanation.to_dict()``: a decision with everything that led to it."""

    message: str


#: A policy document (SPEC §2), passed through verbatim.
PolicyDocument = Mapping[str, Any]

#: Where a policy comes from; see ``tessera.Engine`` for the rule.
PolicySource = Union[PolicyDocument, str, bytes, bytearray, "os.PathLike[str]"]

#: One request of ``Engine.authorize_batch``: ``(action, resource)``.
BatchRequest = Tuple[str, Resource]


class User(TypedDict):
    """A user as a realm shows it (never the password hash)."""

    id: str
    username: str
    #: The roles given to the user (not closed under ``inherits``).
    roles: List[str]
    #: Whether the user can log in with a password.
    has_password: bool
    created_at: int


class UserOptions(TypedDict, total=False):
    """Options of ``Realm.create_user``."""

    #: 1–128 characters of ``A-Z a-z 0-9 - _ . @ ~``; random when absent.
    id: str


class Argon2Options(TypedDict, total=False):
    """Password hashing costs (default: OWASP's m=19456 KiB, t=2, p=1)."""

    memory_kib: int
    iterations: int
    parallelism: int


class RealmOptions(TypedDict, total=False):
    """How a realm is set up."""

    argon2: Argon2Options
    #: With a JWKS (or a ``KeySet``, which rotates without a rebuild),
    #: ``Realm.authenticate`` also accepts provider JWTs.
    jwks: Union[Jwks, "KeySet"]


#: What ``Realm.snapshot`` returns and ``Realm.restore`` reads (see docs/realm.md):
#: ``{version, bootstrapped, epoch, users, api_tokens, sessions}``.
RealmSnapshot = Dict[str, Any]

//! Every rule of the realm (SPEC §7, `docs/realm.md`), one test per rule.

use serde_json::{json, Value};
use std::sync::Arc;
use tessera::token::{ApiTokenOptions, ApiTokenState, SessionOptions};
use tessera::{Argon2Options, Credential, Principal, Realm, RealmOptions, Resource, User, UserOptions};

const HS_KEY: &str = "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI";
const JWT_SECRET: &[u8] = b"provider-secret-provider-secret-0123";

fn key() -> Value {
    json!({"kty": "oct", "k": HS_KEY})
}

fn policy() -> Value {
    json!({
        "version": 1,
        "roles": {
            "user": {"permissions": [
                "read_own_device", "read_own_user", "update_own_user",
                "create_own_token", "read_own_token", "update_own_token", "delete_own_token"]},
            "manager": {"inherits": ["user"], "permissions": ["read_user", "read_device", "read_token"]},
            "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_user", "admin_token"]},
            "owner": {"inherits": ["admin"], "permissions": ["admin"]}
        },
        "groups": {"administrators": ["admin"]},
        "tokens": {"jwt": {
            "issuers": ["https://issuer.example"], "algorithms": ["HS256"],
            "client_ids": ["app"], "audiences": ["app"]}}
    })
}

fn jwks() -> Value {
    use base64::Engine as _;
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(JWT_SECRET);
    json!({"keys": [{"kty": "oct", "kid": "p1", "k": k}]})
}

fn realm_with(policy: &Value, options: &RealmOptions) -> Realm {
    Realm::new(policy, &key(), options).expect("realm")
}

fn realm() -> Realm {
    realm_with(&policy(), &RealmOptions::fast_for_tests())
}

fn no_id() -> UserOptions {
    UserOptions::default()
}

fn with_id(id: &str) -> UserOptions {
    UserOptions { id: Some(id.into()) }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A realm with `root` (bootstrap admin, password "root-pw") and `ann`
/// (user, password "ann-pw"); returns the realm and root's principal.
fn populated() -> (Realm, Principal) {
    let r = realm();
    r.create_user(None, "root", Some("root-pw"), &with_id("u-root"), Some(0))
        .unwrap();
    let root = login_as(&r, "root", "root-pw", 1);
    r.create_user(Some(&root), "ann", Some("ann-pw"), &with_id("u-ann"), Some(2))
        .unwrap();
    (r, root)
}

fn login_as(r: &Realm, name: &str, pw: &str, now: i64) -> Principal {
    let grant = r.login(name, pw, Some(now)).expect("login");
    r.authenticate(&format!("Bearer {}", grant.token), Some(now))
        .expect("authenticate")
}

fn code<T: std::fmt::Debug>(r: tessera::Result<T>) -> String {
    r.expect_err("expected an error").code
}

// ----- users ---------------------------------------------------------

#[test]
fn first_user_gets_the_bootstrap_role_without_an_actor() {
    let r = realm();
    let first = r
        .create_user(None, "root", Some("pw"), &no_id(), Some(5))
        .unwrap();
    assert_eq!(first.roles, ["admin"]);
    assert_eq!(first.created_at, 5);
    assert!(first.has_password);
    assert_eq!(first.id.len(), 22, "random base62 id");
    assert_eq!(r.snapshot()["bootstrapped"], true);
}

#[test]
fn later_users_get_the_default_role_and_need_an_allowed_actor() {
    let (r, root) = populated();
    assert_eq!(r.get_user(Some(&root), "u-ann").unwrap().roles, ["user"]);
    // No anonymous self-signup.
    assert_eq!(
        code(r.create_user(None, "eve", Some("pw"), &no_id(), Some(3))),
        "forbidden"
    );
    // A plain user may not create users.
    let ann = login_as(&r, "ann", "ann-pw", 3);
    assert_eq!(
        code(r.create_user(Some(&ann), "eve", Some("pw"), &no_id(), Some(3))),
        "forbidden"
    );
    // A principal the host builds with the permission may.
    let service = Principal {
        id: Some("svc".into()),
        permissions: strings(&["create_user"]),
        ..Default::default()
    };
    let eve = r
        .create_user(Some(&service), "eve", None, &no_id(), Some(4))
        .unwrap();
    assert_eq!(
        (eve.roles.as_slice(), eve.has_password),
        (["user".to_string()].as_slice(), false)
    );
}

#[test]
fn the_policy_chooses_bootstrap_and_default_roles() {
    let mut p = policy();
    p["realm"] = json!({"bootstrap_role": "owner", "default_role": "manager"});
    let r = realm_with(&p, &RealmOptions::fast_for_tests());
    let first = r
        .create_user(None, "root", Some("pw"), &no_id(), Some(0))
        .unwrap();
    assert_eq!(first.roles, ["owner"]);
    let root = login_as(&r, "root", "pw", 1);
    assert_eq!(
        r.create_user(Some(&root), "m", None, &no_id(), Some(1))
            .unwrap()
            .roles,
        ["manager"]
    );
}

#[test]
fn bootstrap_happens_once_even_if_every_user_is_deleted() {
    let r = realm();
    let first = r
        .create_user(None, "root", Some("pw"), &no_id(), Some(0))
        .unwrap();
    let root = login_as(&r, "root", "pw", 1);
    r.delete_user(Some(&root), &first.id).unwrap();
    assert!(r.list_users(Some(&root)).unwrap().is_empty());
    assert_eq!(
        code(r.create_user(None, "root2", Some("pw"), &no_id(), Some(2))),
        "forbidden"
    );
}

#[test]
fn usernames_and_ids_are_checked_and_unique() {
    let (r, root) = populated();
    let make = |name: &str, pw: Option<&str>, o: &UserOptions| {
        code(r.create_user(Some(&root), name, pw, o, Some(9)))
    };
    assert_eq!(
        make("ANN", None, &no_id()),
        "conflict",
        "usernames ignore ASCII case"
    );
    assert_eq!(make("bob", None, &with_id("u-ann")), "conflict");
    for bad in ["", " bob", "bob ", "b\nob", &"x".repeat(257)] {
        assert_eq!(make(bad, None, &no_id()), "invalid_argument", "{bad:?}");
    }
    assert_eq!(make("bob", Some(""), &no_id()), "invalid_argument");
    assert_eq!(make("bob", Some(&"p".repeat(1025)), &no_id()), "invalid_argument");
    for bad in ["", "a b", "a/b", &"a".repeat(129)] {
        assert_eq!(make("bob", None, &with_id(bad)), "invalid_argument", "{bad:?}");
    }
    let bob = r
        .create_user(
            Some(&root),
            "Bob Ü",
            Some(&"p".repeat(1024)),
            &with_id("u-bob.1@x~"),
            Some(9),
        )
        .unwrap();
    assert_eq!(bob.username, "Bob Ü");
    assert!(
        r.login("bob ü", &"p".repeat(1024), Some(10)).is_err(),
        "only ASCII case is folded"
    );
    assert!(r.login("BOB Ü", &"p".repeat(1024), Some(10)).is_ok());
}

#[test]
fn ids_of_deleted_users_who_owned_tokens_stay_taken() {
    let (r, root) = populated();
    r.create_api_token(Some(&root), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    r.delete_user(Some(&root), "u-ann").unwrap();
    assert_eq!(
        code(r.create_user(Some(&root), "ann2", None, &with_id("u-ann"), Some(4))),
        "conflict"
    );
    // A username is free again.
    assert!(r.create_user(Some(&root), "ann", None, &no_id(), Some(4)).is_ok());
}

#[test]
fn get_and_list_users_are_filtered_by_read() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let all: Vec<String> = r
        .list_users(Some(&root))
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(all, ["u-root", "u-ann"], "creation order");
    let own: Vec<User> = r.list_users(Some(&ann)).unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].id, "u-ann");
    assert_eq!(r.get_user(Some(&ann), "u-ann").unwrap().username, "ann");
    assert_eq!(code(r.get_user(Some(&ann), "u-root")), "forbidden");
    assert_eq!(
        code(r.get_user(Some(&ann), "u-ghost")),
        "forbidden",
        "no existence leak"
    );
    assert_eq!(code(r.get_user(Some(&root), "u-ghost")), "not_found");
    assert_eq!(code(r.list_users(None)), "forbidden");
    assert_eq!(code(r.get_user(None, "u-ann")), "forbidden");
    let user_json = serde_json::to_value(r.get_user(Some(&root), "u-ann").unwrap()).unwrap();
    assert_eq!(
        user_json,
        json!({"id": "u-ann", "username": "ann", "roles": ["user"], "has_password": true, "created_at": 2})
    );
}

#[test]
fn set_roles_needs_update_user_and_never_update_own_user() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    assert_eq!(
        code(r.set_roles(Some(&ann), "u-ann", &strings(&["admin"]))),
        "forbidden"
    );
    assert_eq!(
        code(r.set_roles(Some(&ann), "u-root", &strings(&["user"]))),
        "forbidden"
    );
    assert_eq!(
        code(r.set_roles(None, "u-ann", &strings(&["admin"]))),
        "forbidden"
    );
    assert_eq!(
        code(r.set_roles(Some(&root), "u-ghost", &strings(&["user"]))),
        "not_found"
    );
    assert_eq!(
        code(r.set_roles(Some(&root), "u-ann", &strings(&["root"]))),
        "invalid_argument"
    );
    assert_eq!(
        code(r.set_roles(Some(&root), "u-ann", &strings(&["user", "user"]))),
        "invalid_argument"
    );
    let updated = r.set_roles(Some(&root), "u-ann", &strings(&["manager"])).unwrap();
    assert_eq!(updated.roles, ["manager"]);
    // An instance grant is enough.
    let one = Principal {
        id: Some("x".into()),
        permissions: strings(&["update_user:u-ann"]),
        ..Default::default()
    };
    assert!(r.set_roles(Some(&one), "u-ann", &[]).is_ok());
    assert_eq!(code(r.set_roles(Some(&one), "u-root", &[])), "forbidden");
}

#[test]
fn authenticate_reflects_role_changes_at_once() {
    let (r, root) = populated();
    let grant = r.login("ann", "ann-pw", Some(3)).unwrap();
    let t = {
        let ann = r.authenticate(&grant.token, Some(3)).unwrap();
        r.create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
            .unwrap()
    };
    let api_session = r.open_session(&t.secret, Some(3)).unwrap();
    r.set_roles(Some(&root), "u-ann", &strings(&["manager"])).unwrap();
    let p = r.authenticate(&grant.token, Some(4)).unwrap();
    assert_eq!(p.roles, ["manager"]);
    let readable = Resource::new("user").with_id("u-root").with_owner("u-root");
    assert!(r.engine().authorize(&p, "read", &readable).unwrap().allowed);
    // The token's `user` role is still within manager (manager inherits user).
    assert_eq!(r.authenticate(&t.secret, Some(4)).unwrap().roles, ["user"]);
    // Demoted to nothing: the token keeps no role its owner lost.
    r.set_roles(Some(&root), "u-ann", &[]).unwrap();
    assert!(r.authenticate(&grant.token, Some(5)).unwrap().roles.is_empty());
    assert!(r.authenticate(&t.secret, Some(5)).unwrap().roles.is_empty());
    assert!(r
        .authenticate(&api_session.token, Some(5))
        .unwrap()
        .roles
        .is_empty());
    r.set_roles(Some(&root), "u-ann", &strings(&["admin"])).unwrap();
    assert_eq!(
        r.authenticate(&t.secret, Some(6)).unwrap().roles,
        ["user"],
        "never more than the token's own"
    );
}

#[test]
fn set_password_own_or_with_update_user_and_ends_other_sessions() {
    let (r, root) = populated();
    let first = r.login("ann", "ann-pw", Some(3)).unwrap();
    let second = r.login("ann", "ann-pw", Some(3)).unwrap();
    let root_session = r.login("root", "root-pw", Some(3)).unwrap();
    let ann = r.authenticate(&first.token, Some(4)).unwrap();
    assert_eq!(code(r.set_password(Some(&ann), "u-root", Some("x"))), "forbidden");
    assert_eq!(
        code(r.set_password(Some(&ann), "u-ann", Some(""))),
        "invalid_argument"
    );
    assert_eq!(
        code(r.set_password(Some(&root), "u-ghost", Some("x"))),
        "not_found"
    );
    r.set_password(Some(&ann), "u-ann", Some("new-pw")).unwrap();
    assert!(
        r.authenticate(&first.token, Some(5)).is_ok(),
        "the actor's own session goes on"
    );
    assert_eq!(code(r.authenticate(&second.token, Some(5))), "revoked");
    assert!(
        r.authenticate(&root_session.token, Some(5)).is_ok(),
        "other users untouched"
    );
    assert_eq!(code(r.login("ann", "ann-pw", Some(6))), "invalid_credentials");
    assert!(r.login("ann", "new-pw", Some(6)).is_ok());
    // An admin resets it: every session of ann ends; None removes the password.
    r.set_password(Some(&root), "u-ann", None).unwrap();
    assert_eq!(code(r.authenticate(&first.token, Some(7))), "revoked");
    assert_eq!(code(r.login("ann", "new-pw", Some(7))), "invalid_credentials");
    assert!(!r.get_user(Some(&root), "u-ann").unwrap().has_password);
}

#[test]
fn delete_user_ends_sessions_and_revokes_tokens() {
    let (r, root) = populated();
    let ann_grant = r.login("ann", "ann-pw", Some(3)).unwrap();
    let ann = r.authenticate(&ann_grant.token, Some(3)).unwrap();
    assert_eq!(code(r.delete_user(Some(&ann), "u-root")), "forbidden");
    assert_eq!(
        code(r.delete_user(Some(&ann), "u-ann")),
        "forbidden",
        "no delete_own_user in this policy"
    );
    let t1 = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let t2 = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    r.suspend_api_token(Some(&ann), &t2.record.id).unwrap();
    let via_token = r.open_session(&t1.secret, Some(4)).unwrap();
    let root_token = r
        .create_api_token(Some(&root), "u-root", None, &ApiTokenOptions::default(), Some(4))
        .unwrap();
    r.delete_user(Some(&root), "u-ann").unwrap();
    assert_eq!(code(r.delete_user(Some(&root), "u-ann")), "not_found");
    assert_eq!(code(r.authenticate(&ann_grant.token, Some(5))), "revoked");
    assert_eq!(code(r.authenticate(&via_token.token, Some(5))), "revoked");
    assert_eq!(code(r.authenticate(&t1.secret, Some(5))), "revoked");
    assert_eq!(code(r.authenticate(&t2.secret, Some(5))), "revoked");
    assert_eq!(code(r.open_session(&t1.secret, Some(5))), "revoked");
    assert_eq!(code(r.login("ann", "ann-pw", Some(5))), "invalid_credentials");
    let records = r.list_api_tokens(Some(&root), Some("u-ann")).unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|t| t.state == ApiTokenState::Revoked));
    assert!(r.authenticate(&root_token.secret, Some(5)).is_ok());
    let snap = r.snapshot();
    assert!(snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["user_id"] != "u-ann"));
}

#[test]
fn delete_own_user_when_the_policy_allows_it() {
    let mut p = policy();
    p["roles"]["user"]["permissions"]
        .as_array_mut()
        .unwrap()
        .push(json!("delete_own_user"));
    let r = realm_with(&p, &RealmOptions::fast_for_tests());
    r.create_user(None, "root", Some("pw"), &with_id("u-root"), Some(0))
        .unwrap();
    let root = login_as(&r, "root", "pw", 0);
    r.create_user(Some(&root), "ann", Some("pw"), &with_id("u-ann"), Some(0))
        .unwrap();
    let ann = login_as(&r, "ann", "pw", 1);
    assert_eq!(code(r.delete_user(Some(&ann), "u-root")), "forbidden");
    r.delete_user(Some(&ann), "u-ann").unwrap();
}

// ----- login -----------------------------------------------------------

#[test]
fn login_fails_the_same_way_for_every_bad_credential() {
    let (r, root) = populated();
    r.create_user(Some(&root), "nopw", None, &no_id(), Some(3))
        .unwrap();
    for (name, pw) in [
        ("ann", "wrong"),
        ("nobody", "ann-pw"),
        ("nopw", ""),
        ("nopw", "anything"),
        ("ann", ""),
        ("", ""),
        ("ann", &"x".repeat(5000)),
    ] {
        let err = r.login(name, pw, Some(3)).unwrap_err();
        assert_eq!(err.code, "invalid_credentials", "{name}");
        assert_eq!(err.kind, tessera::ErrorKind::Realm);
        assert_eq!(err.message, "unknown username or wrong password");
    }
    let grant = r.login("ann", "ann-pw", Some(100)).unwrap();
    assert_eq!((grant.expires_at, grant.renewable_until), (1900, 172_900));
    assert_eq!(grant.session_id.len(), 22);
    let p = r.authenticate(&grant.token, Some(100)).unwrap();
    assert_eq!(p.credential, Some(Credential::Session));
    assert_eq!(p.id.as_deref(), Some("u-ann"));
    assert_eq!(p.session_id, Some(grant.session_id));
    assert_eq!(p.expires_at, Some(1900));
    assert_eq!((p.api_token_id, p.limits), (None, None));
}

/// With the default (OWASP) parameters: a login for an unknown user costs
/// as much as one with a wrong password (the dummy hash has the realm's
/// parameters). Minimum of several runs, generous bounds: the machine is shared.
#[test]
fn default_parameters_and_equal_work_for_unknown_users() {
    let r = realm_with(&policy(), &RealmOptions::default());
    let ann = r.create_user(None, "ann", Some("pw"), &no_id(), Some(0)).unwrap();
    let hash = r.snapshot()["users"][0]["password_hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert_eq!(ann.roles, ["admin"]);
    let time = |name: &str, pw: &str| {
        (0..3)
            .map(|_| {
                let start = std::time::Instant::now();
                let _ = r.login(name, pw, Some(1));
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let wrong = time("ann", "nope");
    let unknown = time("nobody", "nope");
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.3..3.5).contains(&ratio),
        "wrong password {wrong:?}, unknown user {unknown:?}"
    );
    assert!(r.login("ann", "pw", Some(1)).is_ok());
}

#[test]
fn hashes_made_under_other_parameters_still_verify() {
    let r = realm();
    r.create_user(None, "ann", Some("pw"), &no_id(), Some(0)).unwrap();
    let snap = r.snapshot();
    let stronger = RealmOptions {
        argon2: Argon2Options {
            memory_kib: 64,
            iterations: 2,
            parallelism: 2,
        },
        jwks: None,
    };
    let again = Realm::restore(&policy(), &snap, &key(), &stronger).unwrap();
    assert!(again.login("ann", "pw", Some(1)).is_ok());
}

// ----- API tokens -------------------------------------------------------

#[test]
fn api_token_creation_is_authorised_by_ownership() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let own = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(10))
        .unwrap();
    assert!(own.secret.starts_with("tsr_"));
    assert_eq!(own.record.owner, "u-ann");
    assert_eq!(own.record.roles, ["user"], "default: the owner's roles");
    assert_eq!(own.record.created_at, 10);
    assert_eq!(
        code(r.create_api_token(Some(&ann), "u-root", None, &ApiTokenOptions::default(), Some(10))),
        "forbidden"
    );
    assert_eq!(
        code(r.create_api_token(Some(&ann), "u-ghost", None, &ApiTokenOptions::default(), Some(10))),
        "forbidden"
    );
    assert_eq!(
        code(r.create_api_token(None, "u-ann", None, &ApiTokenOptions::default(), Some(10))),
        "forbidden"
    );
    assert_eq!(
        code(r.create_api_token(
            Some(&root),
            "u-ghost",
            None,
            &ApiTokenOptions::default(),
            Some(10)
        )),
        "not_found"
    );
    // An admin makes one for ann (admin_token).
    let for_ann = r
        .create_api_token(Some(&root), "u-ann", None, &ApiTokenOptions::default(), Some(10))
        .unwrap();
    let p = r.authenticate(&for_ann.secret, Some(11)).unwrap();
    assert_eq!(p.id.as_deref(), Some("u-ann"));
    assert_eq!(p.credential, Some(Credential::ApiToken));
    assert_eq!(p.api_token_id, Some(for_ann.record.id.clone()));
}

#[test]
fn a_token_never_exceeds_its_owner_nor_the_credential_making_it() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let opts = ApiTokenOptions::default();
    assert_eq!(
        code(r.create_api_token(Some(&ann), "u-ann", Some(&strings(&["admin"])), &opts, Some(3))),
        "forbidden"
    );
    assert_eq!(
        code(r.create_api_token(Some(&root), "u-ann", Some(&strings(&["admin"])), &opts, Some(3))),
        "forbidden"
    );
    assert_eq!(
        code(r.create_api_token(Some(&root), "u-ann", Some(&strings(&["ghost"])), &opts, Some(3))),
        "invalid_argument"
    );
    assert_eq!(
        code(r.create_api_token(
            Some(&root),
            "u-ann",
            Some(&strings(&["user", "user"])),
            &opts,
            Some(3)
        )),
        "invalid_argument"
    );
    // Inherited roles count: root (admin) may hold a `user` token.
    let t = r
        .create_api_token(Some(&root), "u-root", Some(&strings(&["user"])), &opts, Some(3))
        .unwrap();
    assert_eq!(t.record.roles, ["user"]);
    // That narrower token cannot mint a broader one for its owner.
    let narrow = r.authenticate(&t.secret, Some(3)).unwrap();
    assert_eq!(
        code(r.create_api_token(
            Some(&narrow),
            "u-root",
            Some(&strings(&["admin"])),
            &opts,
            Some(3)
        )),
        "forbidden"
    );
    let child = r
        .create_api_token(Some(&narrow), "u-root", None, &opts, Some(3))
        .unwrap();
    assert_eq!(child.record.roles, ["user"], "default: what the actor holds");
    assert_eq!(
        code(r.create_api_token(
            Some(&root),
            "u-root",
            None,
            &ApiTokenOptions {
                lifespan_seconds: Some(0),
                limits: None
            },
            Some(3)
        )),
        "invalid_argument"
    );
    assert_eq!(
        code(r.create_api_token(
            Some(&root),
            "u-root",
            None,
            &ApiTokenOptions {
                lifespan_seconds: None,
                limits: Some(strings(&["fly_device"]))
            },
            Some(3)
        )),
        "invalid_argument"
    );
}

#[test]
fn limited_credentials_only_make_narrower_tokens() {
    let (r, _root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let limits = strings(&["create_own_token", "read_own_device", "!read_device:d1"]);
    let limited = r
        .create_api_token(
            Some(&ann),
            "u-ann",
            None,
            &ApiTokenOptions {
                lifespan_seconds: None,
                limits: Some(limits.clone()),
            },
            Some(3),
        )
        .unwrap();
    let actor = r.authenticate(&limited.secret, Some(4)).unwrap();
    assert_eq!(actor.limits, Some(limits.clone()));
    let inherited = r
        .create_api_token(Some(&actor), "u-ann", None, &ApiTokenOptions::default(), Some(4))
        .unwrap();
    assert_eq!(inherited.record.limits, Some(limits.clone()));
    let narrower = ApiTokenOptions {
        lifespan_seconds: None,
        limits: Some(strings(&["read_own_device", "!read_device:d1"])),
    };
    assert!(r
        .create_api_token(Some(&actor), "u-ann", None, &narrower, Some(4))
        .is_ok());
    for wider in [vec!["read_own_device"], vec!["read_device", "!read_device:d1"]] {
        let o = ApiTokenOptions {
            lifespan_seconds: None,
            limits: Some(strings(&wider)),
        };
        assert_eq!(
            code(r.create_api_token(Some(&actor), "u-ann", None, &o, Some(4))),
            "forbidden",
            "{wider:?}"
        );
    }
    // Its limits do not cover reading tokens, so it cannot even list them.
    assert!(r.list_api_tokens(Some(&actor), None).unwrap().is_empty());
    // Nor replace an unlimited token it somehow could delete.
    let full = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(4))
        .unwrap();
    assert_eq!(
        code(r.replace_api_token(Some(&actor), &full.record.id, Some(5))),
        "forbidden"
    );
}

#[test]
fn list_api_tokens_is_filtered_by_read_and_owner() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let a1 = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let r1 = r
        .create_api_token(Some(&root), "u-root", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let a2 = r
        .create_api_token(Some(&root), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let ids = |v: Vec<tessera::token::ApiTokenRecord>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(r.list_api_tokens(Some(&root), None).unwrap()),
        [a1.record.id.as_str(), &r1.record.id, &a2.record.id]
    );
    assert_eq!(
        ids(r.list_api_tokens(Some(&root), Some("u-ann")).unwrap()),
        [a1.record.id.as_str(), &a2.record.id]
    );
    assert_eq!(
        ids(r.list_api_tokens(Some(&ann), None).unwrap()),
        [a1.record.id.as_str(), &a2.record.id]
    );
    assert!(r.list_api_tokens(Some(&ann), Some("u-root")).unwrap().is_empty());
    assert_eq!(code(r.list_api_tokens(None, None)), "forbidden");
    let listed = &r.list_api_tokens(Some(&ann), None).unwrap()[0];
    assert_eq!(listed, &a1.record);
    assert_eq!(listed.hash.len(), 64);
}

#[test]
fn token_transitions_and_their_permissions() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let t = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let root_t = r
        .create_api_token(Some(&root), "u-root", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let id = t.record.id.as_str();
    assert_eq!(
        code(r.suspend_api_token(Some(&ann), &root_t.record.id)),
        "forbidden"
    );
    assert_eq!(
        code(r.revoke_api_token(Some(&ann), &root_t.record.id)),
        "forbidden"
    );
    assert_eq!(
        code(r.suspend_api_token(Some(&ann), "nope")),
        "forbidden",
        "no existence leak"
    );
    assert_eq!(code(r.suspend_api_token(Some(&root), "nope")), "not_found");
    assert_eq!(code(r.suspend_api_token(None, id)), "forbidden");
    assert_eq!(code(r.resume_api_token(Some(&ann), id)), "invalid_transition");
    assert_eq!(
        r.suspend_api_token(Some(&ann), id).unwrap().state,
        ApiTokenState::Suspended
    );
    assert_eq!(code(r.authenticate(&t.secret, Some(4))), "suspended");
    assert_eq!(code(r.open_session(&t.secret, Some(4))), "suspended");
    assert_eq!(code(r.suspend_api_token(Some(&ann), id)), "invalid_transition");
    assert_eq!(
        r.resume_api_token(Some(&root), id).unwrap().state,
        ApiTokenState::Active
    );
    assert!(r.authenticate(&t.secret, Some(5)).is_ok());
    assert_eq!(
        r.revoke_api_token(Some(&ann), id).unwrap().state,
        ApiTokenState::Revoked
    );
    assert_eq!(code(r.revoke_api_token(Some(&ann), id)), "invalid_transition");
    assert_eq!(code(r.resume_api_token(Some(&ann), id)), "invalid_transition");
    assert_eq!(code(r.authenticate(&t.secret, Some(6))), "revoked");
    assert_eq!(
        code(r.replace_api_token(Some(&ann), id, Some(6))),
        "invalid_transition"
    );
}

#[test]
fn revoking_a_token_ends_its_sessions_and_suspending_pauses_them() {
    let (r, _root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let t = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let other = r
        .create_api_token(Some(&ann), "u-ann", None, &ApiTokenOptions::default(), Some(3))
        .unwrap();
    let s = r.open_session(&t.secret, Some(4)).unwrap();
    let s_other = r.open_session(&other.secret, Some(4)).unwrap();
    let login = r.login("ann", "ann-pw", Some(4)).unwrap();
    r.suspend_api_token(Some(&ann), &t.record.id).unwrap();
    assert_eq!(code(r.authenticate(&s.token, Some(5))), "suspended");
    assert_eq!(code(r.renew(&s.token, Some(5))), "suspended");
    r.resume_api_token(Some(&ann), &t.record.id).unwrap();
    assert!(r.authenticate(&s.token, Some(6)).is_ok());
    r.revoke_api_token(Some(&ann), &t.record.id).unwrap();
    assert_eq!(code(r.authenticate(&s.token, Some(7))), "revoked");
    assert!(r.authenticate(&s_other.token, Some(7)).is_ok());
    assert!(r.authenticate(&login.token, Some(7)).is_ok());
}

#[test]
fn replacing_a_token_revokes_the_old_one_and_ends_its_sessions() {
    let (r, root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let limits = Some(strings(&["read_own_device"]));
    let old = r
        .create_api_token(
            Some(&ann),
            "u-ann",
            None,
            &ApiTokenOptions {
                lifespan_seconds: Some(1000),
                limits: limits.clone(),
            },
            Some(10),
        )
        .unwrap();
    let s = r.open_session(&old.secret, Some(11)).unwrap();
    assert_eq!(
        code(r.replace_api_token(Some(&ann), "nope", Some(12))),
        "forbidden"
    );
    assert_eq!(
        code(r.replace_api_token(Some(&root), "nope", Some(12))),
        "not_found"
    );
    let new = r
        .replace_api_token(Some(&ann), &old.record.id, Some(100))
        .unwrap();
    assert_ne!(new.record.id, old.record.id);
    assert_eq!(new.record.created_at, 100);
    assert_eq!(new.record.expires_at, Some(1100));
    assert_eq!(new.record.limits, limits);
    assert_eq!(new.record.owner, "u-ann");
    assert_eq!(code(r.authenticate(&old.secret, Some(101))), "revoked");
    assert_eq!(code(r.authenticate(&s.token, Some(101))), "revoked");
    let p = r.authenticate(&new.secret, Some(101)).unwrap();
    assert_eq!(p.limits, limits);
    let listed: Vec<_> = r.list_api_tokens(Some(&ann), None).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].state, ApiTokenState::Revoked);
    assert_eq!(listed[1], new.record);
}

#[test]
fn expired_tokens_and_their_sessions() {
    let (r, _root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let t = r
        .create_api_token(
            Some(&ann),
            "u-ann",
            None,
            &ApiTokenOptions {
                lifespan_seconds: Some(100),
                limits: None,
            },
            Some(0),
        )
        .unwrap();
    let s = r.open_session(&t.secret, Some(50)).unwrap();
    let p = r.authenticate(&s.token, Some(60)).unwrap();
    assert_eq!(p.expires_at, Some(100), "capped by the token");
    assert_eq!(code(r.authenticate(&s.token, Some(100))), "expired");
    assert_eq!(code(r.renew(&s.token, Some(100))), "expired");
    assert_eq!(code(r.authenticate(&t.secret, Some(100))), "expired");
    assert_eq!(code(r.open_session(&t.secret, Some(100))), "expired");
}

// ----- sessions ---------------------------------------------------------

#[test]
fn open_session_carries_the_token_id_and_limits() {
    let (r, _root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    let limits = strings(&["read_own_device"]);
    let t = r
        .create_api_token(
            Some(&ann),
            "u-ann",
            None,
            &ApiTokenOptions {
                lifespan_seconds: None,
                limits: Some(limits.clone()),
            },
            Some(3),
        )
        .unwrap();
    let s = r.open_session(&t.secret, Some(10)).unwrap();
    assert_eq!((s.expires_at, s.renewable_until), (1810, 172_810));
    let p = r.authenticate(&s.token, Some(11)).unwrap();
    assert_eq!(p.credential, Some(Credential::Session));
    assert_eq!(p.api_token_id, Some(t.record.id.clone()));
    assert_eq!(p.limits, Some(limits));
    assert_eq!(p.roles, ["user"]);
    // The token's limits narrow what the session may do.
    let own_user = Resource::new("user").with_id("u-ann").with_owner("u-ann");
    assert!(!r.engine().authorize(&p, "read", &own_user).unwrap().allowed);
    let own_device = Resource::new("device").with_id("d").with_owner("u-ann");
    assert!(r.engine().authorize(&p, "read", &own_device).unwrap().allowed);
    // Garbage is an API-token error, never a panic.
    for bad in ["", "tsr_", "tsr_x_y", "Bearer tsr_x", "tsr_AAAA_BBBB"] {
        assert_eq!(code(r.open_session(bad, Some(12))), "malformed", "{bad}");
    }
    let unknown = format!("tsr_{}_{}", "A".repeat(22), "B".repeat(43));
    assert_eq!(code(r.open_session(&unknown, Some(12))), "unknown_token");
    let wrong_secret = format!("{}C", &t.secret[..t.secret.len() - 1]);
    if wrong_secret != t.secret {
        assert_eq!(code(r.open_session(&wrong_secret, Some(12))), "unknown_token");
    }
}

#[test]
fn renew_reaches_the_48_hour_ceiling_and_no_further() {
    let (r, _root) = populated();
    let first = r.login("ann", "ann-pw", Some(0)).unwrap();
    assert_eq!((first.expires_at, first.renewable_until), (1800, 172_800));
    let mut token = first.token.clone();
    let mut now = 0;
    let mut last = first.clone();
    while now + 1700 < 172_800 {
        now += 1700;
        last = r.renew(&token, Some(now)).unwrap();
        assert_eq!(last.session_id, first.session_id);
        assert_eq!(last.renewable_until, 172_800);
        assert_eq!(last.expires_at, (now + 1800).min(172_800));
        token = last.token.clone();
    }
    assert_eq!(last.expires_at, 172_800, "the last renewal stops at the ceiling");
    assert!(r.authenticate(&token, Some(172_799)).is_ok());
    assert_eq!(code(r.renew(&token, Some(172_800))), "session_ended");
    assert_eq!(code(r.authenticate(&token, Some(172_800))), "session_ended");
    // An expired token is not renewable even before the ceiling.
    let other = r.login("ann", "ann-pw", Some(0)).unwrap();
    assert_eq!(code(r.renew(&other.token, Some(1800))), "expired");
    // Renewing keeps the session in the realm until its last token expires.
    let snap = r.snapshot();
    let sessions = snap["sessions"].as_array().unwrap();
    let rec = sessions
        .iter()
        .find(|s| s["id"] == first.session_id.as_str())
        .unwrap();
    assert_eq!(rec["expires_at"], 172_800);
}

#[test]
fn close_ends_one_session() {
    let (r, _root) = populated();
    let a = r.login("ann", "ann-pw", Some(0)).unwrap();
    let b = r.login("ann", "ann-pw", Some(0)).unwrap();
    let renewed = r.renew(&a.token, Some(10)).unwrap();
    r.close(&a.token, Some(20)).unwrap();
    assert_eq!(code(r.authenticate(&a.token, Some(21))), "revoked");
    assert_eq!(
        code(r.authenticate(&renewed.token, Some(21))),
        "revoked",
        "every token of the session"
    );
    assert_eq!(code(r.renew(&renewed.token, Some(21))), "revoked");
    assert_eq!(code(r.close(&a.token, Some(21))), "revoked");
    assert!(r.authenticate(&b.token, Some(21)).is_ok());
    assert_eq!(code(r.close("garbage", Some(21))), "malformed");
    assert_eq!(code(r.close(&b.token, Some(5000))), "expired");
}

#[test]
fn a_remembered_session_token_is_checked_again_on_every_call() {
    // The realm's key remembers the tokens it verified (decoding and the
    // signature are skipped the second time); time, policy and revocations
    // are still read on every call.
    let (r, _root) = populated();
    let a = r.login("ann", "ann-pw", Some(0)).unwrap();
    let first = r.authenticate(&a.token, Some(1)).unwrap();
    assert_eq!(r.authenticate(&a.token, Some(2)).unwrap(), first);
    assert_eq!(code(r.authenticate(&a.token, Some(1800))), "expired");
    assert!(r.authenticate(&a.token, Some(1799)).is_ok());
    // One byte changed in the signature is another token: a miss, then refused.
    // The signature's first character is changed, not its last: the last one
    // of a 32-byte signature carries 4 bits and 2 that must be zero, so 'B'
    // there would be malformed base64url (1 login in 16, the token is random).
    let at = a.token.rfind('.').unwrap() + 1;
    let first_char = if a.token[at..].starts_with('A') { "B" } else { "A" };
    let forged = format!("{}{first_char}{}", &a.token[..at], &a.token[at + 1..]);
    assert_eq!(code(r.authenticate(&forged, Some(3))), "bad_signature");
    // Another realm's key never takes this realm's memory for its own.
    let other_key = json!({"kty": "oct", "k": "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0wMTIzNDU"});
    let other = Realm::new(&policy(), &other_key, &RealmOptions::fast_for_tests()).unwrap();
    assert_eq!(code(other.authenticate(&a.token, Some(3))), "bad_signature");
    // The ceiling comes from the policy in force.
    let mut shorter = policy();
    shorter["tokens"]["session"] = json!({"ttl_seconds": 60, "max_lifetime_seconds": 100});
    r.engine().load(&shorter).unwrap();
    assert_eq!(code(r.authenticate(&a.token, Some(100))), "session_ended");
    r.engine().load(&policy()).unwrap();
    assert!(r.authenticate(&a.token, Some(100)).is_ok());
    // Renewing and closing a remembered token, then its revocation.
    let renewed = r.renew(&a.token, Some(200)).unwrap();
    assert_eq!(
        r.authenticate(&renewed.token, Some(201)).unwrap().session_id,
        first.session_id
    );
    r.close(&renewed.token, Some(202)).unwrap();
    assert_eq!(code(r.authenticate(&a.token, Some(203))), "revoked");
    assert_eq!(code(r.authenticate(&renewed.token, Some(203))), "revoked");
}

#[test]
fn restart_ends_every_session_but_keeps_users_and_tokens() {
    let (r, root) = populated();
    let a = r.login("ann", "ann-pw", Some(0)).unwrap();
    let t = r
        .create_api_token(Some(&root), "u-ann", None, &ApiTokenOptions::default(), Some(0))
        .unwrap();
    let s = r.open_session(&t.secret, Some(0)).unwrap();
    r.restart().unwrap();
    assert_eq!(r.snapshot()["epoch"], 1);
    assert_eq!(r.snapshot()["sessions"], json!([]));
    assert_eq!(code(r.authenticate(&a.token, Some(1))), "revoked");
    assert_eq!(code(r.authenticate(&s.token, Some(1))), "revoked");
    assert_eq!(code(r.renew(&a.token, Some(1))), "revoked");
    assert!(r.authenticate(&t.secret, Some(1)).is_ok());
    let fresh = r.login("ann", "ann-pw", Some(2)).unwrap();
    assert!(r.authenticate(&fresh.token, Some(3)).is_ok());
    // A session restored from an older snapshot is refused by its epoch.
    r.restart().unwrap();
    let snap = r.snapshot();
    let mut old = snap.clone();
    old["epoch"] = json!(0);
    let mut stale = snap.clone();
    stale["sessions"] =
        json!([{"id": fresh.session_id, "user_id": "u-ann", "api_token_id": null, "expires_at": 1802}]);
    let again = Realm::restore(&policy(), &stale, &key(), &RealmOptions::fast_for_tests()).unwrap();
    assert_eq!(
        code(again.authenticate(&fresh.token, Some(4))),
        "revoked",
        "epoch 1 < 2"
    );
}

#[test]
fn sessions_are_forgotten_once_their_last_token_expires() {
    let r = realm();
    r.create_user(None, "ann", Some("ann-pw"), &no_id(), Some(0))
        .unwrap();
    r.login("ann", "ann-pw", Some(0)).unwrap();
    r.login("ann", "ann-pw", Some(1000)).unwrap();
    assert_eq!(r.snapshot()["sessions"].as_array().unwrap().len(), 2);
    r.login("ann", "ann-pw", Some(1800)).unwrap();
    let snap = r.snapshot();
    let left: Vec<i64> = snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["expires_at"].as_i64().unwrap())
        .collect();
    assert_eq!(left, [2800, 3600]);
}

// ----- authenticate -------------------------------------------------------

fn provider_jwt(claims: Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("p1".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET),
    )
    .unwrap()
}

#[test]
fn authenticate_accepts_provider_jwts_only_with_a_jwks() {
    let claims = json!({"sub": "cog-1", "iss": "https://issuer.example", "token_use": "access",
        "client_id": "app", "exp": 2000, "iat": 100, "cognito:groups": ["administrators"], "scope": "a b"});
    let jwt = provider_jwt(claims);
    let plain = realm();
    assert_eq!(
        code(plain.authenticate(&format!("Bearer {jwt}"), Some(500))),
        "wrong_token_use"
    );
    let options = RealmOptions {
        jwks: Some(jwks()),
        ..RealmOptions::fast_for_tests()
    };
    let r = realm_with(&policy(), &options);
    let p = r.authenticate(&format!("Bearer {jwt}"), Some(500)).unwrap();
    assert_eq!(p.credential, Some(Credential::Jwt));
    assert_eq!(p.id.as_deref(), Some("cog-1"));
    assert_eq!(p.roles, ["admin"]);
    assert_eq!(p.scopes, ["a", "b"]);
    assert_eq!(code(r.authenticate(&jwt, Some(2000))), "expired");
    let wrong_iss = provider_jwt(
        json!({"sub": "x", "iss": "https://evil.example", "token_use": "access", "client_id": "app", "exp": 2000}),
    );
    assert_eq!(code(r.authenticate(&wrong_iss, Some(500))), "wrong_issuer");
    // Sessions still work on a realm with a JWKS.
    r.create_user(None, "ann", Some("pw"), &no_id(), Some(0)).unwrap();
    let s = r.login("ann", "pw", Some(0)).unwrap();
    assert_eq!(
        r.authenticate(&s.token, Some(1)).unwrap().credential,
        Some(Credential::Session)
    );
}

#[test]
fn authenticate_refuses_garbage_with_token_codes() {
    let (r, _root) = populated();
    for (header, want) in [
        ("", "malformed"),
        ("Bearer", "malformed"),
        ("Bearer ", "malformed"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer a b", "malformed"),
        ("abc", "malformed"),
        ("a.b.c", "malformed"),
        ("Bearer tsr_", "malformed"),
        ("tsr_abc_def", "malformed"),
        ("Bearer \u{0}", "malformed"),
    ] {
        assert_eq!(code(r.authenticate(header, Some(0))), want, "{header:?}");
    }
    let unknown = format!("tsr_{}_{}", "A".repeat(22), "B".repeat(43));
    assert_eq!(code(r.authenticate(&unknown, Some(0))), "unknown_token");
    let huge = format!("Bearer {}", "a".repeat(20_000));
    assert!(r.authenticate(&huge, Some(0)).is_err());
    // A session signed with another key.
    let other = Realm::new(
        &policy(),
        &json!({"kty": "oct", "k": "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci0zMg"}),
        &RealmOptions::fast_for_tests(),
    )
    .unwrap();
    other
        .create_user(None, "ann", Some("ann-pw"), &with_id("u-ann"), Some(0))
        .unwrap();
    let foreign = other.login("ann", "ann-pw", Some(0)).unwrap();
    assert_eq!(code(r.authenticate(&foreign.token, Some(1))), "bad_signature");
    // A session made with the right key but not by the realm: unknown sid.
    let p = Principal {
        id: Some("u-ann".into()),
        roles: strings(&["admin"]),
        ..Default::default()
    };
    let forged = r
        .engine()
        .issue_session(&p, &key(), Some(0), &SessionOptions::default())
        .unwrap();
    assert_eq!(code(r.authenticate(&forged.token, Some(1))), "revoked");
    assert_eq!(code(r.renew(&forged.token, Some(1))), "revoked");
    assert_eq!(code(r.close(&forged.token, Some(1))), "revoked");
    // A session token with a future `iat`.
    let s = r.login("ann", "ann-pw", Some(100)).unwrap();
    assert_eq!(code(r.authenticate(&s.token, Some(99))), "not_yet_valid");
}

#[test]
fn principals_from_authenticate_drive_authorize() {
    let (r, root) = populated();
    let admin_device = Resource::new("device").with_id("d9").with_owner("u-ann");
    assert!(
        r.engine()
            .authorize(&root, "delete", &admin_device)
            .unwrap()
            .allowed
    );
    let ann = login_as(&r, "ann", "ann-pw", 3);
    assert!(
        !r.engine()
            .authorize(&ann, "delete", &admin_device)
            .unwrap()
            .allowed
    );
    assert!(r.engine().authorize(&ann, "read", &admin_device).unwrap().allowed);
}

// ----- construction, policies, concurrency ---------------------------------

#[test]
fn construction_checks_key_options_and_jwks() {
    let p = policy();
    let fast = RealmOptions::fast_for_tests();
    assert_eq!(
        code(Realm::new(&p, &json!({"kty": "oct", "k": "c2hvcnQ"}), &fast)),
        "weak_key"
    );
    assert_eq!(
        code(Realm::new(
            &p,
            &json!({"kty": "RSA", "n": "x", "e": "AQAB"}),
            &fast
        )),
        "unsupported_alg"
    );
    assert_eq!(code(Realm::new(&p, &json!("key"), &fast)), "invalid_argument");
    let public_only =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert_eq!(code(Realm::new(&p, &public_only, &fast)), "invalid_argument");
    assert_eq!(
        code(Realm::new(&json!({"version": 2}), &key(), &fast)),
        "invalid_policy"
    );
    let bad_argon = RealmOptions {
        argon2: Argon2Options {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1,
        },
        jwks: None,
    };
    assert_eq!(code(Realm::new(&p, &key(), &bad_argon)), "invalid_argument");
    let bad_jwks = RealmOptions {
        jwks: Some(json!({"keys": "no"})),
        ..RealmOptions::fast_for_tests()
    };
    assert_eq!(code(Realm::new(&p, &key(), &bad_jwks)), "invalid_argument");
    assert_eq!(
        code(RealmOptions::from_json(&json!({"argon2": {"memory": 8}}))),
        "invalid_argument"
    );
    assert_eq!(
        RealmOptions::from_json(&json!({})).unwrap(),
        RealmOptions::default(),
        "every option has a default"
    );
}

#[test]
fn eddsa_session_keys_work() {
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"});
    let r = Realm::new(&policy(), &ed, &RealmOptions::fast_for_tests()).unwrap();
    r.create_user(None, "ann", Some("pw"), &no_id(), Some(0)).unwrap();
    let s = r.login("ann", "pw", Some(0)).unwrap();
    assert!(s.token.starts_with("eyJhbGciOiJFZERTQSIs"), "{}", s.token);
    assert!(r.authenticate(&s.token, Some(1)).is_ok());
    assert!(r.renew(&s.token, Some(2)).is_ok());
}

#[test]
fn a_policy_without_user_or_token_subjects_forbids_management() {
    let p = json!({"version": 1, "subjects": ["device"], "roles": {"user": {}, "admin": {"permissions": ["admin"]}}});
    let r = realm_with(&p, &RealmOptions::fast_for_tests());
    let first = r
        .create_user(None, "root", Some("pw"), &no_id(), Some(0))
        .unwrap();
    let root = login_as(&r, "root", "pw", 1);
    assert_eq!(
        code(r.create_user(Some(&root), "ann", None, &no_id(), Some(1))),
        "forbidden"
    );
    assert_eq!(code(r.set_roles(Some(&root), &first.id, &[])), "forbidden");
    assert_eq!(
        code(r.create_api_token(Some(&root), &first.id, None, &ApiTokenOptions::default(), Some(1))),
        "forbidden"
    );
    assert!(r.list_users(Some(&root)).unwrap().is_empty());
}

#[test]
fn an_actor_with_a_malformed_label_is_an_error_not_a_grant() {
    let (r, _root) = populated();
    let bad = Principal {
        id: Some("x".into()),
        permissions: strings(&["fly_user"]),
        ..Default::default()
    };
    assert_eq!(
        code(r.create_user(Some(&bad), "eve", None, &no_id(), Some(1))),
        "unknown_action"
    );
    assert_eq!(code(r.list_users(Some(&bad))), "unknown_action");
}

#[test]
fn replacing_the_policy_changes_the_rules_at_once() {
    let (r, _root) = populated();
    let ann = login_as(&r, "ann", "ann-pw", 3);
    assert_eq!(r.list_users(Some(&ann)).unwrap().len(), 1);
    let mut p = policy();
    p["roles"]["user"]["permissions"]
        .as_array_mut()
        .unwrap()
        .push(json!("read_user"));
    r.engine().load(&p).unwrap();
    assert_eq!(r.list_users(Some(&ann)).unwrap().len(), 2);
}

#[test]
fn the_realm_is_shared_across_threads() {
    let (r, root) = populated();
    let r = Arc::new(r);
    let t = r
        .create_api_token(Some(&root), "u-ann", None, &ApiTokenOptions::default(), Some(0))
        .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let r = Arc::clone(&r);
            let secret = t.secret.clone();
            std::thread::spawn(move || {
                for j in 0..10 {
                    let now = i * 100 + j;
                    let s = r.login("ann", "ann-pw", Some(now)).unwrap();
                    assert!(r.authenticate(&s.token, Some(now)).is_ok());
                    let api = r.open_session(&secret, Some(now)).unwrap();
                    r.close(&api.token, Some(now)).unwrap();
                    assert!(r.authenticate(&secret, Some(now)).is_ok());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        r.snapshot()["sessions"].as_array().unwrap().len(),
        41,
        "root's and 40 logins"
    );
}

/// Seeded garbage into every call that takes text or JSON: answers are
/// errors with codes (or successes), never panics.
#[test]
fn garbage_never_panics() {
    let (r, root) = populated();
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces = [
        "",
        " ",
        "\0",
        "tsr_",
        "_",
        ".",
        "Bearer ",
        "eyJ",
        "ann",
        "u-ann",
        "é",
        "🦀",
        "${x}",
        "\n",
        "a".repeat(300).leak(),
        "AAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=8,t=1,p=1$",
        "{}",
        "admin",
        "!",
        ":",
        "null",
    ];
    let mut text = || {
        let n = next() % 6;
        (0..n)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect::<String>()
    };
    for _ in 0..400 {
        let (a, b, c) = (text(), text(), text());
        let _ = r.authenticate(&a, Some(1));
        let _ = r.login(&a, &b, Some(1));
        let _ = r.open_session(&a, Some(1));
        let _ = r.renew(&a, Some(1));
        let _ = r.close(&a, Some(1));
        let _ = r.get_user(Some(&root), &a);
        let _ = r.set_roles(Some(&root), &a, &[b.clone(), c.clone()]);
        let _ = r.suspend_api_token(Some(&root), &a);
        let _ = r.replace_api_token(Some(&root), &a, Some(1));
        let _ = r.create_api_token(
            Some(&root),
            &a,
            Some(std::slice::from_ref(&b)),
            &ApiTokenOptions::default(),
            Some(1),
        );
        let _ = r.create_user(
            Some(&root),
            &a,
            Some(&b),
            &UserOptions { id: Some(c.clone()) },
            Some(1),
        );
        let _ = r.set_password(Some(&root), &c, Some(&a));
        let odd = Principal {
            id: Some(a.clone()),
            roles: vec![b.clone()],
            permissions: vec![c.clone()],
            ..Default::default()
        };
        let _ = r.list_users(Some(&odd));
        let _ = r.list_api_tokens(Some(&odd), Some(&b));
        let _ = r.delete_user(Some(&odd), &c);
        for doc in [
            json!(a),
            json!({"version": 1, "users": a}),
            json!({"argon2": {"memory_kib": b}}),
        ] {
            let _ = Realm::restore(&policy(), &doc, &key(), &RealmOptions::fast_for_tests());
            let _ = RealmOptions::from_json(&doc);
            let _ = UserOptions::from_json(&doc);
        }
    }
    // Still a working realm.
    assert!(r.login("root", "root-pw", Some(2)).is_ok());
    let snap = r.snapshot();
    assert_eq!(
        Realm::restore(&policy(), &snap, &key(), &RealmOptions::fast_for_tests())
            .unwrap()
            .snapshot(),
        snap
    );
}

//! The fuzz targets of tessera, as plain functions of the input bytes.
//!
//! Each `fuzz_targets/<name>.rs` calls one of these; `core/tests/fuzz_regressions.rs`
//! includes this file too and runs every saved input of `fuzz/regressions/<name>/`
//! on stable, so an input that once crashed or hung stays a test.
//!
//! Inputs with several parts separate them with a NUL byte (no part is JSON
//! or a label that could hold one). Fixtures (policies, keys, `now`) come from
//! the conformance vectors, so the seed corpus (`seed_corpus.py`) starts from
//! inputs that pass every check and the fuzzer mutates from there.
//!
//! Besides "no panic", every target checks what must hold whatever the input:
//! an error has a stable non-empty code and a message, an `invalid_argument`
//! names no Rust type, a label that parses formats back to itself, and the
//! fast paths agree with `authorize`.

use serde_json::{json, Value};
use std::sync::OnceLock;
use tessera::{Engine, Error, Principal, Resource};

fn vector(name: &str) -> &'static Value {
    static FILES: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        [
            ("systems", include_str!("../../conformance/vectors/systems.json")),
            (
                "jwt_cognito",
                include_str!("../../conformance/vectors/jwt_cognito.json"),
            ),
            (
                "jwt_hmac",
                include_str!("../../conformance/vectors/jwt_hmac.json"),
            ),
            (
                "session_hs256",
                include_str!("../../conformance/vectors/session_hs256.json"),
            ),
            (
                "session_eddsa",
                include_str!("../../conformance/vectors/session_eddsa.json"),
            ),
            (
                "api_token_verify",
                include_str!("../../conformance/vectors/api_token_verify.json"),
            ),
            (
                "realm_snapshot",
                include_str!("../../conformance/vectors/realm_snapshot.json"),
            ),
        ]
        .into_iter()
        .map(|(n, text)| (n, serde_json::from_str(text).expect("conformance vector is JSON")))
        .collect()
    });
    &files
        .iter()
        .find(|(n, _)| *n == name)
        .expect("known vector file")
        .1
}

/// The first case of `file` with `op` (and a `key` member, for token files).
fn case(file: &str, op: &str) -> &'static Value {
    vector(file)["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["op"] == op))
        .expect("a case of that op")
}

fn engine(file: &str) -> &'static Engine {
    static ENGINES: OnceLock<Vec<(&'static str, Engine)>> = OnceLock::new();
    let engines = ENGINES.get_or_init(|| {
        [
            "systems",
            "jwt_cognito",
            "jwt_hmac",
            "session_hs256",
            "session_eddsa",
            "api_token_verify",
        ]
        .into_iter()
        .map(|n| (n, Engine::new(&vector(n)["policy"]).expect("vector policy loads")))
        .collect()
    });
    &engines.iter().find(|(n, _)| *n == file).expect("known engine").1
}

fn parts(data: &[u8]) -> Vec<&str> {
    data.split(|b| *b == 0)
        .map(|p| std::str::from_utf8(p).unwrap_or("\u{fffd}"))
        .collect()
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// What every error must look like, whatever the input.
fn check_error(e: &Error) {
    assert!(!e.code.is_empty(), "error without a code: {e:?}");
    assert!(!e.message.is_empty(), "error without a message: {e:?}");
    assert!(
        e.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "code is not snake_case: {e:?}"
    );
    if e.code == "invalid_argument" {
        // Input text reaches a message only as the path in front and inside
        // back quotes (`unknown key `...``); what follows the last back quote,
        // or the path when there is none, is the library's own wording.
        let mut ours = e.message.as_str();
        if let Some(path) = e.path.as_deref() {
            ours = ours.strip_prefix(path).unwrap_or(ours);
        }
        if let Some(at) = ours.rfind('`') {
            ours = &ours[at + 1..];
        }
        for rust in [
            "invalid type: ",
            "struct ",
            "enum ",
            "::",
            "Vec<",
            "Option<",
            "a sequence",
            " i64",
            " u64",
        ] {
            assert!(!ours.contains(rust), "Rust type name in a message: {e:?}");
        }
    }
    for p in &e.problems {
        assert!(
            !p.code.is_empty() && !p.message.is_empty(),
            "empty problem: {e:?}"
        );
    }
}

fn checked<T>(r: tessera::Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            check_error(&e);
            None
        }
    }
}

/// A few principals and resources to decide with, on any policy.
fn probes(engine: &Engine) {
    let policy = engine.policy();
    let roles: Vec<String> = policy
        .role_names()
        .iter()
        .take(4)
        .map(|s| s.to_string())
        .collect();
    let vocab = policy.vocabulary();
    let principals = [
        Principal {
            id: Some("u1".into()),
            roles: roles.clone(),
            ..Default::default()
        },
        Principal {
            id: Some("u-7".into()),
            groups: vec!["administrators".into(), "staff".into()],
            ..Default::default()
        },
        Principal::default(),
    ];
    let kinds: Vec<&str> = vocab.subjects().iter().take(3).map(String::as_str).collect();
    let actions: Vec<&str> = vocab.actions().iter().take(3).map(String::as_str).collect();
    for p in &principals {
        let Some(prepared) = checked(engine.prepare(p)) else {
            continue;
        };
        for kind in &kinds {
            let resources = [
                Resource::new(*kind),
                Resource::new(*kind).with_id("d1").with_owner("u1"),
                Resource::new(*kind).with_id("dev-42").with_owner("bob"),
            ];
            for action in &actions {
                let answers = engine.answers(&prepared, action, kind);
                for r in &resources {
                    let d = checked(engine.authorize(p, action, r)).expect("a prepared principal authorizes");
                    let fast =
                        engine.is_allowed(&prepared, action, kind, r.id.as_deref(), r.owner.as_deref());
                    assert_eq!(d.allowed, fast, "is_allowed disagrees with authorize");
                    assert_eq!(
                        answers.pick(r.id.as_deref(), r.owner.as_deref(), p.id.as_deref()),
                        fast,
                        "answers disagree with is_allowed"
                    );
                }
            }
            let _ = checked(engine.capabilities(p, &resources[1]));
            let _ = checked(engine.explain(p, actions.first().copied().unwrap_or("read"), &resources[1]));
        }
    }
}

/// `parse_label` with the default vocabulary and a policy's; a label that
/// parses formats back to text that parses to the same label.
pub fn label(data: &[u8]) {
    let Some(text) = text(data) else { return };
    for vocab in [None, Some(engine("systems").policy())] {
        let v = vocab.as_ref().map(|p| p.vocabulary());
        if let Some(label) = checked(tessera::parse_label(text, v)) {
            let formatted = label.format();
            let again = tessera::parse_label(&formatted, v).expect("a formatted label parses");
            assert_eq!(again, label, "format does not round-trip");
        }
    }
}

/// A policy as JSON text: loads or fails with problems; if it loads, decisions run.
pub fn policy_text(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Some(engine) = checked(Engine::from_json(text)) {
        probes(&engine);
    }
}

/// Where `policy_value` splices the fuzzed value into the systems policy.
const SPLICE: &[&[&str]] = &[
    &[],
    &["roles"],
    &["roles", "user"],
    &["roles", "user", "permissions"],
    &["roles", "admin", "inherits"],
    &["groups"],
    &["grants"],
    &["operations"],
    &["operations", "Cluster.UpdateSettings"],
    &["actions"],
    &["subjects"],
    &["tokens"],
    &["tokens", "jwt"],
    &["tokens", "session"],
    &["realm"],
];

/// A JSON value (first byte: where) spliced into a policy that loads, so the
/// fuzzer works on one part with valid surroundings; then as `policy_text`.
pub fn policy_value(data: &[u8]) {
    let Some((&at, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let mut doc = vector("systems")["policy"].clone();
    let path = SPLICE[usize::from(at) % SPLICE.len()];
    let mut slot = &mut doc;
    for key in path {
        if !slot.is_object() {
            *slot = json!({});
        }
        slot = slot
            .as_object_mut()
            .expect("object")
            .entry(*key)
            .or_insert(Value::Null);
    }
    *slot = value;
    if let Some(engine) = checked(Engine::new(&doc)) {
        probes(&engine);
        let _ = checked(engine.load(&doc));
    }
}

/// `parse_authorization`: the token, when accepted, holds no white space.
pub fn authorization(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Some(token) = checked(tessera::token::parse_authorization(text)) {
        assert!(
            !token.is_empty() && !token.chars().any(char::is_whitespace),
            "bad token {token:?}"
        );
    }
}

fn verify_with(file: &str, token: &str, jwks: &Value) {
    let now = case(file, "verify_jwt")["now"].as_i64();
    if let Some(p) = checked(engine(file).verify_jwt(token, jwks, now)) {
        assert_eq!(p.credential, Some(tessera::Credential::Jwt));
    }
}

/// A raw token against the Cognito (RS256) and HS256 fixtures.
pub fn jwt_raw(data: &[u8]) {
    let Some(token) = text(data) else { return };
    for file in ["jwt_cognito", "jwt_hmac"] {
        verify_with(file, token, &case(file, "verify_jwt")["keys"]);
    }
}

/// Header and payload JSON (NUL between), signed with the fixture's HS256
/// key: the fuzzer reaches the claim checks past the signature.
pub fn jwt_signed(data: &[u8]) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let p = parts(data);
    let (header, payload) = match p.as_slice() {
        [h, c, ..] => (*h, *c),
        _ => return,
    };
    let keys = &case("jwt_hmac", "verify_jwt")["keys"];
    let Some(secret) = keys["keys"][0]["k"]
        .as_str()
        .and_then(|k| URL_SAFE_NO_PAD.decode(k).ok())
    else {
        return;
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).expect("any key length");
    mac.update(input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    verify_with("jwt_hmac", &token, keys);
}

/// A JWKS (JSON text) against the fixtures' valid tokens.
pub fn jwks(data: &[u8]) {
    let Ok(jwks) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for file in ["jwt_cognito", "jwt_hmac"] {
        let token = case(file, "verify_jwt")["token"].as_str().unwrap_or("");
        verify_with(file, token, &jwks);
    }
}

/// A session token (and optionally a key, JSON after a NUL) through verify
/// and renew, HS256 and EdDSA fixtures.
pub fn session(data: &[u8]) {
    let p = parts(data);
    let Some(token) = p.first().copied() else { return };
    let own_key = p.get(1).and_then(|k| serde_json::from_str::<Value>(k).ok());
    for file in ["session_hs256", "session_eddsa"] {
        let c = case(file, "issue_session");
        let key = own_key.as_ref().unwrap_or(&c["key"]);
        let now = c["now"].as_i64();
        let engine = engine(file);
        let revocations = tessera::token::Revocations::default();
        if let Some(principal) = checked(engine.verify_session(token, key, now, Some(&revocations))) {
            assert_eq!(principal.credential, Some(tessera::Credential::Session));
        }
        let _ = checked(engine.renew_session(token, key, now, None));
        // A realm's key remembers the tokens it verified: asked twice (the
        // second time from its memory), it answers the same.
        let realm = realm(file);
        let first = realm.authenticate(token, now);
        let second = realm.authenticate(token, now);
        match (&first, &second) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "a remembered session answered differently"),
            (Err(a), Err(b)) => {
                check_error(a);
                assert_eq!(
                    (&a.code, &a.message),
                    (&b.code, &b.message),
                    "a remembered session failed differently"
                );
            }
            _ => panic!("a remembered session answered differently: {first:?} then {second:?}"),
        }
    }
}

/// One realm per session vector, with the vector's key (kept across inputs,
/// so its memory of verified tokens is too).
fn realm(file: &str) -> &'static tessera::Realm {
    static REALMS: OnceLock<Vec<(&'static str, tessera::Realm)>> = OnceLock::new();
    let realms = REALMS.get_or_init(|| {
        ["session_hs256", "session_eddsa"]
            .into_iter()
            .map(|n| {
                let key = &case(n, "issue_session")["key"];
                let options = tessera::RealmOptions::fast_for_tests();
                (
                    n,
                    tessera::Realm::new(&vector(n)["policy"], key, &options).expect("vector realm"),
                )
            })
            .collect()
    });
    &realms.iter().find(|(n, _)| *n == file).expect("known realm").1
}

/// An API token secret and the records (JSON after a NUL) it is looked up in.
pub fn api_token(data: &[u8]) {
    let p = parts(data);
    let Some(secret) = p.first().copied() else { return };
    let c = case("api_token_verify", "verify_api_token");
    let records_json = match p.get(1) {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(_) => return,
        },
        None => c["records"].clone(),
    };
    let Some(items) = records_json.as_array() else {
        return;
    };
    let mut records = Vec::with_capacity(items.len());
    for item in items {
        match checked(tessera::token::ApiTokenRecord::from_json(item)) {
            Some(r) => records.push(r),
            None => return,
        }
    }
    let engine = engine("api_token_verify");
    if let Some(principal) = checked(engine.verify_api_token(secret, &records, c["now"].as_i64())) {
        assert_eq!(principal.credential, Some(tessera::Credential::ApiToken));
    }
}

/// A realm snapshot (JSON text): restored or refused; a restored realm
/// snapshots to a value that restores to the same snapshot.
pub fn realm_restore(data: &[u8]) {
    let Ok(snapshot) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let file = vector("realm_snapshot");
    let c = &file["cases"][0];
    let options = tessera::RealmOptions::fast_for_tests();
    if let Some(realm) = checked(tessera::Realm::restore(
        &file["policy"],
        &snapshot,
        &c["key"],
        &options,
    )) {
        let again = realm.snapshot();
        let twice = tessera::Realm::restore(&file["policy"], &again, &c["key"], &options)
            .expect("a snapshot restores");
        assert_eq!(twice.snapshot(), again, "snapshot does not round-trip");
    }
}

/// Principal, action, resource, operation (NUL between) on the systems
/// policy: typed errors for bad shapes, and every path agrees.
pub fn request(data: &[u8]) {
    let p = parts(data);
    let engine = engine("systems");
    let principal = p.first().and_then(|t| serde_json::from_str::<Value>(t).ok());
    let action = p.get(1).copied().unwrap_or("read");
    let resource = p.get(2).and_then(|t| serde_json::from_str::<Value>(t).ok());
    let operation = p.get(3).copied();
    let principal = match principal.as_ref().map(Principal::from_json) {
        Some(Ok(pr)) => Some(pr),
        Some(Err(e)) => {
            check_error(&e);
            None
        }
        None => None,
    };
    let resource = match resource.as_ref().map(Resource::from_json) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            check_error(&e);
            None
        }
        None => None,
    };
    if let (Some(pr), Some(r)) = (&principal, &resource) {
        if let Some(d) = checked(engine.authorize(pr, action, r)) {
            let prepared = engine.prepare(pr).expect("authorize resolved it");
            assert_eq!(engine.authorize_prepared(&prepared, action, r), d);
            if r.owners.is_empty() {
                let fast = engine.is_allowed(&prepared, action, &r.kind, r.id.as_deref(), r.owner.as_deref());
                assert_eq!(fast, d.allowed, "is_allowed disagrees with authorize");
                let answers = engine.answers(&prepared, action, &r.kind);
                assert_eq!(
                    answers.pick(r.id.as_deref(), r.owner.as_deref(), pr.id.as_deref()),
                    fast
                );
            }
            let x = engine.explain(pr, action, r).expect("explain as authorize");
            assert_eq!(x.decision, d);
            let caps = engine.capabilities(pr, r).expect("capabilities as authorize");
            assert_eq!(
                caps.iter().any(|a| a == action),
                d.allowed,
                "capabilities disagree"
            );
        }
    }
    if let Some(op) = operation {
        let ctx = tessera::OperationContext::default();
        let _ = checked(engine.authorize_operation(principal.as_ref(), op, &ctx));
    }
}

/// A target: the input bytes in, a panic if something is wrong.
pub type Target = fn(&[u8]);

/// Every target, by name (for the regression runner).
pub const TARGETS: &[(&str, Target)] = &[
    ("fuzz_label", label),
    ("fuzz_policy_text", policy_text),
    ("fuzz_policy_value", policy_value),
    ("fuzz_authorization", authorization),
    ("fuzz_jwt_raw", jwt_raw),
    ("fuzz_jwt_signed", jwt_signed),
    ("fuzz_jwks", jwks),
    ("fuzz_session", session),
    ("fuzz_api_token", api_token),
    ("fuzz_realm_restore", realm_restore),
    ("fuzz_request", request),
];

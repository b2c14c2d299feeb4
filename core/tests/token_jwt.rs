//! Provider JWTs (SPEC §6.1): one test per error code, the exp/nbf/iat
//! boundaries to the second, Cognito access and ID token shapes, the
//! signature cache, and the `tokens.jwt` policy checks.
//!
//! Tokens are minted here with HS256 (the `hmac` crate) so any header and
//! claim can be written; RSA, EC and Ed25519 tokens minted by PyJWT and
//! `cryptography` are in `conformance/vectors/jwt_*.json` (run by the conformance crate).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tessera::{Credential, Engine};

const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";
const CLIENT: &str = "client-abc";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A compact JWS over exact header and payload text.
fn raw(header: &str, payload: &str, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = mac(key, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

fn mint(header: Value, claims: Value) -> String {
    raw(&header.to_string(), &claims.to_string(), SECRET)
}

fn hs(claims: Value) -> String {
    mint(json!({"alg": "HS256", "kid": "k1"}), claims)
}

fn jwks() -> Value {
    json!({"keys": [{"kty": "oct", "kid": "k1", "k": b64(SECRET)}]})
}

fn policy(jwt: Value) -> Value {
    json!({"version": 1,
           "roles": {"user": {"permissions": ["read_own_device"]},
                     "admin": {"inherits": ["user"], "permissions": ["admin_device"]}},
           "groups": {"admins": ["admin"], "staff": ["user"], "both": ["admin", "user"]},
           "tokens": {"jwt": jwt}})
}

fn engine() -> Engine {
    Engine::new(&policy(json!({
        "issuers": [ISS], "client_ids": [CLIENT], "audiences": [CLIENT],
        "token_use": ["access", "id"], "algorithms": ["HS256"]})))
    .expect("policy")
}

fn access(over: Value) -> Value {
    let mut c = json!({
        "sub": "u-1", "cognito:groups": ["admins", "staff"], "iss": ISS, "version": 2,
        "client_id": CLIENT, "origin_jti": "o-1", "event_id": "e-1", "token_use": "access",
        "scope": "aws.cognito.signin.user.admin openid", "auth_time": NOW - 100,
        "exp": NOW + 3600, "iat": NOW - 100, "jti": "j-1", "username": "alice"});
    merge(&mut c, over);
    c
}

fn id_token(over: Value) -> Value {
    let mut c = json!({
        "sub": "u-1", "cognito:groups": ["staff"], "email_verified": true, "iss": ISS,
        "cognito:username": "alice", "aud": CLIENT, "token_use": "id", "auth_time": NOW - 100,
        "exp": NOW + 3600, "iat": NOW - 100, "email": "a@example.com"});
    merge(&mut c, over);
    c
}

/// Sets (or, with `null`, removes) claims.
fn merge(c: &mut Value, over: Value) {
    if let (Some(map), Value::Object(over)) = (c.as_object_mut(), over) {
        for (k, v) in over {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
}

fn code(engine: &Engine, token: &str, now: i64) -> String {
    match engine.verify_jwt(token, &jwks(), Some(now)) {
        Ok(p) => format!("ok:{}", p.id.unwrap_or_default()),
        Err(e) => e.code,
    }
}

#[test]
fn engine_with_token_caches_is_shareable() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Engine>();
}

#[test]
fn cognito_access_token_maps_to_a_principal() {
    let claims = access(json!({}));
    let p = engine()
        .verify_jwt(&hs(claims.clone()), &jwks(), Some(NOW))
        .expect("valid");
    assert_eq!(p.id.as_deref(), Some("u-1"));
    assert_eq!(p.groups, ["admins", "staff"]);
    assert_eq!(
        p.roles,
        ["admin", "user"],
        "groups mapped through policy.groups, in order, deduplicated"
    );
    assert_eq!(p.scopes, ["aws.cognito.signin.user.admin", "openid"]);
    assert_eq!(p.credential, Some(Credential::Jwt));
    assert_eq!(p.expires_at, Some(NOW + 3600));
    assert_eq!(p.claims, Some(claims));
    assert!(p.permissions.is_empty() && p.limits.is_none() && p.session_id.is_none());
}

#[test]
fn cognito_id_token_is_checked_by_aud() {
    let e = engine();
    assert_eq!(code(&e, &hs(id_token(json!({}))), NOW), "ok:u-1");
    assert_eq!(
        code(&e, &hs(id_token(json!({"aud": "other"}))), NOW),
        "wrong_audience"
    );
    assert_eq!(
        code(&e, &hs(id_token(json!({"aud": ["x", CLIENT]}))), NOW),
        "ok:u-1"
    );
    // An ID token names its client in `aud`; `client_id` does not stand in for it.
    assert_eq!(
        code(&e, &hs(id_token(json!({"aud": null, "client_id": CLIENT}))), NOW),
        "missing_claim"
    );
    // An access token names it in `client_id`; `aud` does not stand in for it.
    assert_eq!(
        code(&e, &hs(access(json!({"client_id": null, "aud": CLIENT}))), NOW),
        "missing_claim"
    );
    assert_eq!(
        code(&e, &hs(access(json!({"client_id": "other"}))), NOW),
        "wrong_client"
    );
}

#[test]
fn token_use_is_enforced() {
    let only_access = Engine::new(&policy(json!({
        "issuers": [ISS], "client_ids": [CLIENT], "audiences": [CLIENT],
        "token_use": ["access"], "algorithms": ["HS256"]})))
    .unwrap();
    assert_eq!(code(&only_access, &hs(access(json!({}))), NOW), "ok:u-1");
    assert_eq!(
        code(&only_access, &hs(id_token(json!({}))), NOW),
        "wrong_token_use"
    );
    assert_eq!(
        code(&only_access, &hs(access(json!({"token_use": null}))), NOW),
        "missing_claim"
    );
    assert_eq!(
        code(&only_access, &hs(access(json!({"token_use": 1}))), NOW),
        "missing_claim"
    );
}

#[test]
fn exp_boundary_to_the_second() {
    let e = engine();
    let t = hs(access(json!({"exp": NOW + 10})));
    assert_eq!(code(&e, &t, NOW + 9), "ok:u-1");
    assert_eq!(code(&e, &t, NOW + 10), "expired");
    assert_eq!(code(&e, &t, NOW + 11), "expired");
    assert_eq!(code(&e, &hs(access(json!({"exp": null}))), NOW), "missing_claim");
}

#[test]
fn nbf_and_iat_boundaries_to_the_second() {
    let e = engine();
    let t = hs(access(json!({"nbf": NOW, "iat": NOW - 5})));
    assert_eq!(code(&e, &t, NOW - 1), "not_yet_valid");
    assert_eq!(code(&e, &t, NOW), "ok:u-1");
    let t = hs(access(json!({"iat": NOW})));
    assert_eq!(code(&e, &t, NOW - 1), "not_yet_valid");
    assert_eq!(code(&e, &t, NOW), "ok:u-1");
}

#[test]
fn leeway_moves_every_boundary() {
    let e = Engine::new(&policy(json!({
        "issuers": [ISS], "client_ids": [CLIENT], "algorithms": ["HS256"], "leeway_seconds": 5})))
    .unwrap();
    let t = hs(access(json!({"exp": NOW})));
    assert_eq!(code(&e, &t, NOW + 4), "ok:u-1");
    assert_eq!(code(&e, &t, NOW + 5), "expired");
    let t = hs(access(json!({"nbf": NOW + 5, "iat": NOW + 5})));
    assert_eq!(code(&e, &t, NOW), "ok:u-1");
    assert_eq!(code(&e, &t, NOW - 1), "not_yet_valid");
}

#[test]
fn max_age_is_too_old() {
    let e = Engine::new(&policy(json!({
        "issuers": [ISS], "client_ids": [CLIENT], "algorithms": ["HS256"], "max_age_seconds": 300})))
    .unwrap();
    assert_eq!(
        code(&e, &hs(access(json!({"auth_time": NOW - 300}))), NOW),
        "ok:u-1"
    );
    assert_eq!(
        code(&e, &hs(access(json!({"auth_time": NOW - 301}))), NOW),
        "too_old"
    );
    assert_eq!(
        code(&e, &hs(access(json!({"auth_time": null}))), NOW),
        "missing_claim"
    );
}

#[test]
fn every_header_and_key_code() {
    let e = engine();
    let claims = access(json!({}));
    let cases: Vec<(&str, String, &str)> = vec![
        ("too_large", "a".repeat(16 * 1024 + 1), "too_large"),
        ("two segments", "abc.def".into(), "malformed"),
        ("padding", format!("{}=", hs(claims.clone())), "malformed"),
        (
            "duplicate claim",
            raw(
                r#"{"alg":"HS256","kid":"k1"}"#,
                r#"{"sub":"a","sub":"b"}"#,
                SECRET,
            ),
            "malformed",
        ),
        (
            "alg none",
            mint(json!({"alg": "none", "kid": "k1"}), claims.clone()),
            "unsupported_alg",
        ),
        (
            "alg not allowed",
            mint(json!({"alg": "HS512", "kid": "k1"}), claims.clone()),
            "unsupported_alg",
        ),
        (
            "crit",
            mint(
                json!({"alg": "HS256", "kid": "k1", "crit": ["exp"]}),
                claims.clone(),
            ),
            "unsupported_crit",
        ),
        (
            "unknown kid",
            mint(json!({"alg": "HS256", "kid": "k2"}), claims.clone()),
            "unknown_key",
        ),
        (
            "session typ",
            mint(
                json!({"alg": "HS256", "kid": "k1", "typ": "tessera-session+jwt"}),
                claims.clone(),
            ),
            "wrong_token_use",
        ),
        (
            "bad signature",
            raw(
                r#"{"alg":"HS256","kid":"k1"}"#,
                &claims.to_string(),
                b"another secret of thirty-two bytes",
            ),
            "bad_signature",
        ),
        (
            "wrong issuer",
            hs(access(json!({"iss": "https://evil.example"}))),
            "wrong_issuer",
        ),
        (
            "issuer missing",
            hs(access(json!({"iss": null}))),
            "missing_claim",
        ),
        ("sub not a string", hs(access(json!({"sub": 7}))), "missing_claim"),
        (
            "groups not strings",
            hs(access(json!({"cognito:groups": [1]}))),
            "missing_claim",
        ),
    ];
    for (name, token, want) in cases {
        assert_eq!(code(&e, &token, NOW), want, "{name}");
    }
    // weak_key: an HS256 secret under 32 bytes in the JWKS.
    let short = json!({"keys": [{"kty": "oct", "kid": "k1", "k": b64(b"short")}]});
    let t = raw(r#"{"alg":"HS256","kid":"k1"}"#, &claims.to_string(), b"short");
    assert_eq!(e.verify_jwt(&t, &short, Some(NOW)).unwrap_err().code, "weak_key");
    // unknown_key: a key for encryption only.
    let enc = json!({"keys": [{"kty": "oct", "kid": "k1", "use": "enc", "k": b64(SECRET)}]});
    assert_eq!(
        e.verify_jwt(&hs(claims.clone()), &enc, Some(NOW))
            .unwrap_err()
            .code,
        "unknown_key"
    );
    // invalid_argument: not a JWKS.
    let err = e
        .verify_jwt(&hs(claims), &json!({"kty": "oct"}), Some(NOW))
        .unwrap_err();
    assert_eq!(err.code, "invalid_argument");
}

#[test]
fn checks_run_in_spec_order() {
    let e = engine();
    // Expired and from the wrong issuer: exp comes first.
    let t = hs(access(json!({"exp": NOW, "iss": "x"})));
    assert_eq!(code(&e, &t, NOW), "expired");
    // Bad signature and expired: the signature comes first.
    let t = raw(
        r#"{"alg":"HS256","kid":"k1"}"#,
        &access(json!({"exp": 1})).to_string(),
        b"x".repeat(32).as_slice(),
    );
    assert_eq!(code(&e, &t, NOW), "bad_signature");
    // Unknown kid and alg not allowed: alg comes first.
    let t = mint(json!({"alg": "RS256", "kid": "nope"}), access(json!({})));
    assert_eq!(code(&e, &t, NOW), "unsupported_alg");
}

#[test]
fn verified_signatures_are_cached_but_time_is_always_checked() {
    let e = engine();
    let t = hs(access(json!({"exp": NOW + 10})));
    assert_eq!(e.token_cache_len(), 0);
    assert_eq!(code(&e, &t, NOW), "ok:u-1");
    assert_eq!(e.token_cache_len(), 1);
    assert_eq!(code(&e, &t, NOW + 1), "ok:u-1");
    assert_eq!(
        e.token_cache_len(),
        1,
        "second verification served from the cache"
    );
    assert_eq!(code(&e, &t, NOW + 10), "expired", "a cached token still expires");
    // A different key for the same kid must not reuse the cached verdict.
    let other =
        json!({"keys": [{"kty": "oct", "kid": "k1", "k": b64(b"another secret of thirty-two bytes")}]});
    assert_eq!(
        e.verify_jwt(&t, &other, Some(NOW)).unwrap_err().code,
        "bad_signature"
    );
    // A policy change (issuer no longer trusted) applies to cached tokens.
    e.load(&policy(
        json!({"issuers": ["https://else"], "client_ids": [CLIENT], "algorithms": ["HS256"]}),
    ))
    .unwrap();
    assert_eq!(code(&e, &t, NOW), "wrong_issuer");
    e.clear_token_cache();
    assert_eq!(e.token_cache_len(), 0);
}

#[test]
fn without_kid_only_a_single_usable_key() {
    let e = engine();
    let t = mint(json!({"alg": "HS256"}), access(json!({})));
    let one = json!({"keys": [{"kty": "oct", "k": b64(SECRET)}]});
    assert!(e.verify_jwt(&t, &one, Some(NOW)).is_ok());
    // An encryption key does not count as usable.
    let plus_enc =
        json!({"keys": [{"kty": "oct", "k": b64(SECRET)}, {"kty": "oct", "use": "enc", "k": b64(b"x")}]});
    assert!(e.verify_jwt(&t, &plus_enc, Some(NOW)).is_ok());
    let two = json!({"keys": [{"kty": "oct", "kid": "a", "k": b64(SECRET)}, {"kty": "oct", "kid": "b", "k": b64(SECRET)}]});
    assert_eq!(e.verify_jwt(&t, &two, Some(NOW)).unwrap_err().code, "unknown_key");
}

#[test]
fn no_panic_on_hostile_input() {
    let e = engine();
    let inputs = [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "\u{0}.\u{0}.\u{0}",
        "eyJ.eyJ.eyJ",
        "eyJhbGciOiJIUzI1NiJ9..",
        "e30.e30.e30",
        "W10.W10.AA",
        "bnVsbA.bnVsbA.AA",
        "🦀.🦀.🦀",
    ];
    for input in inputs {
        let err = e.verify_jwt(input, &jwks(), Some(NOW)).unwrap_err();
        assert!(
            ["malformed", "unsupported_alg", "unknown_key"].contains(&err.code.as_str()),
            "{input}: {err}"
        );
    }
    // Deeply nested JSON stops at serde_json's depth limit, as an error.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let t = raw(
        r#"{"alg":"HS256","kid":"k1"}"#,
        &format!(r#"{{"a":{deep}}}"#),
        SECRET,
    );
    assert_eq!(code(&e, &t, NOW), "malformed");
    // Odd JWKs: missing or mistyped members are unusable keys, not panics.
    let t = hs(access(json!({})));
    for key in [
        json!({"kty": "oct", "kid": "k1"}),
        json!({"kty": "oct", "kid": "k1", "k": 5}),
        json!({"kty": "oct", "kid": "k1", "k": "!!"}),
        json!({"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}),
        json!({"kid": "k1"}),
    ] {
        let r = e.verify_jwt(&t, &json!({"keys": [key.clone()]}), Some(NOW));
        assert!(r.is_err(), "{key}");
    }
}

#[test]
fn policy_checks_the_tokens_section() {
    let err = Engine::new(&policy(json!({
        "issuers": "x", "algorithms": ["none", "RS256"], "leeway_seconds": -1,
        "token_use": ["refresh"], "claims": {"id": 5}, "bogus": true})))
    .err()
    .expect("refused");
    let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    for want in [
        "tokens.jwt.issuers",
        "tokens.jwt.algorithms[0]",
        "tokens.jwt.leeway_seconds",
        "tokens.jwt.token_use[0]",
        "tokens.jwt.claims.id",
        "tokens.jwt.bogus",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    let err = Engine::new(&json!({"version": 1, "roles": {},
        "tokens": {"session": {"ttl_seconds": 0, "max_lifetime_seconds": "long"}, "x": 1}}))
    .err()
    .expect("refused");
    let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"tokens.session.ttl_seconds"), "{paths:?}");
    assert!(
        paths.contains(&"tokens.session.max_lifetime_seconds"),
        "{paths:?}"
    );
    assert!(paths.contains(&"tokens.x"), "{paths:?}");
}

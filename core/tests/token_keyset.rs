//! Key sets (SPEC §6.1.2): the core's cache rules with the host's fetches
//! played by the test (`apply` / `failed` with an injected `now`), so every
//! rule is checked without a network or a clock.
//!
//! Tokens are minted with HS256 (the `hmac` crate); the signing layer is the
//! same for every algorithm.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tessera::token::{KeySet, KeySetOptions};
use tessera::Engine;

const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool";
const NOW: i64 = 1_700_000_000;
const K1: &[u8] = b"0123456789abcdef0123456789abcdef";
const K2: &[u8] = b"fedcba9876543210fedcba9876543210";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token(kid: &str, key: &[u8], claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": kid}).to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(input.as_bytes());
    format!("{input}.{}", b64(&m.finalize().into_bytes()))
}

fn claims(iss: &str) -> Value {
    json!({"iss": iss, "sub": "u1", "token_use": "access", "client_id": "c", "iat": NOW, "exp": NOW + 3600})
}

fn jwks(keys: &[(&str, &[u8])]) -> Vec<u8> {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, k)| json!({"kty": "oct", "kid": kid, "k": b64(k)}))
        .collect();
    json!({ "keys": keys }).to_string().into_bytes()
}

fn engine() -> Engine {
    Engine::new(&json!({"version": 1, "roles": {},
        "tokens": {"jwt": {"issuers": [ISS, "https://other.example"], "algorithms": ["HS256"], "client_ids": ["c"]}}}))
    .unwrap()
}

fn code<T: std::fmt::Debug>(r: tessera::Result<T>) -> String {
    r.unwrap_err().code
}

fn remote() -> KeySet {
    KeySet::cognito("eu-west-1", "eu-west-1_Pool", KeySetOptions::default()).unwrap()
}

#[test]
fn a_given_set_verifies_and_remembers_tokens() {
    let set = KeySet::from_slice(&jwks(&[("k1", K1)])).unwrap();
    let e = engine();
    let t = token("k1", K1, &claims(ISS));
    let first = e.verify_jwt_with(&t, &set, Some(NOW)).unwrap();
    let again = e.verify_jwt_with(&t, &set, Some(NOW)).unwrap();
    assert_eq!(first, again);
    assert_eq!(
        first,
        e.verify_jwt(
            &t,
            &serde_json::from_slice(&jwks(&[("k1", K1)])).unwrap(),
            Some(NOW)
        )
        .unwrap()
    );
    // Remembered signatures never skip time checks.
    assert_eq!(code(e.verify_jwt_with(&t, &set, Some(NOW + 3600))), "expired");
    assert!(!set.needs_fetch(NOW));
    assert!(!set.refetch_for(&token("k9", K1, &claims(ISS)), NOW));
    // A tampered token is not mistaken for a remembered one.
    let mut bad = t.clone();
    bad.pop();
    bad.push(if t.ends_with('A') { 'B' } else { 'A' });
    assert!(e.verify_jwt_with(&bad, &set, Some(NOW)).is_err());
    // Same length and same signature, another payload: the memory is keyed
    // by the signature's tail but answers only for the exact token.
    let mut c = claims(ISS);
    c["sub"] = json!("u2");
    let other = token("k1", K1, &c);
    let forged = format!(
        "{}.{}",
        other.rsplit_once('.').unwrap().0,
        t.rsplit_once('.').unwrap().1
    );
    assert_eq!(forged.len(), t.len());
    assert_eq!(code(e.verify_jwt_with(&forged, &set, Some(NOW))), "bad_signature");
}

#[test]
fn remote_set_fetch_decisions() {
    let set = remote();
    assert_eq!(set.issuer(), Some(ISS));
    let e = engine();
    let t = token("k1", K1, &claims(ISS));
    assert!(set.needs_fetch(NOW));
    assert_eq!(code(e.verify_jwt_with(&t, &set, Some(NOW))), "jwks_unavailable");
    set.apply(&jwks(&[("k1", K1)]), Some("public, max-age=120"), NOW)
        .unwrap();
    assert_eq!(set.attempts(), 1);
    assert!(!set.needs_fetch(NOW + 119));
    assert!(e.verify_jwt_with(&t, &set, Some(NOW + 119)).is_ok());
    // Past max-age the set is stale: fetch, and not used meanwhile.
    assert!(set.needs_fetch(NOW + 120));
    assert_eq!(
        code(e.verify_jwt_with(&t, &set, Some(NOW + 120))),
        "jwks_unavailable"
    );
}

#[test]
fn rotation_refetches_once_per_cooldown() {
    let set = remote();
    let e = engine();
    set.apply(&jwks(&[("k1", K1)]), None, NOW).unwrap();
    let rotated = token("k2", K2, &claims(ISS));
    assert_eq!(
        code(e.verify_jwt_with(&rotated, &set, Some(NOW + 5))),
        "unknown_key"
    );
    // Within the cooldown (30 s) of the last fetch: no refetch.
    assert!(!set.refetch_for(&rotated, NOW + 29));
    assert!(set.refetch_for(&rotated, NOW + 30));
    set.apply(&jwks(&[("k1", K1), ("k2", K2)]), None, NOW + 30)
        .unwrap();
    assert!(e.verify_jwt_with(&rotated, &set, Some(NOW + 31)).is_ok());
    // A kid still unknown after that fetch waits for the next cooldown.
    let unknown = token("k3", K2, &claims(ISS));
    assert!(!set.refetch_for(&unknown, NOW + 31));
    assert_eq!(
        code(e.verify_jwt_with(&unknown, &set, Some(NOW + 31))),
        "unknown_key"
    );
    // A known kid never asks for a fetch.
    assert!(!set.refetch_for(&rotated, NOW + 1000));
}

#[test]
fn failures_keep_the_last_good_set() {
    let set = KeySet::remote(
        "http://127.0.0.1:9/jwks.json",
        KeySetOptions {
            max_bytes: 1000,
            ..KeySetOptions::default()
        },
    )
    .unwrap();
    let e = Engine::new(&json!({"version": 1, "roles": {},
        "tokens": {"jwt": {"issuers": [ISS], "algorithms": ["HS256"], "client_ids": ["c"]}}}))
    .unwrap();
    let t = token("k1", K1, &claims(ISS));
    assert_eq!(code(set.apply(b"not json", None, NOW)), "jwks_unavailable");
    assert_eq!(code(e.verify_jwt_with(&t, &set, Some(NOW))), "jwks_unavailable");
    // The failure started a cooldown.
    assert!(!set.needs_fetch(NOW + 29));
    assert!(set.needs_fetch(NOW + 30));
    set.apply(&jwks(&[("k1", K1)]), None, NOW + 30).unwrap();
    for (body, why) in [
        (b"{\"keys\": 5}".to_vec(), "not a JWKS"),
        (b"{\"keys\": []}".to_vec(), "no key"),
        (
            b"{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\", \"use\": \"enc\"}]}".to_vec(),
            "no signing key",
        ),
        (vec![b' '; 1001], "too large"),
    ] {
        assert_eq!(
            code(set.apply(&body, None, NOW + 100)),
            "jwks_unavailable",
            "{why}"
        );
        assert!(
            e.verify_jwt_with(&t, &set, Some(NOW + 100)).is_ok(),
            "{why}: last good set in use"
        );
    }
    set.failed("connection refused", NOW + 200);
    assert!(e.verify_jwt_with(&t, &set, Some(NOW + 629)).is_ok());
    // ... until it expires (cache_seconds 600 from the good fetch at NOW + 30).
    let err = e.verify_jwt_with(&t, &set, Some(NOW + 630)).unwrap_err();
    assert_eq!(err.code, "jwks_unavailable");
    assert!(err.message.contains("connection refused"), "{}", err.message);
}

#[test]
fn max_age_zero_is_floored_at_the_cooldown() {
    let set = remote();
    set.apply(&jwks(&[("k1", K1)]), Some("no-store"), NOW).unwrap();
    assert!(!set.needs_fetch(NOW + 29));
    assert!(set.needs_fetch(NOW + 30));
}

#[test]
fn a_set_for_one_issuer_vouches_for_no_other() {
    // moto signs every pool with one key: only the issuer tells them apart.
    let set = remote();
    set.apply(&jwks(&[("k1", K1)]), None, NOW).unwrap();
    let e = engine();
    let other = token("k1", K1, &claims("https://other.example"));
    assert_eq!(code(e.verify_jwt_with(&other, &set, Some(NOW))), "wrong_issuer");
    let plain = KeySet::from_slice(&jwks(&[("k1", K1)])).unwrap();
    assert!(e.verify_jwt_with(&other, &plain, Some(NOW)).is_ok());
}

#[test]
fn urls_and_discovery() {
    assert_eq!(
        code(KeySet::remote(
            "http://example.com/jwks",
            KeySetOptions::default()
        )),
        "invalid_argument"
    );
    assert_eq!(
        code(KeySet::cognito(
            "us-east-1",
            "eu-west-1_X",
            KeySetOptions::default()
        )),
        "invalid_argument"
    );
    assert_eq!(
        code(KeySet::cognito("US EAST", "x", KeySetOptions::default())),
        "invalid_argument"
    );
    assert_eq!(
        KeySet::discovery_url("https://login.example.com/tenant/").unwrap(),
        "https://login.example.com/tenant/.well-known/openid-configuration"
    );
    let doc =
        json!({"issuer": "https://login.example.com/tenant/", "jwks_uri": "https://login.example.com/keys"});
    let set = KeySet::from_discovery(
        "https://login.example.com/tenant/",
        doc.to_string().as_bytes(),
        KeySetOptions::default(),
    )
    .unwrap();
    assert_eq!(set.url(), Some("https://login.example.com/keys"));
    assert_eq!(set.issuer(), Some("https://login.example.com/tenant/"));
    let err = KeySet::from_discovery(
        "https://login.example.com/tenant",
        doc.to_string().as_bytes(),
        KeySetOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code, "jwks_unavailable");
    let plain = json!({"issuer": "https://a.example", "jwks_uri": "http://a.example/keys"});
    assert_eq!(
        code(KeySet::from_discovery(
            "https://a.example",
            plain.to_string().as_bytes(),
            KeySetOptions::default()
        )),
        "invalid_argument"
    );
    assert_eq!(
        code(KeySet::from_discovery(
            "https://a.example",
            b"<html>",
            KeySetOptions::default()
        )),
        "jwks_unavailable"
    );
}

#[test]
fn hints_for_host_mistakes() {
    let set = KeySet::from_slice(&jwks(&[("k1", K1)])).unwrap();
    let e = engine();
    let t = token("k1", K1, &claims(ISS));
    let err = e
        .verify_jwt_with(&format!("Bearer {t}"), &set, Some(NOW))
        .unwrap_err();
    assert_eq!(err.code, "malformed");
    assert!(err.message.contains("parse_authorization"), "{}", err.message);
    let err = e.verify_jwt_with(&t, &set, Some(NOW * 1000)).unwrap_err();
    assert_eq!(err.code, "invalid_argument");
    assert!(err.message.contains("milliseconds"), "{}", err.message);
    let err = e
        .verify_jwt_with(&token("k1", K1, &claims("https://nope.example")), &set, Some(NOW))
        .unwrap_err();
    assert_eq!(err.code, "wrong_issuer");
    assert!(err.message.contains("tokens.jwt.issuers"), "{}", err.message);
    let mut c = claims(ISS);
    c["client_id"] = json!("zzz");
    let err = e
        .verify_jwt_with(&token("k1", K1, &c), &set, Some(NOW))
        .unwrap_err();
    assert_eq!(err.code, "wrong_client");
    assert!(err.message.contains("tokens.jwt.client_ids"), "{}", err.message);
}

/// Every provider-JWT conformance vector gives the same answer through a
/// `KeySet` as through a plain JWKS — the first time (keys checked and
/// parsed for the set) and the second (the token remembered).
#[test]
fn key_sets_agree_with_plain_jwks_on_every_vector() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/vectors");
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("jwt_") {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            if case["op"] != "verify_jwt" {
                continue;
            }
            let policy = case.get("policy").unwrap_or(&doc["policy"]);
            let engine = Engine::new(policy).unwrap();
            let token = case["token"].as_str().unwrap();
            let now = case["now"].as_i64();
            let outcome = |r: tessera::Result<tessera::Principal>| match r {
                Ok(p) => serde_json::to_value(p).unwrap(),
                Err(e) => json!({ "error": e.code }),
            };
            let plain = outcome(engine.verify_jwt(token, &case["keys"], now));
            let Ok(set) = KeySet::new(&case["keys"]) else {
                assert_eq!(
                    plain,
                    json!({"error": "invalid_argument"}),
                    "{name}: {}",
                    case["name"]
                );
                continue;
            };
            // Not remembered first (a host keeping its own answers), then
            // remembered, then answered from the set's memory.
            let unremembered = outcome(engine.verify_jwt_with_unremembered(token, &set, now));
            assert_eq!(unremembered, plain, "{name}: {} (unremembered)", case["name"]);
            assert!(!set.remembers(token), "{name}: {}", case["name"]);
            for round in ["fresh", "remembered"] {
                let got = outcome(engine.verify_jwt_with(token, &set, now));
                assert_eq!(got, plain, "{name}: {} ({round})", case["name"]);
            }
            let again = outcome(engine.verify_jwt_with_unremembered(token, &set, now));
            assert_eq!(
                again, plain,
                "{name}: {} (unremembered, from memory)",
                case["name"]
            );
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} vectors compared");
}

/// The two-step form a host with an asynchronous primitive (WebCrypto) uses:
/// the same codes in the same order as `verify_jwt_with`, and the set learns
/// the token once the host says its signature verified.
#[test]
fn begin_verify_jwt_with_holds_the_verdict_until_the_host_answers() {
    let set = KeySet::from_slice(&jwks(&[("k1", K1)])).unwrap();
    let e = engine();
    let t = token("k1", K1, &claims(ISS));
    let pending = e.begin_verify_jwt_with(&t, &set, Some(NOW)).unwrap();
    assert!(!pending.verified_before());
    assert_eq!(pending.signature().algorithm, "HS256");
    // The host says no: bad_signature, and nothing is remembered.
    assert_eq!(code(e.finish_verify_jwt(pending, false)), "bad_signature");
    assert!(!set.remembers(&t));
    let pending = e.begin_verify_jwt_with(&t, &set, Some(NOW)).unwrap();
    let p = e.finish_verify_jwt(pending, true).unwrap();
    assert_eq!(p, e.verify_jwt_with(&t, &set, Some(NOW)).unwrap());
    assert!(set.remembers(&t));
    // Remembered: no host asked, claims and time still checked.
    let again = e.begin_verify_jwt_with(&t, &set, Some(NOW)).unwrap();
    assert!(again.verified_before());
    assert_eq!(e.finish_verify_jwt(again, false).unwrap(), p);
    let late = e.begin_verify_jwt_with(&t, &set, Some(NOW + 3600)).unwrap();
    assert_eq!(code(e.finish_verify_jwt(late, false)), "expired");
    // A bad signature wins over a claim failure (SPEC order).
    let expired = token("k1", K2, &claims(ISS));
    let pending = e.begin_verify_jwt_with(&expired, &set, Some(NOW + 7200)).unwrap();
    assert_eq!(code(e.finish_verify_jwt(pending, false)), "bad_signature");
    // Errors before the signature come out of `begin`.
    assert_eq!(
        code(e.begin_verify_jwt_with(&token("k9", K1, &claims(ISS)), &set, Some(NOW))),
        "unknown_key"
    );
    assert_eq!(code(e.begin_verify_jwt_with("a.b", &set, Some(NOW))), "malformed");
    assert_eq!(
        code(e.begin_verify_jwt_with(&t, &remote(), Some(NOW))),
        "jwks_unavailable"
    );
    assert_eq!(
        code(e.begin_verify_jwt_with(&t, &set, Some(NOW * 1000))),
        "invalid_argument"
    );
    // An issuer-bound set refuses another issuer after the signature.
    let bound = remote();
    bound.apply(&jwks(&[("k1", K1)]), None, NOW).unwrap();
    let other = token("k1", K1, &claims("https://other.example"));
    let pending = e.begin_verify_jwt_with(&other, &bound, Some(NOW)).unwrap();
    assert_eq!(code(e.finish_verify_jwt(pending, true)), "wrong_issuer");
    assert_eq!(bound.usable_until(), Some(NOW + 600));
    assert_eq!(set.usable_until(), Some(i64::MAX));
    assert_eq!(remote().usable_until(), None);
}

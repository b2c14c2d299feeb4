//! Sessions (SPEC §6.2): issue, renew, verify, revocations, the ceiling, key
//! rules, determinism, and one test per session error code.

use serde_json::{json, Value};
use tessera::token::{Revocations, SessionOptions};
use tessera::{Credential, Engine, Principal};

const SECRET_B64: &str = "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"; // 32 bytes

fn hs_key() -> Value {
    json!({"kty": "oct", "k": SECRET_B64})
}

/// RFC 8037 appendix A.1.
fn ed_key() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519",
           "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
           "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
}

fn ed_public() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
}

fn engine() -> Engine {
    Engine::new(&json!({"version": 1,
        "roles": {"user": {"permissions": ["read_own_device"]}, "admin": {"inherits": ["user"]}},
        "groups": {"admins": ["admin"]},
        "tokens": {"session": {"ttl_seconds": 1800, "max_lifetime_seconds": 172800}}}))
    .expect("policy")
}

fn alice() -> Principal {
    Principal {
        id: Some("alice".into()),
        roles: vec!["user".into()],
        ..Default::default()
    }
}

fn sid(s: &str) -> SessionOptions {
    SessionOptions {
        session_id: Some(s.into()),
        ..Default::default()
    }
}

fn code<T: std::fmt::Debug>(r: tessera::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => e.code,
    }
}

#[test]
fn issue_then_verify_both_algorithms() {
    let e = engine();
    for (key, public) in [(hs_key(), hs_key()), (ed_key(), ed_public())] {
        let g = e.issue_session(&alice(), &key, Some(1000), &sid("s-1")).unwrap();
        assert_eq!(g.session_id, "s-1");
        assert_eq!(g.expires_at, 2800);
        assert_eq!(g.renewable_until, 1000 + 172_800);
        let p = e.verify_session(&g.token, &public, Some(1001), None).unwrap();
        assert_eq!(p.id.as_deref(), Some("alice"));
        assert_eq!(p.roles, ["user"]);
        assert_eq!(p.credential, Some(Credential::Session));
        assert_eq!(p.expires_at, Some(2800));
        assert_eq!(p.session_id.as_deref(), Some("s-1"));
        assert!(p.claims.is_none() && p.api_token_id.is_none() && p.limits.is_none());
    }
}

#[test]
fn tokens_are_byte_for_byte_deterministic() {
    let a = engine()
        .issue_session(&alice(), &hs_key(), Some(5), &sid("x"))
        .unwrap();
    let b = engine()
        .issue_session(&alice(), &hs_key(), Some(5), &sid("x"))
        .unwrap();
    assert_eq!(a, b);
    let header = a.token.split('.').next().unwrap();
    // {"alg":"HS256","typ":"tessera-session+jwt"}
    assert_eq!(
        header,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6InRlc3NlcmEtc2Vzc2lvbitqd3QifQ"
    );
    let c = engine()
        .issue_session(&alice(), &ed_key(), Some(5), &sid("x"))
        .unwrap();
    let d = engine()
        .issue_session(&alice(), &ed_key(), Some(5), &sid("x"))
        .unwrap();
    assert_eq!(c.token, d.token);
}

#[test]
fn random_session_ids_are_base62_and_distinct() {
    let e = engine();
    let a = e
        .issue_session(&alice(), &hs_key(), Some(0), &Default::default())
        .unwrap();
    let b = e
        .issue_session(&alice(), &hs_key(), Some(0), &Default::default())
        .unwrap();
    assert_ne!(a.session_id, b.session_id);
    assert_eq!(a.session_id.len(), 22);
    assert!(a.session_id.bytes().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn exp_boundary_to_the_second() {
    let e = engine();
    let g = e.issue_session(&alice(), &hs_key(), Some(0), &sid("s")).unwrap();
    assert!(e.verify_session(&g.token, &hs_key(), Some(1799), None).is_ok());
    assert_eq!(
        code(e.verify_session(&g.token, &hs_key(), Some(1800), None)),
        "expired"
    );
    assert_eq!(
        code(e.verify_session(&g.token, &hs_key(), Some(-1), None)),
        "not_yet_valid"
    );
}

#[test]
fn renew_keeps_the_session_and_stops_at_the_ceiling() {
    let e = engine();
    let first = e.issue_session(&alice(), &hs_key(), Some(0), &sid("s")).unwrap();
    let mut token = first.token.clone();
    let mut now = 0;
    // Renew every 1000 s until the 48-hour ceiling.
    loop {
        now += 1000;
        match e.renew_session(&token, &hs_key(), Some(now), None) {
            Ok(g) => {
                assert_eq!(g.session_id, "s");
                assert_eq!(g.renewable_until, 172_800);
                assert_eq!(g.expires_at, (now + 1800).min(172_800));
                let p = e.verify_session(&g.token, &hs_key(), Some(now), None).unwrap();
                assert_eq!(p.expires_at, Some(g.expires_at));
                token = g.token;
            }
            Err(err) => {
                assert_eq!(err.code, "session_ended");
                assert_eq!(now, 173_000);
                break;
            }
        }
    }
    // One second before the ceiling a renewal is capped at the ceiling.
    let g = e
        .renew_session(&first.token, &hs_key(), Some(1000), None)
        .unwrap();
    assert_eq!(g.expires_at, 2800);
}

#[test]
fn an_expired_session_is_not_renewed() {
    let e = engine();
    let g = e.issue_session(&alice(), &hs_key(), Some(0), &sid("s")).unwrap();
    assert_eq!(
        code(e.renew_session(&g.token, &hs_key(), Some(1800), None)),
        "expired"
    );
    assert!(e.renew_session(&g.token, &hs_key(), Some(1799), None).is_ok());
}

#[test]
fn a_lower_ceiling_in_a_new_policy_ends_longer_sessions() {
    let e = engine();
    let g = e.issue_session(&alice(), &hs_key(), Some(0), &sid("s")).unwrap();
    e.load(&json!({"version": 1, "roles": {}, "tokens": {"session": {"max_lifetime_seconds": 600}}}))
        .unwrap();
    assert!(e.verify_session(&g.token, &hs_key(), Some(599), None).is_ok());
    assert_eq!(
        code(e.verify_session(&g.token, &hs_key(), Some(600), None)),
        "session_ended"
    );
}

#[test]
fn revocations_by_sid_subject_api_token_and_epoch() {
    let e = engine();
    let from_token = Principal {
        id: Some("dev-1".into()),
        roles: vec!["user".into()],
        limits: Some(vec!["read_own_device".into()]),
        credential: Some(Credential::ApiToken),
        api_token_id: Some("tok-1".into()),
        ..Default::default()
    };
    let options = SessionOptions {
        session_id: Some("s-9".into()),
        epoch: Some(2),
        ..Default::default()
    };
    let g = e
        .issue_session(&from_token, &hs_key(), Some(0), &options)
        .unwrap();
    let p = e.verify_session(&g.token, &hs_key(), Some(1), None).unwrap();
    assert_eq!(p.api_token_id.as_deref(), Some("tok-1"));
    assert_eq!(p.limits, Some(vec!["read_own_device".to_string()]));
    let dead = [
        Revocations {
            sessions: vec!["s-9".into()],
            ..Default::default()
        },
        Revocations {
            subjects: vec!["dev-1".into()],
            ..Default::default()
        },
        Revocations {
            api_tokens: vec!["tok-1".into()],
            ..Default::default()
        },
        Revocations {
            epoch: 3,
            ..Default::default()
        },
    ];
    for r in &dead {
        assert_eq!(
            code(e.verify_session(&g.token, &hs_key(), Some(1), Some(r))),
            "revoked",
            "{r:?}"
        );
        assert_eq!(
            code(e.renew_session(&g.token, &hs_key(), Some(1), Some(r))),
            "revoked",
            "{r:?}"
        );
    }
    let alive = Revocations {
        epoch: 2,
        sessions: vec!["other".into()],
        ..Default::default()
    };
    assert!(e
        .verify_session(&g.token, &hs_key(), Some(1), Some(&alive))
        .is_ok());
}

#[test]
fn groups_become_roles_in_the_session() {
    let e = engine();
    let p = Principal {
        id: Some("bob".into()),
        roles: vec!["user".into()],
        groups: vec!["admins".into(), "nobody".into()],
        ..Default::default()
    };
    let g = e.issue_session(&p, &hs_key(), Some(0), &sid("s")).unwrap();
    assert_eq!(
        e.verify_session(&g.token, &hs_key(), Some(0), None)
            .unwrap()
            .roles,
        ["user", "admin"]
    );
}

#[test]
fn key_rules() {
    let e = engine();
    let short = json!({"kty": "oct", "k": "c2hvcnQ"});
    assert_eq!(
        code(e.issue_session(&alice(), &short, Some(0), &sid("s"))),
        "weak_key"
    );
    let thirty_one = json!({"kty": "oct", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZQ"});
    assert_eq!(
        code(e.issue_session(&alice(), &thirty_one, Some(0), &sid("s"))),
        "weak_key"
    );
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert_eq!(
        code(e.issue_session(&alice(), &rsa, Some(0), &sid("s"))),
        "unsupported_alg"
    );
    let ed448 = json!({"kty": "OKP", "crv": "Ed448", "x": "AA"});
    assert_eq!(
        code(e.issue_session(&alice(), &ed448, Some(0), &sid("s"))),
        "unsupported_alg"
    );
    let hs512 = json!({"kty": "oct", "alg": "HS512", "k": SECRET_B64});
    assert_eq!(
        code(e.issue_session(&alice(), &hs512, Some(0), &sid("s"))),
        "unsupported_alg"
    );
    assert_eq!(
        code(e.issue_session(&alice(), &ed_public(), Some(0), &sid("s"))),
        "invalid_argument"
    );
    assert_eq!(
        code(e.issue_session(&alice(), &json!("secret"), Some(0), &sid("s"))),
        "invalid_argument"
    );
    assert_eq!(
        code(e.issue_session(&alice(), &json!({"kty": "oct"}), Some(0), &sid("s"))),
        "invalid_argument"
    );
    // The private half alone is enough: x is derived from d.
    let d_only = json!({"kty": "OKP", "crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"});
    let g = e.issue_session(&alice(), &d_only, Some(0), &sid("s")).unwrap();
    assert!(e.verify_session(&g.token, &ed_public(), Some(0), None).is_ok());
}

#[test]
fn sessions_and_provider_jwts_are_never_confused() {
    let e = Engine::new(&json!({"version": 1, "roles": {},
        "tokens": {"jwt": {"issuers": ["x"], "algorithms": ["HS256"], "audiences": null}}}))
    .unwrap();
    let g = e.issue_session(&alice(), &hs_key(), Some(0), &sid("s")).unwrap();
    // A session token handed to verify_jwt, with the session key as the JWKS.
    let jwks = json!({"keys": [hs_key()]});
    assert_eq!(code(e.verify_jwt(&g.token, &jwks, Some(0))), "wrong_token_use");
    // A plain JWT with the same key and session-like claims handed to verify_session.
    let parts: Vec<&str> = g.token.split('.').collect();
    let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; // {"alg":"HS256","typ":"JWT"}
    let forged = format!("{header}.{}.{}", parts[1], parts[2]);
    assert_eq!(
        code(e.verify_session(&forged, &hs_key(), Some(0), None)),
        "wrong_token_use"
    );
}

#[test]
fn every_session_error_code() {
    let e = engine();
    let g = e.issue_session(&alice(), &hs_key(), Some(0), &sid("s")).unwrap();
    let other = json!({"kty": "oct", "k": "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci0"});
    let cases: Vec<(&str, String, Value, i64, &str)> = vec![
        ("too_large", "a".repeat(20_000), hs_key(), 0, "too_large"),
        ("malformed", "a.b".into(), hs_key(), 0, "malformed"),
        ("bad_signature", g.token.clone(), other, 0, "bad_signature"),
        (
            "unsupported_alg",
            g.token.clone(),
            ed_public(),
            0,
            "unsupported_alg",
        ),
        ("expired", g.token.clone(), hs_key(), 1800, "expired"),
        ("not_yet_valid", g.token.clone(), hs_key(), -5, "not_yet_valid"),
        (
            "session_ended",
            g.token.clone(),
            hs_key(),
            172_800,
            "session_ended",
        ),
    ];
    for (name, token, key, now, want) in cases {
        assert_eq!(
            code(e.verify_session(&token, &key, Some(now), None)),
            want,
            "{name}"
        );
    }
    assert_eq!(
        code(e.verify_session(
            &g.token,
            &hs_key(),
            Some(0),
            Some(&Revocations {
                sessions: vec!["s".into()],
                ..Default::default()
            })
        )),
        "revoked"
    );
    assert_eq!(
        code(e.issue_session(&Principal::default(), &hs_key(), Some(0), &sid("s"))),
        "invalid_argument"
    );
    assert_eq!(
        code(e.issue_session(&alice(), &hs_key(), Some(0), &sid(""))),
        "invalid_argument"
    );
    let bad_limits = SessionOptions {
        limits: Some(vec!["bogus label".into()]),
        ..Default::default()
    };
    assert_eq!(
        code(e.issue_session(&alice(), &hs_key(), Some(0), &bad_limits)),
        "invalid_argument"
    );
}

#[test]
fn options_and_revocations_from_json() {
    assert_eq!(
        SessionOptions::from_json(&json!({"session_id": "a", "epoch": 1})).unwrap(),
        SessionOptions {
            session_id: Some("a".into()),
            epoch: Some(1),
            ..Default::default()
        }
    );
    assert_eq!(
        SessionOptions::from_json(&json!({"sid": "a"})).unwrap_err().code,
        "invalid_argument"
    );
    assert_eq!(
        Revocations::from_json(&json!({"epoch": -1})).unwrap_err().code,
        "invalid_argument"
    );
    assert_eq!(
        Revocations::from_json(&json!({})).unwrap(),
        Revocations::default()
    );
}

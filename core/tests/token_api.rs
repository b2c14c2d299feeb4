//! API tokens (SPEC §6.3) and `Authorization` headers (SPEC §6.4).

use serde_json::json;
use sha2::{Digest, Sha256};
use tessera::token::{parse_authorization, ApiTokenOptions, ApiTokenRecord, ApiTokenState};
use tessera::{Credential, Engine, Resource};

fn engine() -> Engine {
    Engine::new(&json!({"version": 1,
        "roles": {"user": {"permissions": ["read_own_device", "update_own_device"]}}}))
    .expect("policy")
}

fn code<T: std::fmt::Debug>(r: tessera::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => e.code,
    }
}

#[test]
fn create_shows_the_secret_once_and_keeps_its_hash() {
    let e = engine();
    let t = e
        .create_api_token("dev-1", &["user".into()], Some(100), &Default::default())
        .unwrap();
    let parts: Vec<&str> = t.secret.split('_').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "tsr");
    assert_eq!(parts[1], t.record.id);
    assert_eq!(parts[1].len(), 22);
    assert_eq!(parts[2].len(), 43, "32 random bytes in base62");
    assert!(parts[1..]
        .iter()
        .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric())));
    let hash: String = Sha256::digest(t.secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(t.record.hash, hash);
    let stored = serde_json::to_string(&t.record).unwrap();
    assert!(!stored.contains(parts[2]), "the record never holds the secret");
    assert_eq!(t.record.state, ApiTokenState::Active);
    assert_eq!((t.record.created_at, t.record.expires_at), (100, None));
    assert_eq!(
        serde_json::to_value(&t.record).unwrap()["limits"],
        serde_json::Value::Null,
        "limits serialize as null"
    );
}

#[test]
fn verify_gives_a_limited_principal() {
    let e = engine();
    let options = ApiTokenOptions {
        lifespan_seconds: Some(60),
        limits: Some(vec!["read_own_device".into()]),
    };
    let t = e
        .create_api_token("dev-1", &["user".into()], Some(0), &options)
        .unwrap();
    let p = e
        .verify_api_token(&t.secret, std::slice::from_ref(&t.record), Some(59))
        .unwrap();
    assert_eq!(p.id.as_deref(), Some("dev-1"));
    assert_eq!(p.credential, Some(Credential::ApiToken));
    assert_eq!(p.api_token_id.as_deref(), Some(t.record.id.as_str()));
    assert_eq!(p.expires_at, Some(60));
    // The token's limits narrow what its roles allow.
    let mine = Resource::new("device").with_id("d").with_owner("dev-1");
    assert!(e.authorize(&p, "read", &mine).unwrap().allowed);
    assert!(!e.authorize(&p, "update", &mine).unwrap().allowed);
    assert_eq!(
        code(e.verify_api_token(&t.secret, &[t.record], Some(60))),
        "expired"
    );
}

#[test]
fn every_api_token_code() {
    let e = engine();
    let t = e
        .create_api_token("dev-1", &[], Some(0), &Default::default())
        .unwrap();
    let rec = t.record.clone();
    assert_eq!(
        code(e.verify_api_token("tsr_nope", std::slice::from_ref(&rec), Some(0))),
        "malformed"
    );
    assert_eq!(code(e.verify_api_token(&t.secret, &[], Some(0))), "unknown_token");
    let mut wrong = t.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    assert_eq!(
        code(e.verify_api_token(&wrong, std::slice::from_ref(&rec), Some(0))),
        "unknown_token"
    );
    assert_eq!(
        code(e.verify_api_token(&t.secret, &[rec.suspend().unwrap()], Some(0))),
        "suspended"
    );
    assert_eq!(
        code(e.verify_api_token(&t.secret, &[rec.revoke().unwrap()], Some(0))),
        "revoked"
    );
    let broken = ApiTokenRecord {
        hash: "zz".into(),
        ..rec.clone()
    };
    assert_eq!(
        code(e.verify_api_token(&t.secret, &[broken], Some(0))),
        "invalid_argument"
    );
    assert_eq!(
        code(e.create_api_token("", &[], Some(0), &Default::default())),
        "invalid_argument"
    );
    let zero = ApiTokenOptions {
        lifespan_seconds: Some(0),
        ..Default::default()
    };
    assert_eq!(
        code(e.create_api_token("x", &[], Some(0), &zero)),
        "invalid_argument"
    );
    let bad = ApiTokenOptions {
        limits: Some(vec!["fly_device".into()]),
        ..Default::default()
    };
    assert_eq!(
        code(e.create_api_token("x", &[], Some(0), &bad)),
        "invalid_argument"
    );
}

#[test]
fn transitions() {
    let e = engine();
    let r = e
        .create_api_token("u", &[], Some(0), &Default::default())
        .unwrap()
        .record;
    let s = r.suspend().unwrap();
    assert_eq!(s.state, ApiTokenState::Suspended);
    assert_eq!(code(s.suspend()), "invalid_transition");
    assert_eq!(s.resume().unwrap().state, ApiTokenState::Active);
    assert_eq!(code(r.resume()), "invalid_transition");
    let gone = s.revoke().unwrap();
    assert_eq!(gone.state, ApiTokenState::Revoked);
    for result in [gone.suspend(), gone.resume(), gone.revoke()] {
        assert_eq!(code(result), "invalid_transition", "revoked is final");
    }
    assert_eq!(code(e.replace_api_token(&gone, Some(1))), "invalid_transition");
}

#[test]
fn replace_rotates_and_several_tokens_coexist() {
    let e = engine();
    let options = ApiTokenOptions {
        lifespan_seconds: Some(1000),
        limits: Some(vec!["read_own_device".into()]),
    };
    let a = e
        .create_api_token("dev", &["user".into()], Some(0), &options)
        .unwrap();
    let b = e
        .create_api_token("dev", &["user".into()], Some(0), &options)
        .unwrap();
    let records = vec![a.record.clone(), b.record.clone()];
    assert!(e.verify_api_token(&a.secret, &records, Some(1)).is_ok());
    assert!(e.verify_api_token(&b.secret, &records, Some(1)).is_ok());
    // A suspended (say, leaked) token may be replaced.
    let (c, old) = e
        .replace_api_token(&a.record.suspend().unwrap(), Some(500))
        .unwrap();
    assert_eq!(old.state, ApiTokenState::Revoked);
    assert_eq!(c.record.owner, "dev");
    assert_eq!(c.record.roles, ["user"]);
    assert_eq!(c.record.limits, a.record.limits);
    assert_eq!(
        (c.record.created_at, c.record.expires_at),
        (500, Some(1500)),
        "same lifespan from now"
    );
    let records = vec![old, b.record.clone(), c.record.clone()];
    assert_eq!(
        code(e.verify_api_token(&a.secret, &records, Some(501))),
        "revoked"
    );
    assert!(e.verify_api_token(&c.secret, &records, Some(501)).is_ok());
    assert!(e.verify_api_token(&b.secret, &records, Some(501)).is_ok());
}

#[test]
fn records_round_trip_through_json() {
    let e = engine();
    let t = e
        .create_api_token("u", &["user".into()], Some(0), &Default::default())
        .unwrap();
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(tessera::token::NewApiToken::from_json(&v).unwrap(), t);
    assert_eq!(ApiTokenRecord::from_json(&v["record"]).unwrap(), t.record);
    let mut extra = v["record"].clone();
    extra["x"] = json!(1);
    assert_eq!(
        ApiTokenRecord::from_json(&extra).unwrap_err().code,
        "invalid_argument"
    );
    assert_eq!(
        ApiTokenOptions::from_json(&json!({"lifespan": 5}))
            .unwrap_err()
            .code,
        "invalid_argument"
    );
}

#[test]
fn authorization_headers() {
    let ok = [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc", "abc"),
        (" Bearer abc ", "abc"),
        ("abc.def.ghi", "abc.def.ghi"),
        ("tsr_a_b", "tsr_a_b"),
    ];
    for (header, token) in ok {
        assert_eq!(parse_authorization(header).unwrap(), token, "{header:?}");
    }
    for header in [
        "",
        "Bearer",
        "Bearer  ",
        "Basic abc",
        "Bearer a b",
        "Bearer\tabc",
        "a b",
        "Bearer é",
    ] {
        assert_eq!(
            parse_authorization(header).unwrap_err().code,
            "malformed",
            "{header:?}"
        );
    }
}

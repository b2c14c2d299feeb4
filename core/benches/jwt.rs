//! Token verification benchmarks: provider RS256 and ES256 (cold: caches
//! emptied before each call, so the key is decoded and checked and the
//! signature verified; cached: key and signature found in the engine's cache,
//! every other check still run), and HS256 / EdDSA session verify and issue.
//!
//! The tokens are the PyJWT-minted ones of `conformance/vectors/jwt_*.json`.
//!
//!     cargo bench -p tessera --bench jwt

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Value};
use std::hint::black_box;
use tessera::token::SessionOptions;
use tessera::{Engine, Principal};

/// The policy and one named case of a vector file.
fn vector(file: &str, name: &str) -> (Value, Value) {
    let path = format!("{}/../conformance/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).expect("JSON");
    let case = doc["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["name"] == name))
        .cloned()
        .expect("case");
    (doc["policy"].clone(), case)
}

fn provider(c: &mut Criterion, label: &str, file: &str, name: &str) {
    let (policy, case) = vector(file, name);
    let engine = Engine::new(&policy).expect("policy");
    let token = case["token"].as_str().expect("token").to_string();
    let keys = case["keys"].clone();
    let now = case["now"].as_i64();
    engine
        .verify_jwt(&token, &keys, now)
        .expect("the vector verifies");
    c.bench_function(&format!("{label} verify, cold"), |b| {
        b.iter_batched(
            || engine.clear_token_cache(),
            |_| black_box(engine.verify_jwt(black_box(&token), &keys, now)),
            BatchSize::PerIteration,
        )
    });
    engine.verify_jwt(&token, &keys, now).expect("warm the cache");
    c.bench_function(&format!("{label} verify, cached"), |b| {
        b.iter(|| black_box(engine.verify_jwt(black_box(&token), &keys, now)))
    });
}

fn sessions(c: &mut Criterion) {
    let engine = Engine::new(&json!({"version": 1, "roles": {"user": {}}})).expect("policy");
    let principal = Principal {
        id: Some("alice".into()),
        roles: vec!["user".into()],
        ..Default::default()
    };
    let options = SessionOptions {
        session_id: Some("bench-session".into()),
        ..Default::default()
    };
    let keys = [
        (
            "HS256",
            json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
        ),
        (
            "EdDSA",
            json!({"kty": "OKP", "crv": "Ed25519",
                   "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                   "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        ),
    ];
    for (alg, key) in keys {
        let grant = engine
            .issue_session(&principal, &key, Some(1000), &options)
            .expect("issue");
        c.bench_function(&format!("{alg} session verify"), |b| {
            b.iter(|| black_box(engine.verify_session(black_box(&grant.token), &key, Some(1001), None)))
        });
        c.bench_function(&format!("{alg} session issue"), |b| {
            b.iter(|| black_box(engine.issue_session(&principal, &key, Some(1000), &options)))
        });
    }
}

fn benches(c: &mut Criterion) {
    eprintln!("crypto backend: {}", tessera::token::crypto_backend());
    provider(
        c,
        "RS256 (Cognito access token)",
        "jwt_cognito.json",
        "cognito access token",
    );
    provider(c, "ES256", "jwt_structure.json", "ES256 token");
    sessions(c);
}

criterion_group!(jwt, benches);
criterion_main!(jwt);

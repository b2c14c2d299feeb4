//! Strict Ed25519 (SPEC §6.1) through `verify_signature`, the key-to-crypto
//! path of every provider JWT and session: the Wycheproof-style file
//! `conformance/fixtures/ed25519_strict_test.json` (keys of small order and
//! non-canonical encodings → `weak_key`; S ≥ L, small-order or non-canonical
//! R → `bad_signature`; the valid RFC 8032 signature still verifies). Run
//! with both backends (`make test-tokens` adds RustCrypto).

use serde_json::{json, Value};
use tessera::token::verify_signature;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn every_vector_gets_its_answer() {
    let text = include_str!("../../conformance/fixtures/ed25519_strict_test.json");
    let doc: Value = serde_json::from_str(text).expect("JSON");
    let mut ran = 0;
    for group in doc["testGroups"].as_array().expect("groups") {
        let pk = hex(group["publicKey"]["pk"].as_str().expect("pk"));
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&pk)});
        for tc in group["tests"].as_array().expect("tests") {
            let msg = hex(tc["msg"].as_str().expect("msg"));
            let sig = hex(tc["sig"].as_str().expect("sig"));
            let got = verify_signature("EdDSA", &jwk, &msg, &sig);
            let id = &tc["tcId"];
            match tc["result"].as_str() {
                Some("valid") => assert!(got.is_ok(), "tcId {id}: {got:?}"),
                _ => {
                    let want = tc["expect"].as_str().expect("expect");
                    assert_eq!(got.map_err(|e| e.code), Err(want.to_string()), "tcId {id}");
                }
            }
            ran += 1;
        }
    }
    assert_eq!(ran as u64, doc["numberOfTests"].as_u64().expect("count"));
}

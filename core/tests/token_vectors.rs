//! Runs the token conformance vectors (SPEC §8) through the Engine API:
//! `conformance/vectors/{jwt_*,session_*,api_token_*,authorization}.json`.
//!
//! Every token and expected answer in those files was made by an independent
//! implementation (`conformance/tools/mint_fixtures.py`: PyJWT and
//! `cryptography`), including the exact session tokens `issue_session` and
//! `renew_session` must reproduce byte for byte.

use serde_json::{json, Value};
use std::path::PathBuf;
use tessera::token::{parse_authorization, ApiTokenRecord, Revocations, SessionOptions};
use tessera::{Engine, Principal};

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".json")
                && (name.starts_with("jwt_")
                    || name.starts_with("session_")
                    || name.starts_with("api_token_")
                    || name == "authorization.json")
        })
        .collect();
    files.sort();
    files
}

fn outcome<T: serde::Serialize>(r: tessera::Result<T>) -> Value {
    match r {
        Ok(v) => serde_json::to_value(v).expect("results serialize"),
        Err(e) => json!({"error": e.code}),
    }
}

fn now(case: &Value) -> Option<i64> {
    case.get("now").and_then(Value::as_i64)
}

fn run(engine: &Engine, case: &Value) -> Value {
    let s = |k: &str| {
        case[k]
            .as_str()
            .unwrap_or_else(|| panic!("case needs string `{k}`"))
    };
    let revocations = match case.get("revocations") {
        None | Some(Value::Null) => None,
        Some(r) => Some(Revocations::from_json(r).expect("revocations")),
    };
    match case["op"].as_str().expect("op") {
        "verify_jwt" => outcome(engine.verify_jwt(s("token"), &case["keys"], now(case))),
        "issue_session" => {
            let principal = match Principal::from_json(&case["principal"]) {
                Ok(p) => p,
                Err(e) => return json!({"error": e.code}),
            };
            let options = match case.get("options") {
                None | Some(Value::Null) => SessionOptions::default(),
                Some(o) => SessionOptions::from_json(o).expect("options"),
            };
            outcome(engine.issue_session(&principal, &case["key"], now(case), &options))
        }
        "renew_session" => {
            outcome(engine.renew_session(s("token"), &case["key"], now(case), revocations.as_ref()))
        }
        "verify_session" => {
            outcome(engine.verify_session(s("token"), &case["key"], now(case), revocations.as_ref()))
        }
        "verify_api_token" => {
            let records: Vec<ApiTokenRecord> = case["records"]
                .as_array()
                .expect("records")
                .iter()
                .map(|r| ApiTokenRecord::from_json(r).expect("record"))
                .collect();
            outcome(engine.verify_api_token(s("secret"), &records, now(case)))
        }
        "parse_authorization" => outcome(parse_authorization(s("header"))),
        other => panic!("unexpected op {other}"),
    }
}

#[test]
fn token_vectors() {
    let files = vector_files();
    assert!(files.len() >= 8, "token vector files missing: {files:?}");
    let (mut passed, mut failures) = (0, Vec::new());
    for file in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("JSON");
        let engine =
            Engine::new(&doc["policy"]).unwrap_or_else(|e| panic!("{}: policy: {e}", file.display()));
        for case in doc["cases"].as_array().expect("cases") {
            for key in ["name", "spec", "op", "expect"] {
                assert!(
                    case.get(key).is_some(),
                    "{}: case without `{key}`: {case}",
                    file.display()
                );
            }
            let got = run(&engine, case);
            if got == case["expect"] {
                passed += 1;
            } else {
                failures.push(format!(
                    "{} / {}:\n  expected {}\n  got      {}",
                    file.file_name().unwrap().to_string_lossy(),
                    case["name"].as_str().unwrap_or("?"),
                    case["expect"],
                    got
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed, {passed} passed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(passed >= 100, "only {passed} token vector cases");
    eprintln!("{passed} token vector cases passed in {} files", files.len());
}

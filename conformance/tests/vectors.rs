//! Runs every `conformance/vectors/*.json` case against the core.
//!
//! A case whose op this runner does not know, or whose inputs it cannot read,
//! counts as a failure: a skipped vector is never a pass.

use serde_json::Value;
use tessera_conformance::{compare, vector_files, vectors_dir, Runner};

#[test]
fn every_vector() {
    let files = vector_files(&vectors_dir()).expect("vector files load");
    assert!(
        !files.is_empty(),
        "no vector files in {}",
        vectors_dir().display()
    );
    let mut runner = Runner::new();
    let (mut passed, mut failures) = (0usize, Vec::new());
    for (name, doc) in &files {
        let file_policy = doc.get("policy").cloned().unwrap_or(Value::Null);
        let Some(cases) = doc.get("cases").and_then(Value::as_array) else {
            failures.push(format!("{name}: no `cases` array"));
            continue;
        };
        for case in cases {
            let label = format!(
                "{name} :: {}",
                case.get("name").and_then(Value::as_str).unwrap_or("<unnamed>")
            );
            let policy = case.get("policy").unwrap_or(&file_policy);
            let Some(expect) = case.get("expect") else {
                failures.push(format!("{label}: no `expect`"));
                continue;
            };
            match runner.run(case, policy) {
                Err(fault) => failures.push(format!("{label}: {fault}")),
                Ok(outcome) => match compare(expect, &outcome) {
                    None => passed += 1,
                    Some(diff) => failures.push(format!("{label}: {diff}")),
                },
            }
        }
    }
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    println!(
        "rust ({}): {passed} passed, {} failed",
        tessera::token::crypto_backend(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} conformance vector(s) failed",
        failures.len()
    );
}

//! The analysis ops of SPEC §9 for the Rust runner: `who_can`,
//! `permissions`, `diff` and `suggest` (inputs in conformance/README.md).

use crate::{error_json, Fault, Outcome};
use serde_json::Value;
use tessera::analysis::Subject;
use tessera::{Engine, Principal, Resource};

fn outcome<T: serde::Serialize>(result: tessera::Result<T>) -> Outcome {
    result
        .map(|v| serde_json::to_value(&v).expect("analysis results serialize"))
        .map_err(|e| error_json(&e))
}

fn input<'a>(case: &'a Value, key: &str) -> Result<&'a Value, Fault> {
    case.get(key).ok_or_else(|| format!("case has no `{key}`"))
}

fn action(case: &Value) -> Result<&str, Fault> {
    input(case, "action")?
        .as_str()
        .ok_or_else(|| "`action` must be a string".to_string())
}

/// `diff` needs no engine: both policies are inputs (`policy_a`, `policy_b`).
pub fn run_diff(case: &Value) -> Result<Outcome, Fault> {
    Ok(outcome(tessera::analysis::diff(
        input(case, "policy_a")?,
        input(case, "policy_b")?,
    )))
}

/// Runs `who_can`, `permissions` or `suggest` on `engine`.
pub fn run(op: &str, case: &Value, engine: &Engine) -> Result<Outcome, Fault> {
    // A wrongly shaped principal or resource is the binding's
    // `invalid_argument`, compared like any other outcome.
    macro_rules! read {
        ($ty:ty, $key:expr) => {
            match <$ty>::from_json(input(case, $key)?) {
                Ok(v) => v,
                Err(e) => return Ok(Err(error_json(&e))),
            }
        };
    }
    Ok(match op {
        "who_can" => outcome(engine.who_can(action(case)?, &read!(Resource, "resource"))),
        "suggest" => {
            let principal = read!(Principal, "principal");
            outcome(engine.suggest(&principal, action(case)?, &read!(Resource, "resource")))
        }
        "permissions" => {
            let subject = match (case.get("role"), case.get("principal")) {
                (Some(Value::String(role)), None) => Subject::Role(role.clone()),
                (None, Some(_)) => Subject::Principal(Box::new(read!(Principal, "principal"))),
                _ => return Err("`permissions` takes a `role` (string) or a `principal`".into()),
            };
            outcome(engine.permissions(&subject))
        }
        other => return Err(format!("`{other}` is not an analysis op")),
    })
}

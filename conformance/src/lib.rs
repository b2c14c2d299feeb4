//! The Rust side of the conformance suite: runs vector cases against the core
//! and compares the results the way `conformance/README.md` prescribes for
//! every runner (Rust, Node, browser, Python).
//!
//! Used by `tests/vectors.rs` (every vector file) and by the `differential`
//! binary (random cases from `conformance/random`, one JSON line each).

pub mod analysis;
pub mod analysis_check;
pub mod realm;

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use tessera::token::{ApiTokenRecord, Revocations, SessionOptions};
use tessera::{Engine, OperationContext, Principal, Resource};

/// What a call gave: its result as JSON, or the error it threw as
/// `{"code", "offset"?, "path"?, "problems"?}`.
pub type Outcome = Result<Value, Value>;

/// The error of the core as the vectors write it.
pub fn error_json(e: &tessera::Error) -> Value {
    let mut out = Map::new();
    out.insert("code".into(), json!(e.code));
    if let Some(offset) = e.offset {
        out.insert("offset".into(), json!(offset));
    }
    if let Some(path) = &e.path {
        out.insert("path".into(), json!(path));
    }
    if !e.problems.is_empty() {
        let problems = e.problems.iter().map(|p| json!({"code": p.code, "path": p.path}));
        out.insert("problems".into(), Value::Array(problems.collect()));
    }
    Value::Object(out)
}

/// Runs cases, keeping the engine of the last policy seen so that a batch of
/// cases on one policy compiles it once.
#[derive(Default)]
pub struct Runner {
    cached: Option<(Value, Result<Engine, tessera::Error>)>,
}

/// A problem with the vector itself (unknown op, missing input): never a pass.
pub type Fault = String;

fn field<'a>(case: &'a Value, key: &str) -> Result<&'a Value, Fault> {
    case.get(key).ok_or_else(|| format!("case has no `{key}`"))
}

fn text<'a>(case: &'a Value, key: &str) -> Result<&'a str, Fault> {
    field(case, key)?
        .as_str()
        .ok_or_else(|| format!("`{key}` must be a string"))
}

fn now(case: &Value) -> Result<Option<i64>, Fault> {
    match case.get("now") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| "`now` must be an integer".to_string()),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("core results serialize")
}

/// Turns a core result into an [`Outcome`].
/// Every `authorize` case also checks the fast path: a principal prepared
/// once, then `is_allowed` (and the answers a cache would keep) must give the
/// decision's `allowed`. Resources with an `owners` list are not expressible
/// there and are skipped.
fn fast_path_agrees(
    engine: &Engine,
    principal: &Principal,
    action: &str,
    resource: &Resource,
    allowed: bool,
) -> Result<(), Fault> {
    if !resource.owners.is_empty() {
        return Ok(());
    }
    let prepared = engine
        .prepare(principal)
        .map_err(|e| format!("authorize succeeded but prepare failed: {}", e.message))?;
    let (id, owner) = (resource.id.as_deref(), resource.owner.as_deref());
    let fast = engine.is_allowed(&prepared, action, &resource.kind, id, owner);
    let picked = engine
        .answers(&prepared, action, &resource.kind)
        .pick(id, owner, principal.id.as_deref());
    if fast != allowed || picked != allowed {
        return Err(format!(
            "fast path disagrees with authorize ({allowed}): is_allowed {fast}, answers {picked}"
        ));
    }
    Ok(())
}

fn outcome<T: serde::Serialize>(result: tessera::Result<T>) -> Outcome {
    result.map(|v| to_json(&v)).map_err(|e| error_json(&e))
}

impl Runner {
    pub fn new() -> Runner {
        Runner::default()
    }

    fn engine(&mut self, policy: &Value) -> Result<&Engine, Value> {
        let fresh = !matches!(&self.cached, Some((p, _)) if p == policy);
        if fresh {
            self.cached = Some((policy.clone(), Engine::new(policy)));
        }
        match &self.cached {
            Some((_, Ok(engine))) => Ok(engine),
            Some((_, Err(e))) => Err(error_json(e)),
            None => unreachable!(),
        }
    }

    /// Runs one case. `policy` is the case's own policy or else its file's.
    pub fn run(&mut self, case: &Value, policy: &Value) -> Result<Outcome, Fault> {
        let op = text(case, "op")?;
        Ok(match op {
            "load_policy" => Engine::new(field(case, "policy")?)
                .map(|_| json!({"ok": true}))
                .map_err(|e| error_json(&e)),
            "parse_label" => {
                let label = text(case, "label")?;
                let parsed = if policy.is_null() {
                    tessera::parse_label(label, None)
                } else {
                    match self.engine(policy) {
                        Ok(engine) => engine.parse_label(label),
                        Err(e) => return Ok(Err(e)),
                    }
                };
                if let Ok(l) = &parsed {
                    // SPEC §1: `format` gives back the canonical text, and a
                    // label the grammar accepts has exactly one spelling.
                    if l.format() != label {
                        return Err(format!("format gave {:?} for {label:?}", l.format()));
                    }
                }
                outcome(parsed)
            }
            "authorize" | "explain" | "capabilities" | "authorize_operation" => {
                self.decide(op, case, policy)?
            }
            "realm" => realm::run_case(case, policy)?,
            "verify_jwt"
            | "issue_session"
            | "renew_session"
            | "verify_session"
            | "verify_api_token"
            | "parse_authorization" => self.token(op, case, policy)?,
            // SPEC §9: diff takes both policies as inputs, the others the case's.
            "diff" => analysis::run_diff(case)?,
            "who_can" | "permissions" | "suggest" => match self.engine(policy) {
                Ok(engine) => analysis::run(op, case, engine)?,
                Err(e) => Err(e),
            },
            // The arms above are the ops a vector may name (SPEC §8): any
            // other is a fault of the vector, found before its policy is read.
            other => return Err(format!("unknown op `{other}`")),
        })
    }

    fn decide(&mut self, op: &str, case: &Value, policy: &Value) -> Result<Outcome, Fault> {
        let engine = match self.engine(policy) {
            Ok(engine) => engine,
            Err(e) => return Ok(Err(e)),
        };
        let principal_json = field(case, "principal")?;
        if op == "authorize_operation" {
            let principal = match principal_json {
                Value::Null => None,
                p => match Principal::from_json(p) {
                    Ok(p) => Some(p),
                    Err(e) => return Ok(Err(error_json(&e))),
                },
            };
            let context = match case.get("context") {
                None => OperationContext::default(),
                Some(c) => match serde_json::from_value::<OperationContext>(c.clone()) {
                    Ok(c) => c,
                    Err(e) => {
                        return Ok(Err(error_json(&tessera::Error::argument(format!(
                            "context: {e}"
                        )))))
                    }
                },
            };
            let operation = text(case, "operation")?;
            return Ok(outcome(engine.authorize_operation(
                principal.as_ref(),
                operation,
                &context,
            )));
        }
        let principal = match Principal::from_json(principal_json) {
            Ok(p) => p,
            Err(e) => return Ok(Err(error_json(&e))),
        };
        let resource = match Resource::from_json(field(case, "resource")?) {
            Ok(r) => r,
            Err(e) => return Ok(Err(error_json(&e))),
        };
        Ok(match op {
            "authorize" => {
                let action = text(case, "action")?;
                let decided = engine.authorize(&principal, action, &resource);
                if let Ok(decision) = &decided {
                    fast_path_agrees(engine, &principal, action, &resource, decision.allowed)?;
                }
                outcome(decided)
            }
            "explain" => outcome(engine.explain(&principal, text(case, "action")?, &resource)),
            _ => outcome(engine.capabilities(&principal, &resource)),
        })
    }

    fn token(&mut self, op: &str, case: &Value, policy: &Value) -> Result<Outcome, Fault> {
        if op == "parse_authorization" {
            return Ok(outcome(tessera::token::parse_authorization(text(
                case, "header",
            )?)));
        }
        let now = now(case)?;
        let engine = match self.engine(policy) {
            Ok(engine) => engine,
            Err(e) => return Ok(Err(e)),
        };
        let revocations = match case.get("revocations") {
            None | Some(Value::Null) => None,
            Some(r) => match Revocations::from_json(r) {
                Ok(r) => Some(r),
                Err(e) => return Ok(Err(error_json(&e))),
            },
        };
        Ok(match op {
            "verify_jwt" => outcome(engine.verify_jwt(text(case, "token")?, field(case, "keys")?, now)),
            "issue_session" => {
                let principal = match Principal::from_json(field(case, "principal")?) {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(error_json(&e))),
                };
                let options = match case.get("options") {
                    None | Some(Value::Null) => SessionOptions::default(),
                    Some(o) => match SessionOptions::from_json(o) {
                        Ok(o) => o,
                        Err(e) => return Ok(Err(error_json(&e))),
                    },
                };
                outcome(engine.issue_session(&principal, field(case, "key")?, now, &options))
            }
            "renew_session" => outcome(engine.renew_session(
                text(case, "token")?,
                field(case, "key")?,
                now,
                revocations.as_ref(),
            )),
            "verify_session" => outcome(engine.verify_session(
                text(case, "token")?,
                field(case, "key")?,
                now,
                revocations.as_ref(),
            )),
            "verify_api_token" => {
                let list = field(case, "records")?;
                let records: tessera::Result<Vec<ApiTokenRecord>> = match list.as_array() {
                    Some(items) => items.iter().map(ApiTokenRecord::from_json).collect(),
                    None => Err(tessera::Error::argument("records: expected an array")),
                };
                match records {
                    Ok(records) => outcome(engine.verify_api_token(text(case, "secret")?, &records, now)),
                    Err(e) => Err(error_json(&e)),
                }
            }
            other => return Err(format!("op `{other}` is not handled by the Rust runner")),
        })
    }
}

/// Compares an outcome with a case's `expect` (rules in conformance/README.md).
/// `None` means they agree; otherwise a description of the difference.
pub fn compare(expect: &Value, outcome: &Outcome) -> Option<String> {
    if let Some(code) = expect.get("error") {
        let err = match outcome {
            Ok(v) => return Some(format!("expected error {code}, got {v}")),
            Err(err) => err,
        };
        if err.get("code") != Some(code) {
            return Some(format!("expected error {code}, got error {err}"));
        }
        for key in ["offset", "path"] {
            if let Some(want) = expect.get(key) {
                if err.get(key) != Some(want) {
                    return Some(format!("expected {key} {want}, got error {err}"));
                }
            }
        }
        if let Some(want) = expect.get("problems") {
            let got = err
                .get("problems")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !problems_match(want.as_array().map(Vec::as_slice).unwrap_or(&[]), &got) {
                return Some(format!("expected problems {want}, got {}", Value::Array(got)));
            }
        }
        return None;
    }
    match outcome {
        Err(err) => Some(format!("expected {expect}, got error {err}")),
        Ok(v) if same(expect, v) => None,
        Ok(v) => Some(format!("expected {expect}, got {v}")),
    }
}

/// JSON equality, except that the expected string `"*"` matches any
/// non-empty string (messages, random ids, tokens, hashes), and an expected
/// `"prefix*"` any longer string that begins with `prefix`.
fn same(expect: &Value, actual: &Value) -> bool {
    match (expect, actual) {
        (Value::String(s), Value::String(a)) if s.ends_with('*') => {
            let prefix = &s[..s.len() - 1];
            a.len() > prefix.len() && a.starts_with(prefix)
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, v)| a.get(k).is_some_and(|av| same(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| same(x, y)),
        _ => expect == actual,
    }
}

/// Problems compare as a multiset: each expected `{code, path?}` takes one
/// distinct actual problem with that code (and path, when given).
fn problems_match(expected: &[Value], actual: &[Value]) -> bool {
    let mut left: Vec<&Value> = actual.iter().collect();
    for want in expected {
        let hit = left.iter().position(|got| {
            got.get("code") == want.get("code")
                && match want.get("path") {
                    None => true,
                    Some(p) => got.get("path") == Some(p),
                }
        });
        match hit {
            Some(i) => {
                left.remove(i);
            }
            None => return false,
        }
    }
    left.is_empty()
}

/// The vector directory of this checkout.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Every `*.json` vector file, sorted by name, parsed.
pub fn vector_files(dir: &Path) -> Result<Vec<(String, Value)>, Fault> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
            let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
            Ok((name, doc))
        })
        .collect()
}

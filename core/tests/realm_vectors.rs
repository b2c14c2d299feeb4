//! Runs the realm conformance vectors (`conformance/vectors/realm_*.json`,
//! SPEC §8 `op: "realm"`) through the core, with the step language of
//! `docs/realm.md` ("Conformance steps"): calls, `now`, `save`, `${name.path}`
//! references, and `expect` compared as SPEC §8 compares, with `"*"`
//! standing for any non-empty string.
//!
//! A case's result is `{"steps": N}` when every one of its N steps gave
//! what it expects; a wrong answer, or a fault in the vector itself (unknown
//! call, missing argument, unknown reference), fails the case.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use tessera::token::ApiTokenOptions;
use tessera::{Principal, Realm, RealmOptions, UserOptions};

type Outcome = Result<Value, Value>;

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("realm_") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    files
}

fn error_json(e: &tessera::Error) -> Value {
    json!({"code": e.code})
}

fn outcome<T: serde::Serialize>(r: tessera::Result<T>) -> Outcome {
    r.map(|v| serde_json::to_value(v).expect("results serialize"))
        .map_err(|e| error_json(&e))
}

/// SPEC §8 comparison, with `"*"` matching any non-empty string anywhere.
fn compare(expect: &Value, got: &Outcome) -> Option<String> {
    if let Some(code) = expect.get("error") {
        return match got {
            Ok(v) => Some(format!("expected error {code}, got {v}")),
            Err(e) if e.get("code") == Some(code) => None,
            Err(e) => Some(format!("expected error {code}, got error {e}")),
        };
    }
    match got {
        Err(e) => Some(format!("expected {expect}, got error {e}")),
        Ok(v) if same(expect, v) => None,
        Ok(v) => Some(format!("expected {expect}, got {v}")),
    }
}

fn same(expect: &Value, actual: &Value) -> bool {
    match (expect, actual) {
        (Value::String(e), Value::String(a)) if e == "*" => !a.is_empty(),
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, v)| a.get(k).is_some_and(|av| same(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(x, y)| same(x, y)),
        _ => expect == actual,
    }
}

/// Values saved by earlier steps of one case.
#[derive(Default)]
struct Saved(HashMap<String, Value>);

impl Saved {
    fn lookup(&self, reference: &str) -> Result<Value, String> {
        let mut parts = reference.split('.');
        let name = parts.next().unwrap_or_default();
        let mut cur = self
            .0
            .get(name)
            .ok_or_else(|| format!("unknown reference `${{{reference}}}`"))?;
        for part in parts {
            let next = if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse::<usize>().ok().and_then(|i| cur.get(i))
            } else {
                cur.get(part)
            };
            cur = next.ok_or_else(|| format!("`${{{reference}}}`: no `{part}`"))?;
        }
        Ok(cur.clone())
    }

    /// Replaces every `${name.path}` in the strings of `v`.
    fn resolve(&self, v: &Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => self.resolve_str(s)?,
            Value::Array(a) => Value::Array(a.iter().map(|x| self.resolve(x)).collect::<Result<_, _>>()?),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), self.resolve(x)?)))
                    .collect::<Result<Map<_, _>, String>>()?,
            ),
            _ => v.clone(),
        })
    }

    fn resolve_str(&self, s: &str) -> Result<Value, String> {
        // One whole reference: the referenced value itself, of any type.
        if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            if !inner.contains('}') && !inner.contains("${") {
                return self.lookup(inner);
            }
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed reference in `{s}`"))?;
            match self.lookup(&after[..end])? {
                Value::String(x) => out.push_str(&x),
                Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
                other => return Err(format!("`${{{}}}` is {other}, not a string", &after[..end])),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

struct Case<'a> {
    policy: &'a Value,
    key: &'a Value,
    options: RealmOptions,
}

fn arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    args.get(name).ok_or_else(|| format!("missing argument `{name}`"))
}

fn text<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    arg(args, name)?
        .as_str()
        .ok_or_else(|| format!("argument `{name}` must be a string"))
}

fn opt_text<'a>(args: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("argument `{name}` must be a string or null")),
    }
}

fn strings(v: &Value, name: &str) -> Result<Vec<String>, String> {
    v.as_array()
        .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
        .ok_or_else(|| format!("argument `{name}` must be an array of strings"))
}

/// Converts a JSON argument as a binding would; a wrong shape is the
/// binding's `invalid_argument`, an outcome, not a fault.
fn actor(args: &Map<String, Value>) -> Result<Option<Principal>, Value> {
    match args.get("actor") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Principal::from_json(v).map(Some).map_err(|e| error_json(&e)),
    }
}

fn call(
    realm: &mut Realm,
    case: &Case,
    name: &str,
    args: &Map<String, Value>,
    now: Option<i64>,
) -> Result<Outcome, String> {
    macro_rules! actor {
        () => {
            match actor(args) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            }
        };
    }
    let r: &Realm = realm;
    Ok(match name {
        "create_user" => {
            let a = actor!();
            let options = match args.get("options") {
                None | Some(Value::Null) => UserOptions::default(),
                Some(o) => match UserOptions::from_json(o) {
                    Ok(o) => o,
                    Err(e) => return Ok(Err(error_json(&e))),
                },
            };
            outcome(r.create_user(
                a.as_ref(),
                text(args, "username")?,
                opt_text(args, "password")?,
                &options,
                now,
            ))
        }
        "get_user" => {
            let a = actor!();
            outcome(r.get_user(a.as_ref(), text(args, "user_id")?))
        }
        "list_users" => {
            let a = actor!();
            outcome(r.list_users(a.as_ref()))
        }
        "set_roles" => {
            let a = actor!();
            let roles = strings(arg(args, "roles")?, "roles")?;
            outcome(r.set_roles(a.as_ref(), text(args, "user_id")?, &roles))
        }
        "set_password" => {
            let a = actor!();
            outcome(r.set_password(a.as_ref(), text(args, "user_id")?, opt_text(args, "password")?))
        }
        "delete_user" => {
            let a = actor!();
            outcome(r.delete_user(a.as_ref(), text(args, "user_id")?))
        }
        "login" => outcome(r.login(text(args, "username")?, text(args, "password")?, now)),
        "create_api_token" => {
            let a = actor!();
            let roles = match args.get("roles") {
                None | Some(Value::Null) => None,
                Some(v) => Some(strings(v, "roles")?),
            };
            let options = match args.get("options") {
                None | Some(Value::Null) => ApiTokenOptions::default(),
                Some(o) => match ApiTokenOptions::from_json(o) {
                    Ok(o) => o,
                    Err(e) => return Ok(Err(error_json(&e))),
                },
            };
            outcome(r.create_api_token(a.as_ref(), text(args, "owner")?, roles.as_deref(), &options, now))
        }
        "list_api_tokens" => {
            let a = actor!();
            outcome(r.list_api_tokens(a.as_ref(), opt_text(args, "owner")?))
        }
        "suspend_api_token" => {
            let a = actor!();
            outcome(r.suspend_api_token(a.as_ref(), text(args, "token_id")?))
        }
        "resume_api_token" => {
            let a = actor!();
            outcome(r.resume_api_token(a.as_ref(), text(args, "token_id")?))
        }
        "revoke_api_token" => {
            let a = actor!();
            outcome(r.revoke_api_token(a.as_ref(), text(args, "token_id")?))
        }
        "replace_api_token" => {
            let a = actor!();
            outcome(r.replace_api_token(a.as_ref(), text(args, "token_id")?, now))
        }
        "open_session" => outcome(r.open_session(text(args, "secret")?, now)),
        "renew" => outcome(r.renew(text(args, "token")?, now)),
        "close" => outcome(r.close(text(args, "token")?, now)),
        "restart" => {
            r.restart();
            Ok(Value::Null)
        }
        "authenticate" => outcome(r.authenticate(text(args, "header")?, now)),
        "snapshot" => Ok(r.snapshot()),
        "restore" => match Realm::restore(case.policy, arg(args, "snapshot")?, case.key, &case.options) {
            Ok(restored) => {
                *realm = restored;
                Ok(Value::Null)
            }
            Err(e) => Err(error_json(&e)),
        },
        other => return Err(format!("unknown call `{other}`")),
    })
}

/// Runs one `op: "realm"` case: `{"steps": N}`, or the error building the
/// realm threw; `Err` for a wrong step answer or a fault in the vector.
fn run_case(case: &Value, file_policy: &Value) -> Result<Outcome, String> {
    let policy = case.get("policy").unwrap_or(file_policy);
    let key = case.get("key").ok_or("case has no `key`")?;
    let options = match case.get("options") {
        None | Some(Value::Null) => RealmOptions::default(),
        Some(o) => match RealmOptions::from_json(o) {
            Ok(o) => o,
            Err(e) => return Ok(Err(error_json(&e))),
        },
    };
    let built = match case.get("snapshot") {
        None => Realm::new(policy, key, &options),
        Some(s) => Realm::restore(policy, s, key, &options),
    };
    let mut realm = match built {
        Ok(r) => r,
        Err(e) => return Ok(Err(error_json(&e))),
    };
    let c = Case { policy, key, options };
    let steps = case
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("case has no `steps` array")?;
    let mut saved = Saved::default();
    for (i, step) in steps.iter().enumerate() {
        let at = |msg: String| format!("step {i} ({}): {msg}", step.get("call").unwrap_or(&Value::Null));
        let name = step
            .get("call")
            .and_then(Value::as_str)
            .ok_or_else(|| at("no `call`".into()))?;
        let args = match step.get("args") {
            None => Map::new(),
            Some(a) => match saved.resolve(a).map_err(at)? {
                Value::Object(m) => m,
                _ => return Err(at("`args` must be an object".into())),
            },
        };
        let now = match step.get("now") {
            None | Some(Value::Null) => None,
            Some(n) => Some(n.as_i64().ok_or_else(|| at("`now` must be an integer".into()))?),
        };
        let got = call(&mut realm, &c, name, &args, now).map_err(at)?;
        if let Some(expect) = step.get("expect") {
            let expect = saved.resolve(expect).map_err(at)?;
            if let Some(diff) = compare(&expect, &got) {
                return Err(at(diff));
            }
        } else if let Err(e) = &got {
            return Err(at(format!("expected success, got error {e}")));
        }
        if let Some(save) = step.get("save") {
            let save = save
                .as_str()
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                .ok_or_else(|| at("`save` must be a name of [A-Za-z0-9_]".into()))?;
            match got {
                Ok(v) => {
                    saved.0.insert(save.to_string(), v);
                }
                Err(e) => return Err(at(format!("cannot save an error ({e})"))),
            }
        }
    }
    Ok(Ok(json!({"steps": steps.len()})))
}

#[test]
fn realm_vectors() {
    let files = vector_files();
    assert!(files.len() >= 4, "realm vector files missing: {files:?}");
    let (mut passed, mut steps, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("JSON");
        let policy = doc.get("policy").cloned().unwrap_or(Value::Null);
        let mut names = std::collections::HashSet::new();
        for case in doc["cases"].as_array().expect("cases") {
            let label = format!("{name} / {}", case["name"].as_str().unwrap_or("?"));
            for key in ["name", "spec", "op", "expect"] {
                assert!(case.get(key).is_some(), "{label}: case without `{key}`");
            }
            assert!(names.insert(case["name"].clone()), "{label}: name used twice");
            assert_eq!(case["op"], "realm", "{label}");
            match run_case(case, &policy) {
                Err(fault) => failures.push(format!("{label}: {fault}")),
                Ok(got) => match compare(&case["expect"], &got) {
                    None => {
                        passed += 1;
                        steps += case["steps"].as_array().map_or(0, Vec::len);
                    }
                    Some(diff) => failures.push(format!("{label}: {diff}")),
                },
            }
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    println!("realm vectors: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} realm vector case(s) failed",
        failures.len()
    );
    assert!(passed >= 20, "only {passed} realm cases");
    eprintln!(
        "{passed} realm cases ({steps} steps) passed in {} files",
        files.len()
    );
}

#[test]
fn references_resolve_as_documented() {
    let mut saved = Saved::default();
    saved.0.insert(
        "t".into(),
        json!({"secret": "tsr_a_b", "record": {"id": "a", "roles": ["user"]}, "n": 5}),
    );
    assert_eq!(
        saved.resolve(&json!("${t.record}")).unwrap(),
        json!({"id": "a", "roles": ["user"]})
    );
    assert_eq!(
        saved.resolve(&json!("${t.record.roles.0}")).unwrap(),
        json!("user")
    );
    assert_eq!(
        saved.resolve(&json!("Bearer ${t.secret}")).unwrap(),
        json!("Bearer tsr_a_b")
    );
    assert_eq!(saved.resolve(&json!("${t.n}")).unwrap(), json!(5));
    assert_eq!(saved.resolve(&json!("n=${t.n}")).unwrap(), json!("n=5"));
    assert_eq!(
        saved.resolve(&json!({"a": ["${t.record.id}", 1]})).unwrap(),
        json!({"a": ["a", 1]})
    );
    assert!(saved.resolve(&json!("${u}")).is_err());
    assert!(saved.resolve(&json!("${t.nope}")).is_err());
    assert!(saved.resolve(&json!("x ${t.record}")).is_err());
    assert!(saved.resolve(&json!("${t.secret")).is_err());
    assert_eq!(
        saved.resolve(&json!("plain $ text")).unwrap(),
        json!("plain $ text")
    );
    assert!(same(&json!({"token": "*"}), &json!({"token": "x"})));
    assert!(!same(&json!({"token": "*"}), &json!({"token": ""})));
    assert!(!same(&json!({"a": 1}), &json!({"a": 1, "b": null})));
}

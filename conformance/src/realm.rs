//! `op: "realm"` cases: the step language of docs/realm.md ("Conformance
//! steps"): build a realm, run its steps in order with `now`, `save` and
//! `${name.path}` references, and compare each step's `expect`.
//!
//! The case's result is `{"steps": N}` when all N steps gave what they
//! expect; a wrong answer, or a fault in the vector (unknown call, missing
//! argument, unknown reference, saving an error), is a fault of the case.

use crate::{compare, error_json, Outcome};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tessera::token::ApiTokenOptions;
use tessera::{Principal, Realm, RealmOptions, UserOptions};

fn outcome<T: serde::Serialize>(r: tessera::Result<T>) -> Outcome {
    r.map(|v| serde_json::to_value(v).expect("results serialize"))
        .map_err(|e| error_json(&e))
}

/// Values saved by earlier steps of one case.
#[derive(Default)]
pub struct Saved(pub HashMap<String, Value>);

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
    pub fn resolve(&self, v: &Value) -> Result<Value, String> {
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
        "restart" => outcome(r.restart()),
        "seq" => Ok(Value::from(r.seq())),
        "changes" | "changes_text" => {
            let after = match args.get("after_seq") {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_u64().ok_or("`after_seq` must be a non-negative integer")?,
            };
            match r.changes(after) {
                Ok(texts) if name == "changes" => Ok(Value::Array(
                    texts
                        .iter()
                        .map(|t| serde_json::from_str(t).expect("records are JSON"))
                        .collect(),
                )),
                other => outcome(other),
            }
        }
        "apply" => match arg(args, "records")? {
            Value::Array(records) => outcome(r.apply(records)),
            _ => return Err("`records` must be an array".into()),
        },
        "authenticate" => outcome(r.authenticate(text(args, "header")?, now)),
        "snapshot" => {
            // Every binding's snapshot text and row count must agree with it.
            let snap = r.snapshot();
            let text: Value = serde_json::from_str(&r.snapshot_text()).map_err(|e| e.to_string())?;
            let rows: usize = ["users", "api_tokens", "sessions"]
                .iter()
                .map(|k| snap[k].as_array().map_or(0, Vec::len))
                .sum();
            if text != snap || r.rows() != rows {
                return Err(format!(
                    "snapshot_text or rows ({}) disagree with the snapshot",
                    r.rows()
                ));
            }
            Ok(snap)
        }
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
pub fn run_case(case: &Value, policy: &Value) -> Result<Outcome, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn a_failing_step_fails_the_case() {
        let policy = json!({"version": 1, "roles": {"user": {}, "admin": {}}});
        let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
        let options = json!({"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}});
        let step = |expect: Value| json!({"call": "create_user", "args": {"username": "root"}, "now": 1, "expect": expect});
        let case =
            |expect: Value| json!({"op": "realm", "key": key, "options": options, "steps": [step(expect)]});
        let good = json!({"id": "*", "username": "root", "roles": ["admin"], "has_password": false, "created_at": 1});
        assert_eq!(
            run_case(&case(good.clone()), &policy).unwrap().unwrap(),
            json!({"steps": 1})
        );
        let mut bad = good;
        bad["roles"] = json!(["user"]);
        assert!(run_case(&case(bad), &policy).is_err());
        let unknown =
            json!({"op": "realm", "key": key, "options": options, "steps": [{"call": "frobnicate"}]});
        assert!(run_case(&unknown, &policy).is_err());
    }
}

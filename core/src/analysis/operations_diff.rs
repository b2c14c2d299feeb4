//! The operations part of a diff: which operations (SPEC §5) changed access
//! between two policies, by key.
//!
//! An entry is compared by meaning: a missing `access` is `authenticated`,
//! an access object with no requirement is `authenticated` too, and the
//! lists in it are sets. An entry that reads the same on both sides still
//! changed access when its permission's decisions changed for some holder,
//! or when inheritance changed which holders reach one of its `roles_any`.

use super::change::Change;
use super::index::Index;
use super::{Holder, HolderKind};
use crate::label::parse_label;
use crate::policy::CompiledPolicy;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// One operation whose access differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationChange {
    /// The operation's key (an RPC name or `METHOD /path`).
    pub operation: String,
    /// `added`, `removed`, `changed` (the entry itself), or `access` (the
    /// same entry, but who passes it changed).
    pub change: &'static str,
    /// The entry in policy A, normalised (absent: `null`).
    pub a: Option<Value>,
    /// The entry in policy B, normalised.
    pub b: Option<Value>,
    /// For `access`: the holders whose answer changed.
    pub holders: Vec<Holder>,
}

fn set(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = v
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// An operation entry in one canonical form.
fn normalise(entry: &Value) -> Value {
    let access = match entry.get("access") {
        None => json!("authenticated"),
        Some(Value::Object(req)) => {
            let mut m = Map::new();
            for key in ["groups_all", "roles_any", "scopes_any"] {
                let list = set(req.get(key));
                if !list.is_empty() {
                    m.insert(key.into(), json!(list));
                }
            }
            if m.is_empty() {
                json!("authenticated")
            } else {
                Value::Object(m)
            }
        }
        Some(other) => other.clone(),
    };
    json!({
        "access": access,
        "credential": entry.get("credential").cloned().unwrap_or(Value::Null),
        "permission": entry.get("permission").cloned().unwrap_or(Value::Null),
    })
}

fn entries(policy: &CompiledPolicy) -> Vec<(String, Value)> {
    policy
        .document()
        .get("operations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), normalise(v)))
        .collect()
}

/// Whether a holder reaches one of `roles` (SPEC §5 `roles_any`).
fn reaches(index: &Index, holder: &Holder, roles: &[String]) -> bool {
    let seeds: Vec<usize> = match holder.kind {
        HolderKind::Role => index.role(&holder.name).into_iter().collect(),
        HolderKind::Group => index
            .groups
            .iter()
            .find(|(g, _)| **g == *holder.name)
            .map(|(_, r)| r.clone())
            .unwrap_or_default(),
        HolderKind::Grant => Vec::new(),
    };
    index
        .closure_paths(&seeds)
        .iter()
        .any(|(r, _)| roles.iter().any(|n| *n == *index.roles[*r].name))
}

pub(crate) fn diff(
    ia: &Index,
    a: &CompiledPolicy,
    ib: &Index,
    b: &CompiledPolicy,
    changes: &[Change],
) -> Vec<OperationChange> {
    let (ea, eb) = (entries(a), entries(b));
    let mut out = Vec::new();
    let find =
        |list: &[(String, Value)], key: &str| list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut keys: Vec<&String> = ea.iter().map(|(k, _)| k).collect();
    keys.extend(eb.iter().map(|(k, _)| k).filter(|k| find(&ea, k).is_none()));
    for key in keys {
        let (x, y) = (find(&ea, key), find(&eb, key));
        let change = |change, holders| OperationChange {
            operation: key.clone(),
            change,
            a: x.clone(),
            b: y.clone(),
            holders,
        };
        let (Some(entry_a), Some(entry_b)) = (&x, &y) else {
            out.push(change(if x.is_none() { "added" } else { "removed" }, Vec::new()));
            continue;
        };
        if entry_a != entry_b {
            out.push(change("changed", Vec::new()));
            continue;
        }
        let mut holders: Vec<Holder> = Vec::new();
        if let Some(text) = entry_a["permission"].as_str() {
            // The same text names the same action and subject on both sides.
            if let Ok(l) = parse_label(text, Some(a.vocabulary())) {
                for c in changes {
                    if c.action == l.action
                        && Some(&c.subject) == l.subject.as_ref()
                        && !holders.contains(&c.holder)
                    {
                        holders.push(c.holder.clone());
                    }
                }
            }
        }
        let roles_any = set(entry_a["access"].get("roles_any"));
        if !roles_any.is_empty() {
            let mut all: Vec<Holder> = Vec::new();
            for ix in [ia, ib] {
                for r in &ix.roles {
                    all.push(Holder::role(&r.name));
                }
                for (g, _) in &ix.groups {
                    all.push(Holder::group(g));
                }
            }
            for h in all {
                if reaches(ia, &h, &roles_any) != reaches(ib, &h, &roles_any) && !holders.contains(&h) {
                    holders.push(h);
                }
            }
        }
        if !holders.is_empty() {
            out.push(change("access", holders));
        }
    }
    out
}

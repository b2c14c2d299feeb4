//! Policy documents (SPEC §2): checked whole, every problem reported with a JSON
//! path, then compiled into the index decisions run on.
//!
//! Nothing here is lenient: an unknown key, a label that does not parse, a role
//! that does not exist or a cycle in `inherits` fails the load, because a policy
//! that silently ignores part of itself grants or denies the wrong things.

use crate::error::{Error, Problem, Result};
use crate::label::{self, Vocabulary};
use crate::operation_table::Operations;
use crate::rules::{Rule, RuleSet};
use crate::schema::{as_object, check_keys, index_path, key_path, string_list, wrong_type};
#[cfg(feature = "tokens")]
use crate::token::config::TokenConfig;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The only document version this engine reads.
pub const POLICY_VERSION: u64 = 1;

const TOP_KEYS: &[&str] = &[
    "version",
    "actions",
    "subjects",
    "roles",
    "groups",
    "grants",
    "operations",
    "tokens",
    "realm",
];

/// A role, compiled: its parents by index and its rules indexed by subject.
#[derive(Debug)]
pub(crate) struct Role {
    pub name: Arc<str>,
    pub inherits: Vec<usize>,
    pub rules: RuleSet,
}

/// Who the realm makes new users (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmSettings {
    /// The role of the first user created (default `admin`).
    pub bootstrap_role: String,
    /// The role of every later user (default `user`).
    pub default_role: String,
}

impl Default for RealmSettings {
    fn default() -> Self {
        RealmSettings {
            bootstrap_role: "admin".into(),
            default_role: "user".into(),
        }
    }
}

/// A loaded, checked and compiled policy. Immutable; the engine swaps whole
/// policies, never parts of one.
///
/// ```
/// use serde_json::json;
/// let p = tessera::CompiledPolicy::compile(&json!({
///     "version": 1,
///     "roles": {"user": {"permissions": ["read_own_device"]}},
///     "groups": {"staff": ["user"]}
/// })).unwrap();
/// assert_eq!(p.role_names(), vec!["user"]);
/// assert_eq!(p.roles_for_group("staff"), ["user".to_string()]);
/// ```
#[derive(Debug)]
pub struct CompiledPolicy {
    pub(crate) vocab: Vocabulary,
    pub(crate) roles: Vec<Role>,
    role_index: HashMap<String, usize>,
    groups: HashMap<String, Vec<String>>,
    pub(crate) group_roles: HashMap<String, Vec<usize>>,
    pub(crate) grants: Vec<RuleSet>,
    pub(crate) grant_index: HashMap<String, usize>,
    pub(crate) operations: Operations,
    #[cfg(feature = "tokens")]
    tokens: TokenConfig,
    realm: RealmSettings,
    document: Value,
}

impl CompiledPolicy {
    /// Checks and compiles a policy document; on failure the error lists every
    /// problem (`code`, `message`, `path`).
    pub fn compile(document: &Value) -> Result<CompiledPolicy> {
        let mut problems = Vec::new();
        let compiled = compile_document(document, &mut problems);
        match compiled {
            Some(policy) if problems.is_empty() => Ok(policy),
            _ => Err(Error::policy(problems)),
        }
    }

    /// The actions and subjects of this policy.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    /// The defined roles, in document order.
    pub fn role_names(&self) -> Vec<&str> {
        self.roles.iter().map(|r| &*r.name).collect()
    }

    /// Whether `role` is defined.
    pub fn has_role(&self, role: &str) -> bool {
        self.role_index.contains_key(role)
    }

    pub(crate) fn role_id(&self, role: &str) -> Option<usize> {
        self.role_index.get(role).copied()
    }

    /// The roles `policy.groups` maps `group` to (empty for an unknown group).
    pub fn roles_for_group(&self, group: &str) -> &[String] {
        self.groups.get(group).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The `tokens` section.
    #[cfg(feature = "tokens")]
    pub fn tokens(&self) -> &TokenConfig {
        &self.tokens
    }

    /// The `realm` section (bootstrap and default roles).
    pub fn realm_settings(&self) -> &RealmSettings {
        &self.realm
    }

    /// The document this policy was compiled from.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Parses a label against this policy's vocabulary and compiles it.
    pub(crate) fn compile_label(&self, text: &str) -> Result<Rule> {
        let parsed = label::parse_label(text, Some(&self.vocab))?;
        Ok(Rule::compile(&parsed, text, &self.vocab))
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn is_subject_name(s: &str) -> bool {
    s.split('_').all(is_ident)
}

/// Checks a vocabulary list (actions or subjects) and returns its names.
fn name_list(
    v: Option<&Value>,
    path: &str,
    defaults: &[&str],
    valid: fn(&str) -> Option<&'static str>,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let Some(v) = v else {
        return defaults.iter().map(|s| s.to_string()).collect();
    };
    let mut names: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (name, p) in string_list(v, path, problems) {
        if let Some(why) = valid(name) {
            problems.push(Problem::new("invalid_name", format!("`{name}` {why}"), p));
        } else if !seen.insert(name) {
            problems.push(Problem::new("duplicate", format!("`{name}` is listed twice"), p));
        } else {
            names.push(name.to_string());
        }
    }
    names
}

fn check_action(name: &str) -> Option<&'static str> {
    if !is_ident(name) {
        Some("is not an action name (lower-case letters and digits, starting with a letter)")
    } else if name == "admin" {
        Some("is always an action (every action); do not list it")
    } else {
        None
    }
}

fn check_subject(name: &str) -> Option<&'static str> {
    if !is_subject_name(name) {
        Some("is not a subject name (lower-case words joined by `_`)")
    } else if name == "admin" {
        Some("is reserved: `admin` is an action, never a subject")
    } else if name == "own" || name.starts_with("own_") {
        Some("is reserved: `own_` marks owned resources in labels")
    } else {
        None
    }
}

/// Parses a list of labels into a rule set, reporting each bad label at its path.
pub(crate) fn label_list(v: &Value, path: &str, vocab: &Vocabulary, problems: &mut Vec<Problem>) -> RuleSet {
    let mut rules = Vec::new();
    for (text, p) in string_list(v, path, problems) {
        match label::parse_label(text, Some(vocab)) {
            Ok(parsed) => rules.push(Rule::compile(&parsed, text, vocab)),
            Err(e) => problems.push(Problem::new(&e.code, e.message, p)),
        }
    }
    RuleSet::new(rules, vocab.subjects().len())
}

fn compile_document(doc: &Value, problems: &mut Vec<Problem>) -> Option<CompiledPolicy> {
    let root = as_object(doc, "", problems)?;
    check_keys(root, TOP_KEYS, "", problems);

    match root.get("version") {
        None => problems.push(Problem::new(
            "missing_key",
            "`version` is required (the current version is 1)",
            "version",
        )),
        Some(Value::Number(n)) if n.as_u64() == Some(POLICY_VERSION) => {}
        Some(Value::Number(n)) => problems.push(Problem::new(
            "unsupported_version",
            format!("policy version {n} is not supported (expected 1)"),
            "version",
        )),
        Some(other) => wrong_type(problems, "version", "the number 1", other),
    }

    let actions = name_list(
        root.get("actions"),
        "actions",
        label::DEFAULT_ACTIONS,
        check_action,
        problems,
    );
    let subjects = name_list(
        root.get("subjects"),
        "subjects",
        label::DEFAULT_SUBJECTS,
        check_subject,
        problems,
    );
    let vocab = Vocabulary::new(actions, subjects);

    let (roles, role_index) = compile_roles(root.get("roles"), &vocab, problems);
    let (groups, group_roles) = compile_groups(root.get("groups"), &role_index, problems);
    let (grants, grant_index) = compile_grants(root.get("grants"), &vocab, problems);
    let operations = match root.get("operations") {
        Some(v) => Operations::parse(v, "operations", &vocab, &role_index, problems),
        None => Operations::default(),
    };
    #[cfg(feature = "tokens")]
    let tokens = match root.get("tokens") {
        Some(v) => TokenConfig::parse(v, "tokens", problems),
        None => TokenConfig::default(),
    };
    let realm = compile_realm(root.get("realm"), &role_index, problems);

    Some(CompiledPolicy {
        vocab,
        roles,
        role_index,
        groups,
        group_roles,
        grants,
        grant_index,
        operations,
        #[cfg(feature = "tokens")]
        tokens,
        realm,
        document: doc.clone(),
    })
}

fn compile_roles(
    v: Option<&Value>,
    vocab: &Vocabulary,
    problems: &mut Vec<Problem>,
) -> (Vec<Role>, HashMap<String, usize>) {
    let mut roles = Vec::new();
    let mut index = HashMap::new();
    let Some(map) = v.and_then(|v| as_object(v, "roles", problems)) else {
        return (roles, index);
    };
    for (i, name) in map.keys().enumerate() {
        index.insert(name.clone(), i);
    }
    for (name, def) in map {
        let path = key_path("roles", name);
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                "invalid_name",
                format!("role name {:?} must be non-empty and hold no white space", name),
                path.clone(),
            ));
        }
        let mut role = Role {
            name: Arc::from(name.as_str()),
            inherits: Vec::new(),
            rules: RuleSet::new(Vec::new(), vocab.subjects().len()),
        };
        if let Some(def) = as_object(def, &path, problems) {
            check_keys(def, &["permissions", "inherits"], &path, problems);
            if let Some(perms) = def.get("permissions") {
                role.rules = label_list(perms, &key_path(&path, "permissions"), vocab, problems);
            }
            if let Some(parents) = def.get("inherits") {
                let ppath = key_path(&path, "inherits");
                let mut listed = HashSet::new();
                for (parent, p) in string_list(parents, &ppath, problems) {
                    match index.get(parent) {
                        Some(&j) if listed.insert(j) => role.inherits.push(j),
                        Some(_) => problems.push(Problem::new(
                            "duplicate",
                            format!("`{parent}` is listed twice"),
                            p,
                        )),
                        None => problems.push(Problem::new(
                            "unknown_role",
                            format!("role `{parent}` is not defined"),
                            p,
                        )),
                    }
                }
            }
        }
        roles.push(role);
    }
    report_cycles(&roles, problems);
    (roles, index)
}

/// Longest loop spelled out in a cycle message; longer ones are shortened,
/// so that reporting stays linear in the size of the policy.
const CYCLE_NAMES: usize = 12;

/// Reports each inheritance cycle once, at the `inherits` of the role where it
/// closes, with the loop in the message (its ends only, when it is long).
fn report_cycles(roles: &[Role], problems: &mut Vec<Problem>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; roles.len()];
    // Where each open role sits on the stack, and which roles reported.
    let mut depth = vec![0usize; roles.len()];
    let mut reported = vec![false; roles.len()];
    for start in 0..roles.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (role, next parent to visit); `stack` is the open path.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Open;
        depth[start] = 0;
        while let Some(&mut (role, ref mut next)) = stack.last_mut() {
            if let Some(&parent) = roles[role].inherits.get(*next) {
                *next += 1;
                match marks[parent] {
                    Mark::New => {
                        marks[parent] = Mark::Open;
                        depth[parent] = stack.len();
                        stack.push((parent, 0));
                    }
                    Mark::Open => {
                        if std::mem::replace(&mut reported[role], true) {
                            continue;
                        }
                        let loop_ = &stack[depth[parent]..];
                        let name = |&(r, _): &(usize, usize)| &*roles[r].name;
                        let mut names: Vec<&str> = Vec::with_capacity(CYCLE_NAMES + 2);
                        let spelled = if loop_.len() <= CYCLE_NAMES {
                            names.extend(loop_.iter().map(name));
                            String::new()
                        } else {
                            let half = CYCLE_NAMES / 2;
                            names.extend(loop_[..half].iter().map(name));
                            names.push("...");
                            names.extend(loop_[loop_.len() - half..].iter().map(name));
                            format!(" ({} roles)", loop_.len())
                        };
                        names.push(&roles[parent].name);
                        let path = key_path(&key_path("roles", &roles[role].name), "inherits");
                        problems.push(Problem::new(
                            "cycle",
                            format!("roles inherit in a cycle{spelled}: {}", names.join(" -> ")),
                            path,
                        ));
                    }
                    Mark::Done => {}
                }
            } else {
                marks[role] = Mark::Done;
                stack.pop();
            }
        }
    }
}

type Groups = (HashMap<String, Vec<String>>, HashMap<String, Vec<usize>>);

fn compile_groups(
    v: Option<&Value>,
    role_index: &HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> Groups {
    let mut names = HashMap::new();
    let mut ids = HashMap::new();
    let Some(map) = v.and_then(|v| as_object(v, "groups", problems)) else {
        return (names, ids);
    };
    for (group, roles) in map {
        let path = key_path("groups", group);
        let mut role_names = Vec::new();
        let mut role_ids = Vec::new();
        for (role, p) in string_list(roles, &path, problems) {
            match role_index.get(role) {
                Some(&id) => {
                    role_names.push(role.to_string());
                    role_ids.push(id);
                }
                None => problems.push(Problem::new(
                    "unknown_role",
                    format!("role `{role}` is not defined"),
                    p,
                )),
            }
        }
        names.insert(group.clone(), role_names);
        ids.insert(group.clone(), role_ids);
    }
    (names, ids)
}

fn compile_grants(
    v: Option<&Value>,
    vocab: &Vocabulary,
    problems: &mut Vec<Problem>,
) -> (Vec<RuleSet>, HashMap<String, usize>) {
    // Grants for one principal may be split over several entries; they merge in
    // document order so "first matching rule" stays well defined.
    let mut merged: Vec<(String, Vec<Rule>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let Some(v) = v else {
        return (Vec::new(), index);
    };
    let Value::Array(items) = v else {
        wrong_type(problems, "grants", "an array", v);
        return (Vec::new(), index);
    };
    for (i, item) in items.iter().enumerate() {
        let path = index_path("grants", i);
        let Some(obj) = as_object(item, &path, problems) else {
            continue;
        };
        check_keys(obj, &["principal", "permissions"], &path, problems);
        let ppath = key_path(&path, "principal");
        let principal = match obj.get("principal") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                problems.push(Problem::new(
                    "invalid_name",
                    "the principal id must not be empty",
                    ppath,
                ));
                None
            }
            Some(other) => {
                wrong_type(problems, &ppath, "a principal id (string)", other);
                None
            }
            None => {
                problems.push(Problem::new(
                    "missing_key",
                    "a grant names its `principal`",
                    ppath,
                ));
                None
            }
        };
        let rules = match obj.get("permissions") {
            Some(perms) => label_list(perms, &key_path(&path, "permissions"), vocab, problems).into_rules(),
            None => {
                problems.push(Problem::new(
                    "missing_key",
                    "a grant lists its `permissions`",
                    key_path(&path, "permissions"),
                ));
                Vec::new()
            }
        };
        if let Some(principal) = principal {
            let slot = *index.entry(principal.clone()).or_insert_with(|| {
                merged.push((principal, Vec::new()));
                merged.len() - 1
            });
            merged[slot].1.extend(rules);
        }
    }
    let sets = merged
        .into_iter()
        .map(|(_, rules)| RuleSet::new(rules, vocab.subjects().len()))
        .collect();
    (sets, index)
}

fn compile_realm(
    v: Option<&Value>,
    role_index: &HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> RealmSettings {
    let mut settings = RealmSettings::default();
    let Some(map) = v.and_then(|v| as_object(v, "realm", problems)) else {
        return settings;
    };
    check_keys(map, &["bootstrap_role", "default_role"], "realm", problems);
    for (key, slot) in [
        ("bootstrap_role", &mut settings.bootstrap_role),
        ("default_role", &mut settings.default_role),
    ] {
        let path = key_path("realm", key);
        match map.get(key) {
            None => {}
            Some(Value::String(role)) if role_index.contains_key(role) => *slot = role.clone(),
            Some(Value::String(role)) => problems.push(Problem::new(
                "unknown_role",
                format!("role `{role}` is not defined"),
                path,
            )),
            Some(other) => wrong_type(problems, &path, "a role name", other),
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(doc: Value) -> Vec<(String, String)> {
        let err = CompiledPolicy::compile(&doc).unwrap_err();
        assert_eq!(err.code, "invalid_policy");
        err.problems.into_iter().map(|p| (p.code, p.path)).collect()
    }

    fn pair(code: &str, path: &str) -> (String, String) {
        (code.to_string(), path.to_string())
    }

    #[test]
    fn spec_example_loads() {
        let doc = json!({
          "version": 1,
          "actions":  ["read", "create", "update", "delete", "push", "pull", "execute"],
          "subjects": ["device", "user", "stream", "token", "client"],
          "roles": {
            "user":  {"permissions": ["read_own_device", "update_own_device", "pull_own_stream"]},
            "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_user", "!delete_token"]},
            "owner": {"inherits": ["admin"], "permissions": ["admin"]},
            "manager": {"inherits": ["user"], "permissions": ["read_device", "read_user"]}
          },
          "groups": {"administrators": ["admin"], "managers": ["manager"]},
          "grants": [{"principal": "u-7", "permissions": ["update_device:dev-42"]}]
        });
        let p = CompiledPolicy::compile(&doc).unwrap();
        assert_eq!(p.role_names(), vec!["user", "admin", "owner", "manager"]);
        assert_eq!(p.roles_for_group("managers"), ["manager".to_string()]);
        assert!(p.roles_for_group("nobody").is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let got = problems(json!({
            "version": 2,
            "colour": "blue",
            "roles": {
                "admin": {"inherits": ["ghost"], "permissions": ["admin_device", "read_", "fly_device"]},
                "user": {"permissions": "read_device", "extra": 1}
            },
            "groups": {"staff": ["nobody"]},
            "grants": [{"permissions": ["read_device:d1", 3]}]
        }));
        let want = vec![
            pair("unknown_key", "colour"),
            pair("unsupported_version", "version"),
            pair("syntax", "roles.admin.permissions[1]"),
            pair("unknown_action", "roles.admin.permissions[2]"),
            pair("unknown_role", "roles.admin.inherits[0]"),
            pair("unknown_key", "roles.user.extra"),
            pair("wrong_type", "roles.user.permissions"),
            pair("unknown_role", "groups.staff[0]"),
            pair("missing_key", "grants[0].principal"),
            pair("wrong_type", "grants[0].permissions[1]"),
        ];
        for w in &want {
            assert!(got.contains(w), "missing {w:?} in {got:?}");
        }
        assert_eq!(got.len(), want.len(), "{got:?}");
    }

    #[test]
    fn cycles_are_found() {
        let got = problems(json!({"version": 1, "roles": {
            "a": {"inherits": ["b"]}, "b": {"inherits": ["c"]}, "c": {"inherits": ["a"]},
            "self": {"inherits": ["self"]}, "d": {"inherits": ["a"]}
        }}));
        assert_eq!(
            got,
            vec![
                pair("cycle", "roles.c.inherits"),
                pair("cycle", "roles.self.inherits")
            ]
        );
    }

    #[test]
    fn version_is_required_and_root_must_be_an_object() {
        assert_eq!(problems(json!({})), vec![pair("missing_key", "version")]);
        assert_eq!(problems(json!([1])), vec![pair("wrong_type", "")]);
        assert_eq!(
            problems(json!({"version": "1"})),
            vec![pair("wrong_type", "version")]
        );
    }

    #[test]
    fn vocabulary_is_checked() {
        let got = problems(json!({"version": 1,
            "actions": ["read", "read", "admin", "Fly"],
            "subjects": ["device", "own", "own_thing", "admin", "device_group", "bad__name"]}));
        assert_eq!(
            got,
            vec![
                pair("duplicate", "actions[1]"),
                pair("invalid_name", "actions[2]"),
                pair("invalid_name", "actions[3]"),
                pair("invalid_name", "subjects[1]"),
                pair("invalid_name", "subjects[2]"),
                pair("invalid_name", "subjects[3]"),
                pair("invalid_name", "subjects[5]"),
            ]
        );
    }

    #[test]
    fn custom_vocabulary_applies_to_labels() {
        let got = problems(json!({"version": 1, "actions": ["fly"], "subjects": ["drone"],
            "roles": {"pilot": {"permissions": ["fly_drone", "read_device"]}}}));
        assert_eq!(got, vec![pair("unknown_action", "roles.pilot.permissions[1]")]);
    }

    #[test]
    fn realm_roles_must_exist() {
        let got = problems(
            json!({"version": 1, "roles": {"user": {}}, "realm": {"bootstrap_role": "root", "default_role": 3}}),
        );
        assert_eq!(
            got,
            vec![
                pair("unknown_role", "realm.bootstrap_role"),
                pair("wrong_type", "realm.default_role")
            ]
        );
    }
}

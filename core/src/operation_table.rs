//! The `operations` table (SPEC §5), compiled: each key is an RPC name
//! (`Accounts.CreateUser`) or a route (`DELETE /api/v1/devices/{id}`) with
//! its access, credential and permission. Deciding a call is
//! [`crate::operations`]'s work.

use crate::error::{Problem, Result};
use crate::label::{self, Vocabulary};
use crate::request::Credential;
use crate::request_path::{decode_segment, request_segments, trim_trailing_slash};
use crate::schema::{as_object, check_keys, key_path, string_list, wrong_type};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Access {
    Public,
    Authenticated,
    Require {
        groups_all: Vec<String>,
        roles_any: Vec<String>,
        scopes_any: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Permission {
    pub action: String,
    pub subject: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub access: Access,
    pub credential: Option<Credential>,
    pub permission: Option<Permission>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct Route {
    method: String,
    segments: Vec<Segment>,
    literals: usize,
    entry: usize,
}

/// An entry found for a request, and the route's decoded `{id}` if it has one.
type Found<'t, 'a> = (&'t Entry, Option<Cow<'a, str>>);

/// The compiled `operations` table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Operations {
    entries: Vec<Entry>,
    exact: HashMap<String, usize>,
    routes: Vec<Route>,
}

/// Splits `METHOD /path` into its parts; `None` for an RPC name.
fn split_route(key: &str) -> Option<(&str, &str)> {
    let (method, path) = key.split_once(' ')?;
    Some((method, path.trim_start_matches(' ')))
}

fn is_param_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks an operation key; returns its route form, or `None` for an RPC name.
fn parse_key(key: &str) -> std::result::Result<Option<(String, Vec<Segment>)>, String> {
    let Some((method, path)) = split_route(key) else {
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("an operation is an RPC name (no white space) or `METHOD /path`".into());
        }
        return Ok(None);
    };
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(format!("`{method}` is not an HTTP method (upper-case letters)"));
    }
    if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
        return Err(format!(
            "`{path}` is not a path (it starts with `/`, with no query or white space)"
        ));
    }
    let mut segments = Vec::new();
    let mut params: Vec<&str> = Vec::new();
    for seg in trim_trailing_slash(path)[1..].split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if !is_param_name(name) {
                return Err(format!("`{{{name}}}` is not a parameter name"));
            }
            if params.contains(&name) {
                return Err(format!("parameter `{name}` appears twice"));
            }
            params.push(name);
            segments.push(Segment::Param(name.to_string()));
        } else if seg.contains(['{', '}']) {
            return Err(format!(
                "`{seg}`: a parameter takes a whole segment, like `{{id}}`"
            ));
        } else {
            let literal = decode_segment(seg).map_err(|why| format!("`{path}`: {why}"))?;
            segments.push(Segment::Literal(literal.into_owned()));
        }
    }
    Ok(Some((method.to_string(), segments)))
}

fn parse_access(
    v: &Value,
    path: &str,
    roles: &HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> Access {
    match v {
        Value::String(s) if s == "public" => Access::Public,
        Value::String(s) if s == "authenticated" => Access::Authenticated,
        Value::String(s) => {
            problems.push(Problem::new(
                "invalid_operation",
                format!("access `{s}` is not one of `public`, `authenticated`, or an object"),
                path,
            ));
            Access::Authenticated
        }
        Value::Object(map) => {
            check_keys(map, &["groups_all", "roles_any", "scopes_any"], path, problems);
            let mut list = |key: &str, known: Option<&HashMap<String, usize>>| -> Vec<String> {
                let Some(v) = map.get(key) else {
                    return Vec::new();
                };
                let mut names = Vec::new();
                for (name, p) in string_list(v, &key_path(path, key), problems) {
                    // Roles are the policy's own: a name it does not define is a typo.
                    if known.is_some_and(|roles| !roles.contains_key(name)) {
                        problems.push(Problem::new(
                            "unknown_role",
                            format!("role `{name}` is not defined"),
                            p,
                        ));
                    }
                    names.push(name.to_string());
                }
                names
            };
            let groups_all = list("groups_all", None);
            let roles_any = list("roles_any", Some(roles));
            let scopes_any = list("scopes_any", None);
            Access::Require {
                groups_all,
                roles_any,
                scopes_any,
            }
        }
        other => {
            wrong_type(problems, path, "`public`, `authenticated` or an object", other);
            Access::Authenticated
        }
    }
}

fn parse_permission(
    v: &Value,
    path: &str,
    vocab: &Vocabulary,
    problems: &mut Vec<Problem>,
) -> Option<Permission> {
    let Value::String(text) = v else {
        wrong_type(problems, path, "a permission label", v);
        return None;
    };
    let l = match label::parse_label(text, Some(vocab)) {
        Ok(l) => l,
        Err(e) => {
            problems.push(Problem::new(&e.code, e.message, path));
            return None;
        }
    };
    // An operation asks for one concrete action on one type; which instance and
    // whose it is come from the request, not from the table.
    match (
        &l.subject,
        l.is_deny() || l.own || l.instance.is_some() || l.action == "admin",
    ) {
        (Some(subject), false) => Some(Permission {
            action: l.action,
            subject: subject.clone(),
        }),
        _ => {
            problems.push(Problem::new(
                "invalid_permission",
                format!("`{text}`: an operation's permission is one action on one subject, like `delete_device` (no `!`, `own_`, `:instance` or `admin`)"),
                path,
            ));
            None
        }
    }
}

impl Operations {
    pub(crate) fn parse(
        v: &Value,
        path: &str,
        vocab: &Vocabulary,
        roles: &HashMap<String, usize>,
        problems: &mut Vec<Problem>,
    ) -> Operations {
        let mut ops = Operations::default();
        let Some(map) = as_object(v, path, problems) else {
            return ops;
        };
        for (key, def) in map {
            let kpath = key_path(path, key);
            let route = match parse_key(key) {
                Ok(route) => route,
                Err(why) => {
                    problems.push(Problem::new("invalid_operation", why, kpath));
                    continue;
                }
            };
            let Some(def) = as_object(def, &kpath, problems) else {
                continue;
            };
            check_keys(def, &["access", "credential", "permission"], &kpath, problems);
            let access = def
                .get("access")
                .map(|a| parse_access(a, &key_path(&kpath, "access"), roles, problems))
                .unwrap_or(Access::Authenticated);
            let credential = def.get("credential").and_then(|c| {
                let cpath = key_path(&kpath, "credential");
                match serde_json::from_value::<Credential>(c.clone()) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        problems.push(Problem::new(
                            "invalid_operation",
                            "`credential` is one of `jwt`, `session`, `api_token`",
                            cpath,
                        ));
                        None
                    }
                }
            });
            let permission = def
                .get("permission")
                .and_then(|p| parse_permission(p, &key_path(&kpath, "permission"), vocab, problems));
            if let Some((method, segments)) = &route {
                if let Some(other) = ops
                    .routes
                    .iter()
                    .find(|r| &r.method == method && &r.segments == segments)
                {
                    let other_key = ops
                        .exact
                        .iter()
                        .find(|(_, &i)| i == other.entry)
                        .map(|(k, _)| k.as_str());
                    problems.push(Problem::new(
                        "invalid_operation",
                        format!(
                            "`{key}` is the same route as `{}` (one trailing slash and percent-escapes are not significant)",
                            other_key.unwrap_or("another key")
                        ),
                        kpath,
                    ));
                    continue;
                }
            }
            let entry = ops.entries.len();
            ops.entries.push(Entry {
                access,
                credential,
                permission,
            });
            ops.exact.insert(key.clone(), entry);
            if let Some((method, segments)) = route {
                let literals = segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                ops.routes.push(Route {
                    method,
                    segments,
                    literals,
                    entry,
                });
            }
        }
        ops
    }

    /// Finds the entry for a request: the exact key, else the matching route
    /// with the most literal segments (first written on a tie); `HEAD` falls
    /// back to `GET` when no `HEAD` route matches. Returns the entry and the
    /// route's decoded `{id}` value, if any.
    pub(crate) fn find<'a>(&self, operation: &'a str) -> Result<Option<Found<'_, 'a>>> {
        if let Some(&i) = self.exact.get(operation) {
            return Ok(Some((&self.entries[i], None)));
        }
        let Some((method, path)) = split_route(operation) else {
            return Ok(None);
        };
        let Some(parts) = request_segments(path)? else {
            return Ok(None);
        };
        let found = self.find_route(method, &parts).or_else(|| {
            method
                .eq_ignore_ascii_case("HEAD")
                .then(|| self.find_route("GET", &parts))
                .flatten()
        });
        Ok(found.map(|(entry, id)| (entry, id.map(|i| parts[i].clone()))))
    }

    /// The best route for `method` over decoded `parts`, and which part is `{id}`.
    fn find_route(&self, method: &str, parts: &[Cow<'_, str>]) -> Option<(&Entry, Option<usize>)> {
        let mut best: Option<(&Route, Option<usize>)> = None;
        for route in &self.routes {
            if !route.method.eq_ignore_ascii_case(method) || route.segments.len() != parts.len() {
                continue;
            }
            let mut id = None;
            let fits = route
                .segments
                .iter()
                .zip(parts)
                .enumerate()
                .all(|(i, (seg, part))| match seg {
                    Segment::Literal(lit) => lit == part,
                    Segment::Param(name) => {
                        if name == "id" {
                            id = Some(i);
                        }
                        !part.is_empty()
                    }
                });
            if fits && best.is_none_or(|(b, _)| route.literals > b.literals) {
                best = Some((route, id));
            }
        }
        best.map(|(route, id)| (&self.entries[route.entry], id))
    }
}

//! JSON-shape checks shared by every section parser (policy, operations,
//! tokens): each wrong shape becomes a [`Problem`] with the JSON path of the
//! value, so one load reports every mistake at once.

use crate::error::{Error, Problem, Result};
use serde_json::{Map, Value};

/// Reads policy JSON text; a syntax error is a policy error at the root
/// (`invalid_json`). The one place that error is made: the bindings call this
/// (or [`crate::Engine::from_json`] / [`crate::Engine::load_json`]) for a
/// policy given as text.
///
/// ```
/// let e = tessera::schema::parse_policy_text("{").unwrap_err();
/// assert_eq!((e.code.as_str(), e.problems[0].code.as_str()), ("invalid_policy", "invalid_json"));
/// ```
///
/// A lone surrogate escape (`"\ud800"`) is `invalid_argument` instead, as a
/// lone surrogate is in every other string a binding is given:
///
/// ```
/// let e = tessera::schema::parse_policy_text(r#"{"version": 1, "roles": {"\udc00": {}}}"#).unwrap_err();
/// assert_eq!((e.code.as_str(), e.path.as_deref()), ("invalid_argument", Some("policy")));
/// ```
pub fn parse_policy_text(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        if is_lone_surrogate(text) {
            return Error::argument("policy: a string is not valid Unicode (lone surrogate)")
                .with_path("policy");
        }
        invalid_json(e.to_string())
    })
}

/// [`parse_policy_text`] for bytes, which must be UTF-8: bytes that are not
/// are `invalid_json` too (a host reading a policy file passes its bytes).
///
/// ```
/// let e = tessera::schema::parse_policy_bytes(b"\xff").unwrap_err();
/// assert_eq!(e.problems[0].code, "invalid_json");
/// assert!(tessera::schema::parse_policy_bytes(br#"{"version": 1}"#).is_ok());
/// ```
pub fn parse_policy_bytes(bytes: &[u8]) -> Result<Value> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_policy_text(text),
        Err(e) => Err(invalid_json(format!("not UTF-8 ({e})"))),
    }
}

fn invalid_json(why: String) -> Error {
    Error::policy(vec![Problem::new(
        "invalid_json",
        format!("policy is not valid JSON: {why}"),
        "",
    )])
}

/// Whether JSON text that failed to parse holds an unpaired UTF-16
/// surrogate escape (`"\ud800"`), which serde_json reports under several
/// messages.
pub fn is_lone_surrogate(text: &str) -> bool {
    let bytes = text.as_bytes();
    let hex = |at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2; // an escaped character, `\\` included
            continue;
        }
        match hex(i + 2) {
            Some(0xD800..=0xDBFF) => {
                let low = (bytes.get(i + 6) == Some(&b'\\') && bytes.get(i + 7) == Some(&b'u'))
                    .then(|| hex(i + 8))
                    .flatten();
                if !matches!(low, Some(0xDC00..=0xDFFF)) {
                    return true;
                }
                i += 12;
            }
            Some(0xDC00..=0xDFFF) => return true,
            _ => i += 6,
        }
    }
    false
}

/// `base.key`, or `base["key"]` when the key is not a plain name.
pub(crate) fn key_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (plain, base.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{base}.{key}"),
        (false, _) => format!("{base}[{}]", Value::String(key.to_string())),
    }
}

pub(crate) fn index_path(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn wrong_type(problems: &mut Vec<Problem>, path: &str, expected: &str, found: &Value) {
    problems.push(Problem::new(
        "wrong_type",
        format!("expected {expected}, found {}", type_name(found)),
        path,
    ));
}

/// The value as an object, or a `wrong_type` problem.
pub(crate) fn as_object<'a>(
    v: &'a Value,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'a Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            wrong_type(problems, path, "an object", other);
            None
        }
    }
}

/// Reports every key of `map` not in `allowed`.
pub(crate) fn check_keys(
    map: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
    problems: &mut Vec<Problem>,
) {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            problems.push(Problem::new(
                "unknown_key",
                format!("unknown key `{key}` (expected one of: {})", allowed.join(", ")),
                key_path(path, key),
            ));
        }
    }
}

/// A list of strings, each with its path; wrong items are reported and skipped.
pub(crate) fn string_list<'a>(
    v: &'a Value,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(&'a str, String)> {
    let Value::Array(items) = v else {
        wrong_type(problems, path, "an array of strings", v);
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = index_path(path, i);
        match item {
            Value::String(s) => out.push((s.as_str(), p)),
            other => wrong_type(problems, &p, "a string", other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        assert_eq!(key_path("operations", "GET /x"), "operations[\"GET /x\"]");
        assert_eq!(key_path("roles", "admin"), "roles.admin");
        assert_eq!(key_path("", "roles"), "roles");
    }

    #[test]
    fn invalid_json_text_is_a_policy_error() {
        let e = parse_policy_text("{").unwrap_err();
        assert_eq!(e.problems[0].code, "invalid_json");
    }
}

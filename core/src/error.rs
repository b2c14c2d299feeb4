//! The one error type every fallible call returns.
//!
//! Errors carry a stable machine `code` (part of the contract in SPEC), a human
//! `message`, and where it applies the JSON `path` or byte `offset` of the fault.
//! Policy loads report every problem at once in `problems`.

use serde::Serialize;
use std::fmt;

/// Which family an error belongs to; bindings map each to an exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A permission label did not parse (`syntax`, `unknown_action`, ...).
    Label,
    /// A policy document did not load; see [`Error::problems`].
    Policy,
    /// A credential was refused (`expired`, `bad_signature`, ...).
    Token,
    /// An argument had the wrong shape or type (`invalid_argument`).
    Argument,
    /// A realm operation was refused (`forbidden`, `not_found`, ...).
    Realm,
}

/// One problem found while loading a policy.
///
/// ```
/// let p = tessera::Problem::new("unknown_role", "role `ghost` is not defined", "roles.admin.inherits[0]");
/// assert_eq!(p.path, "roles.admin.inherits[0]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable snake_case code (`syntax`, `unknown_role`, `wrong_type`, ...).
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// The JSON path of the value at fault (`roles.admin.inherits[0]`; empty for the root).
    pub path: String,
}

impl Problem {
    /// A problem with its code, message and JSON path.
    pub fn new(code: &str, message: impl Into<String>, path: impl Into<String>) -> Self {
        Problem {
            code: code.to_string(),
            message: message.into(),
            path: path.into(),
        }
    }
}

/// The error type of the crate.
///
/// ```
/// let err = tessera::parse_label("read_", None).unwrap_err();
/// assert_eq!(err.code, "syntax");
/// assert_eq!(err.offset, Some(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    /// Which family of error this is.
    pub kind: ErrorKind,
    /// Stable snake_case code, part of the contract.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// The JSON path of the argument at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where in the label the error is (SPEC §1), for label errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// Every problem of an invalid policy (`invalid_policy`); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl Error {
    /// An error of `kind` with `code` and `message`, and nothing else.
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Error {
            kind,
            code: code.to_string(),
            message: message.into(),
            path: None,
            offset: None,
            problems: Vec::new(),
        }
    }

    /// A token error with one of the codes of SPEC §6.
    pub fn token(code: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Token, code, message)
    }

    /// A wrongly shaped argument (wrong JSON type, unknown field, ...). A
    /// message that starts with the argument's path (`principal.roles[1]: ...`,
    /// `now: ...`) also gives the error that `path`.
    ///
    /// ```
    /// let e = tessera::Error::argument("requests[2][1].type: expected a string, found null");
    /// assert_eq!(e.path.as_deref(), Some("requests[2][1].type"));
    /// assert_eq!(tessera::Error::argument("no path here").path, None);
    /// ```
    pub fn argument(message: impl Into<String>) -> Self {
        let message = message.into();
        let path = message
            .split_once(": ")
            .map(|(head, _)| head)
            .filter(|head| is_path(head))
            .map(str::to_string);
        Error {
            path,
            ..Error::new(ErrorKind::Argument, "invalid_argument", message)
        }
    }

    /// A realm refusal (`forbidden`, `not_found`, `conflict`, ...).
    pub fn realm(code: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Realm, code, message)
    }

    /// A failed policy load carrying every problem found.
    pub fn policy(problems: Vec<Problem>) -> Self {
        let message = match problems.as_slice() {
            [] => "policy is invalid".to_string(),
            [one] => format!("invalid policy: {} (at {})", one.message, one.path),
            [first, rest @ ..] => format!(
                "invalid policy: {} (at {}) and {} more problem(s)",
                first.message,
                first.path,
                rest.len()
            ),
        };
        Error {
            kind: ErrorKind::Policy,
            code: "invalid_policy".to_string(),
            message,
            path: None,
            offset: None,
            problems,
        }
    }

    /// The same error, with `path` set.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// Whether `text` reads as a JSON path of an argument: a name, then
/// `.name`, `[index]` or `["key"]` steps.
pub(crate) fn is_path(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && !text.contains(' ')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '"' | '-'))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

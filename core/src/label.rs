//! Permission labels (SPEC §1): `read_own_device`, `admin_device`, `!delete_token`,
//! `update_device:dev-42`, `admin`, `admin_own`.
//!
//! The grammar is parsed with nom; the vocabulary (which actions and subjects
//! exist) is checked afterwards so that a syntax error is always reported first,
//! at the byte where the text stops making sense.

use crate::error::{Error, ErrorKind, Result};
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::{opt, recognize};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Longest label accepted, in bytes.
pub const MAX_LABEL_LEN: usize = 256;
/// Longest `:instance` accepted, in bytes.
pub const MAX_INSTANCE_LEN: usize = 128;

/// The actions a policy has when it does not list its own.
pub const DEFAULT_ACTIONS: &[&str] = &["read", "create", "update", "delete", "push", "pull", "execute"];
/// The subjects a policy has when it does not list its own.
pub const DEFAULT_SUBJECTS: &[&str] = &["device", "user", "stream", "token", "client"];

/// Whether a label grants or takes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The label grants.
    Allow,
    /// The label (`!...`) takes away.
    Deny,
}

/// A parsed permission label.
///
/// ```
/// let l = tessera::parse_label("update_device:dev-42", None).unwrap();
/// assert_eq!(l.action, "update");
/// assert_eq!(l.subject.as_deref(), Some("device"));
/// assert_eq!(l.instance.as_deref(), Some("dev-42"));
/// assert_eq!(l.to_string(), "update_device:dev-42");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    /// Allow, or deny (`!`).
    pub effect: Effect,
    /// An action of the policy, or `admin` for every action.
    pub action: String,
    /// Limited to resources the principal owns.
    pub own: bool,
    /// `None` only for bare `admin` / `admin_own` (every subject).
    pub subject: Option<String>,
    /// Limited to one resource id.
    pub instance: Option<String>,
}

impl Label {
    /// The canonical text of the label; parsing it gives the same label back.
    ///
    /// ```
    /// let l = tessera::parse_label("!admin_own", None).unwrap();
    /// assert_eq!(l.format(), "!admin_own");
    /// ```
    pub fn format(&self) -> String {
        self.to_string()
    }

    /// Whether the label denies (`!...`).
    pub fn is_deny(&self) -> bool {
        self.effect == Effect::Deny
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_deny() {
            f.write_str("!")?;
        }
        f.write_str(&self.action)?;
        match &self.subject {
            None => {
                if self.own {
                    f.write_str("_own")?;
                }
            }
            Some(subject) => {
                f.write_str("_")?;
                if self.own {
                    f.write_str("own_")?;
                }
                f.write_str(subject)?;
                if let Some(instance) = &self.instance {
                    write!(f, ":{instance}")?;
                }
            }
        }
        Ok(())
    }
}

/// The actions and subjects labels may name.
///
/// ```
/// let v = tessera::Vocabulary::default();
/// assert_eq!(v.action_index("read"), Some(0));
/// assert_eq!(v.subject_index("stream"), Some(2));
/// assert_eq!(v.action_index("admin"), None); // admin means "every action", never a request
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    actions: Vec<String>,
    subjects: Vec<String>,
    /// Positions by name, for long lists only (see [`Names`]).
    action_names: Names,
    subject_names: Names,
}

/// Most vocabularies are a handful of words, where a scan beats hashing;
/// a long one (a policy may list thousands) is looked up in a map, so that
/// loading and deciding stay linear in the policy's size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Names(Option<HashMap<String, usize>>);

/// Lists longer than this are indexed.
const SCAN_LIMIT: usize = 16;

impl Names {
    fn of(list: &[String]) -> Names {
        Names(
            (list.len() > SCAN_LIMIT).then(|| list.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect()),
        )
    }

    #[inline]
    fn find(&self, list: &[String], name: &str) -> Option<usize> {
        match &self.0 {
            Some(map) => map.get(name).copied(),
            None => list.iter().position(|a| a == name),
        }
    }
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::new(
            DEFAULT_ACTIONS.iter().map(|s| s.to_string()).collect(),
            DEFAULT_SUBJECTS.iter().map(|s| s.to_string()).collect(),
        )
    }
}

impl Vocabulary {
    /// A vocabulary from lists already checked by the policy loader.
    pub(crate) fn new(actions: Vec<String>, subjects: Vec<String>) -> Self {
        Vocabulary {
            action_names: Names::of(&actions),
            subject_names: Names::of(&subjects),
            actions,
            subjects,
        }
    }

    /// The actions, in the policy's order.
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// The subjects, in the policy's order.
    pub fn subjects(&self) -> &[String] {
        &self.subjects
    }

    /// Position of `action` in the policy's list.
    #[inline]
    pub fn action_index(&self, action: &str) -> Option<usize> {
        self.action_names.find(&self.actions, action)
    }

    /// Position of `subject` in the policy's list.
    #[inline]
    pub fn subject_index(&self, subject: &str) -> Option<usize> {
        self.subject_names.find(&self.subjects, subject)
    }
}

/// Parses a label, checking its action and subject against `vocabulary`
/// (the default actions and subjects when `None`).
///
/// ```
/// use tessera::{parse_label, Effect};
/// let l = parse_label("!delete_own_token", None).unwrap();
/// assert_eq!((l.effect, l.own), (Effect::Deny, true));
///
/// let e = parse_label("fly_device", None).unwrap_err();
/// assert_eq!((e.code.as_str(), e.offset), ("unknown_action", Some(0)));
/// ```
pub fn parse_label(text: &str, vocabulary: Option<&Vocabulary>) -> Result<Label> {
    let default;
    let vocabulary = match vocabulary {
        Some(v) => v,
        None => {
            default = Vocabulary::default();
            &default
        }
    };
    let raw = parse_syntax(text)?;
    if raw.action != "admin" && vocabulary.action_index(raw.action).is_none() {
        return Err(label_error(
            "unknown_action",
            format!("unknown action `{}`", raw.action),
            raw.action_at,
        ));
    }
    if let Some(subject) = raw.subject {
        if vocabulary.subject_index(subject).is_none() {
            return Err(label_error(
                "unknown_subject",
                format!("unknown subject `{subject}`"),
                raw.subject_at,
            ));
        }
    }
    Ok(Label {
        effect: if raw.deny { Effect::Deny } else { Effect::Allow },
        action: raw.action.to_string(),
        own: raw.own,
        subject: raw.subject.map(str::to_string),
        instance: raw.instance.map(str::to_string),
    })
}

/// A label split into its parts, before the vocabulary is consulted.
struct RawLabel<'a> {
    deny: bool,
    action: &'a str,
    action_at: usize,
    own: bool,
    subject: Option<&'a str>,
    subject_at: usize,
    instance: Option<&'a str>,
}

fn label_error(code: &str, message: impl Into<String>, offset: usize) -> Error {
    let mut e = Error::new(ErrorKind::Label, code, message);
    e.offset = Some(offset);
    e
}

fn is_lower(c: char) -> bool {
    c.is_ascii_lowercase()
}

fn is_ident_tail(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_instance_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '~')
}

/// `ident = lower-alpha *( lower-alpha / DIGIT )`
fn ident(input: &str) -> IResult<&str, &str> {
    recognize((satisfy(is_lower), take_while(is_ident_tail))).parse(input)
}

/// `subject = ident *("_" ident)`
fn subject(input: &str) -> IResult<&str, &str> {
    recognize((ident, many0(preceded(char('_'), ident)))).parse(input)
}

fn parse_syntax(text: &str) -> Result<RawLabel<'_>> {
    if text.len() > MAX_LABEL_LEN {
        return Err(label_error(
            "too_long",
            format!(
                "a label is at most {MAX_LABEL_LEN} bytes, this one has {}",
                text.len()
            ),
            MAX_LABEL_LEN,
        ));
    }
    let at = |rest: &str| text.len() - rest.len();
    let syntax = |rest: &str, what: &str| {
        let offset = text.len() - rest.len();
        let found = match rest.chars().next() {
            Some(c) => format!("`{}`", c.escape_default()),
            None => "the end".to_string(),
        };
        label_error(
            "syntax",
            format!("expected {what}, found {found} at byte {offset}"),
            offset,
        )
    };

    let (rest, bang) = opt(char::<&str, nom::error::Error<&str>>('!'))
        .parse(text)
        .map_err(|_| syntax(text, "`!` or an action"))?;
    let action_at = at(rest);
    let (rest, action) =
        ident(rest).map_err(|_| syntax(rest, "an action (lower-case letters and digits)"))?;
    let mut raw = RawLabel {
        deny: bang.is_some(),
        action,
        action_at,
        own: false,
        subject: None,
        subject_at: 0,
        instance: None,
    };

    // `admin` and `admin_own` stand alone: every action on every subject.
    if action == "admin" {
        if rest.is_empty() {
            return Ok(raw);
        }
        if rest == "_own" {
            raw.own = true;
            return Ok(raw);
        }
    }

    let (rest, _) = char::<&str, nom::error::Error<&str>>('_')
        .parse(rest)
        .map_err(|_| syntax(rest, "`_` after the action"))?;
    let (rest, own) = opt(tag::<&str, &str, nom::error::Error<&str>>("own_"))
        .parse(rest)
        .map_err(|_| syntax(rest, "a subject"))?;
    raw.own = own.is_some();
    raw.subject_at = at(rest);
    let (rest, subj) =
        subject(rest).map_err(|_| syntax(rest, "a subject (lower-case letters and digits)"))?;
    raw.subject = Some(subj);

    let rest = if let Some(after_colon) = rest.strip_prefix(':') {
        if raw.own {
            return Err(label_error(
                "own_with_instance",
                "`own_` and `:instance` cannot be combined: an instance grant already names the resource",
                at(rest),
            ));
        }
        let start = at(after_colon);
        let (after, instance) = take_while1::<_, &str, nom::error::Error<&str>>(is_instance_char)
            .parse(after_colon)
            .map_err(|_| syntax(after_colon, "an instance id (letters, digits, `-_.@~`)"))?;
        // The grammar allows 1*128 instance characters: the 129th is a syntax error.
        if instance.len() > MAX_INSTANCE_LEN {
            return Err(label_error(
                "syntax",
                format!("an instance id is at most {MAX_INSTANCE_LEN} bytes"),
                start + MAX_INSTANCE_LEN,
            ));
        }
        raw.instance = Some(instance);
        after
    } else {
        rest
    };
    if !rest.is_empty() {
        return Err(syntax(rest, "the end of the label"));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, Option<usize>) {
        let e = parse_label(text, None).unwrap_err();
        (e.code, e.offset)
    }

    #[test]
    fn every_form_parses_and_round_trips() {
        for text in [
            "admin",
            "admin_own",
            "!admin",
            "!admin_own",
            "read_own_device",
            "admin_device",
            "admin_own_device",
            "push_stream",
            "!delete_token",
            "update_device:dev-42",
            "read_user:alice@example.com",
            "admin_device:a.b_c~d",
        ] {
            let label = parse_label(text, None).unwrap();
            assert_eq!(label.format(), text);
        }
    }

    #[test]
    fn parts_are_right() {
        let l = parse_label("admin_own", None).unwrap();
        assert_eq!(
            (l.action.as_str(), l.own, l.subject.as_deref()),
            ("admin", true, None)
        );
        let l = parse_label("read_own_device", None).unwrap();
        assert_eq!(
            (l.action.as_str(), l.own, l.subject.as_deref()),
            ("read", true, Some("device"))
        );
        let l = parse_label("!delete_token", None).unwrap();
        assert_eq!(l.effect, Effect::Deny);
    }

    #[test]
    fn subjects_may_hold_underscores() {
        let vocab = Vocabulary::new(vec!["read".into()], vec!["device_group".into(), "device".into()]);
        let l = parse_label("read_own_device_group:g1", Some(&vocab)).unwrap_err();
        assert_eq!(l.code, "own_with_instance");
        let l = parse_label("read_device_group:g1", Some(&vocab)).unwrap();
        assert_eq!(l.subject.as_deref(), Some("device_group"));
        assert_eq!(l.instance.as_deref(), Some("g1"));
        let l = parse_label("read_own_device_group", Some(&vocab)).unwrap();
        assert!(l.own);
        assert_eq!(l.subject.as_deref(), Some("device_group"));
    }

    #[test]
    fn errors_have_codes_and_offsets() {
        assert_eq!(err(""), ("syntax".into(), Some(0)));
        assert_eq!(err("read"), ("syntax".into(), Some(4)));
        assert_eq!(err("read_"), ("syntax".into(), Some(5)));
        assert_eq!(err("Read_device"), ("syntax".into(), Some(0)));
        assert_eq!(err("read_device "), ("syntax".into(), Some(11)));
        assert_eq!(err("read_device_"), ("syntax".into(), Some(11)));
        assert_eq!(err("read__device"), ("syntax".into(), Some(5)));
        assert_eq!(err("!!read_device"), ("syntax".into(), Some(1)));
        assert_eq!(err("read_device:"), ("syntax".into(), Some(12)));
        assert_eq!(err("read_device:a b"), ("syntax".into(), Some(13)));
        assert_eq!(err("admin:x"), ("syntax".into(), Some(5)));
        // `own` is never a subject, so this is `admin` on a subject `own`.
        assert_eq!(err("admin_own:x"), ("unknown_subject".into(), Some(6)));
        assert_eq!(err("fly_device"), ("unknown_action".into(), Some(0)));
        assert_eq!(err("!fly_device"), ("unknown_action".into(), Some(1)));
        assert_eq!(err("read_robot"), ("unknown_subject".into(), Some(5)));
        assert_eq!(err("read_own_robot"), ("unknown_subject".into(), Some(9)));
        assert_eq!(err("read_own"), ("unknown_subject".into(), Some(5)));
        assert_eq!(err("read_own_device:d1"), ("own_with_instance".into(), Some(15)));
        assert_eq!(
            err(&format!("read_device:{}", "x".repeat(129))),
            ("syntax".into(), Some(140))
        );
        assert_eq!(err(&"a".repeat(257)), ("too_long".into(), Some(256)));
        assert_eq!(err("read_dévice"), ("syntax".into(), Some(6)));
    }

    #[test]
    fn longest_label_is_fine() {
        let text = format!("read_device:{}", "x".repeat(128));
        assert!(parse_label(&text, None).is_ok());
    }
}

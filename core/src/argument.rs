//! Arguments (principals, resources, options, records, snapshots) read from
//! JSON values into the core's types, strictly and with a path.
//!
//! serde's derived readers also accept a struct written as an array of its
//! fields in order (`["mallory", ["admin"]]` as a principal), and their
//! messages name Rust types (`expected struct Resource`). Every argument is
//! therefore read here through a deserializer over `serde_json::Value` that
//! reads a struct only from an object, says `an object` / `an array` /
//! `a string`, and reports where the fault is (`principal.roles[1]`), in the
//! error's message and its `path`. Both bindings read every argument through
//! it, so a value is accepted or refused alike everywhere.
//!
//! ```
//! use serde_json::json;
//! let e = tessera::argument::from_value::<tessera::Principal>(&json!(["mallory", ["admin"]]), "principal")
//!     .unwrap_err();
//! assert_eq!(e.code, "invalid_argument");
//! assert_eq!(e.message, "principal: expected an object, found an array");
//! let e = tessera::argument::from_value::<tessera::Principal>(&json!({"roles": ["a", 3]}), "principal")
//!     .unwrap_err();
//! assert_eq!(e.path.as_deref(), Some("principal.roles[1]"));
//! ```

use crate::error::{Error, Result};
use crate::schema::{is_lone_surrogate, key_path};
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};
use std::fmt;

/// Reads `T` from `value`; `what` names the argument (`principal`,
/// `records[2]`) and starts the path of any fault.
pub fn from_value<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T> {
    T::deserialize(Input(value)).map_err(|fault| fault.into_error(what))
}

/// Reads JSON text that this library's own bindings produced (or a host
/// gave) into a value: a syntax error says what is wrong without a position,
/// and a lone surrogate escape (`"\ud800"`) is named as such.
pub fn parse_text(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        let message = if is_lone_surrogate(text) {
            "a string is not valid Unicode (lone surrogate)".to_string()
        } else {
            format!("not valid JSON ({})", without_position(&e))
        };
        Error::argument(format!("{what}: {message}")).with_path(what)
    })
}

/// A serde_json error's message without its ` at line L column C` suffix.
pub(crate) fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// One step of a path, innermost first while a fault travels outwards.
#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A fault found while reading, and where.
#[derive(Debug)]
pub(crate) struct Fault {
    message: String,
    path: Vec<Segment>,
}

impl Fault {
    fn at(mut self, segment: Segment) -> Fault {
        self.path.push(segment);
        self
    }

    fn into_error(self, what: &str) -> Error {
        let mut path = what.to_string();
        for segment in self.path.iter().rev() {
            path = match segment {
                Segment::Key(k) => key_path(&path, k),
                Segment::Index(i) => format!("{path}[{i}]"),
            };
        }
        Error::argument(format!("{path}: {}", self.message)).with_path(path)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fault {}

/// What a value was, in words (never a Rust type).
fn found(u: &Unexpected<'_>) -> String {
    match u {
        Unexpected::Bool(b) => format!("the boolean {b}"),
        Unexpected::Unsigned(n) => format!("the number {n}"),
        Unexpected::Signed(n) => format!("the number {n}"),
        Unexpected::Float(n) => format!("the number {n}"),
        Unexpected::Char(_) | Unexpected::Str(_) => "a string".into(),
        Unexpected::Bytes(_) => "bytes".into(),
        Unexpected::Unit | Unexpected::Option => "null".into(),
        Unexpected::Seq => "an array".into(),
        Unexpected::Map => "an object".into(),
        Unexpected::Other(s) => (*s).into(),
        _ => "another kind of value".into(),
    }
}

/// What was wanted, in JSON words: serde's visitors speak of Rust types.
fn wanted(e: &dyn Expected) -> String {
    let text = e.to_string();
    match text.as_str() {
        "a sequence" | "tuple" => "an array".into(),
        "a map" => "an object".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".into(),
        "f32" | "f64" => "a number".into(),
        "a borrowed string" | "a char" => "a string".into(),
        "unit" => "null".into(),
        "option" => "a value or null".into(),
        "field identifier" | "variant identifier" => "a string".into(),
        t if t.starts_with("struct ") || t.starts_with("struct variant ") => "an object".into(),
        t if t.starts_with("tuple") => "an array".into(),
        t if t.starts_with("enum ") => "a string".into(),
        _ => text,
    }
}

fn one_of(names: &[&str]) -> String {
    names.join(", ")
}

impl de::Error for Fault {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Fault {
            message: msg.to_string(),
            path: Vec::new(),
        }
    }
    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::custom(format!("expected {}, found {}", wanted(exp), found(&unexp)))
    }
    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::custom(format!("expected {}, found {}", wanted(exp), found(&unexp)))
    }
    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        Self::custom(format!("expected {}, found {len} items", wanted(exp)))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(format!("`{variant}` is not one of: {}", one_of(expected)))
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(format!(
            "unknown key `{field}` (expected one of: {})",
            one_of(expected)
        ))
    }
    fn missing_field(field: &'static str) -> Self {
        Self::custom(format!("`{field}` is required"))
    }
    fn duplicate_field(field: &'static str) -> Self {
        Self::custom(format!("`{field}` is given twice"))
    }
}

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// The deserializer: one borrowed JSON value.
#[derive(Clone, Copy)]
struct Input<'a>(&'a Value);

fn visit_array<'de, V: Visitor<'de>>(items: &'de [Value], visitor: V) -> Result<V::Value, Fault> {
    let mut seq = Items {
        iter: items.iter().enumerate(),
    };
    let out = visitor.visit_seq(&mut seq)?;
    match seq.iter.len() {
        0 => Ok(out),
        _ => Err(de::Error::invalid_length(items.len(), &"fewer items")),
    }
}

fn visit_object<'de, V: Visitor<'de>>(map: &'de Map<String, Value>, visitor: V) -> Result<V::Value, Fault> {
    let mut access = Entries {
        iter: map.iter(),
        pending: None,
    };
    visitor.visit_map(&mut access)
}

impl<'de> de::Deserializer<'de> for Input<'de> {
    type Error = Fault;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            other => Err(de::Error::invalid_type(unexpected(other), &"null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fault> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fault> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &"an array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Fault> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Fault> {
        self.deserialize_seq(visitor)
    }

    /// Objects only: this is the point of the module.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        match self.0 {
            Value::Object(map) => visit_object(map, visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &"an object")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fault> {
        self.deserialize_map(visitor)
    }

    /// Enums of the API are strings (`"jwt"`, `"active"`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fault> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::custom(format!(
                "expected one of: {}, found {}",
                one_of(variants),
                found(&unexpected(other))
            ))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fault> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf identifier
    }
}

struct Items<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
}

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = Fault;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Fault> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, v)) => seed
                .deserialize(Input(v))
                .map(Some)
                .map_err(|f| f.at(Segment::Index(i))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Entries<'a> {
    iter: serde_json::map::Iter<'a>,
    pending: Option<(&'a String, &'a Value)>,
}

impl<'de> de::MapAccess<'de> for Entries<'de> {
    type Error = Fault;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Fault> {
        match self.iter.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.pending = Some((k, v));
                seed.deserialize(BorrowedStrDeserializer::<Fault>::new(k))
                    .map(Some)
                    .map_err(|f| f.at(Segment::Key(k.clone())))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Fault> {
        let Some((k, v)) = self.pending.take() else {
            return Err(de::Error::custom("a value was read before its key"));
        };
        seed.deserialize(Input(v))
            .map_err(|f| f.at(Segment::Key(k.clone())))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Principal, Resource};
    use serde_json::json;

    fn err<T: DeserializeOwned + fmt::Debug>(v: Value, what: &str) -> (String, String) {
        let e = from_value::<T>(&v, what).unwrap_err();
        assert_eq!(e.code, "invalid_argument");
        (e.path.unwrap_or_default(), e.message)
    }

    #[test]
    fn arrays_are_never_objects() {
        assert_eq!(
            err::<Principal>(json!(["mallory", ["admin"]]), "principal"),
            (
                "principal".into(),
                "principal: expected an object, found an array".into()
            )
        );
        assert_eq!(
            err::<Resource>(json!(["device", "d2", "bob"]), "resource").1,
            "resource: expected an object, found an array"
        );
        assert_eq!(
            err::<Vec<Resource>>(json!([{"type": "device"}, ["device"]]), "resources").0,
            "resources[1]"
        );
    }

    #[test]
    fn messages_have_paths_and_no_rust_names() {
        assert_eq!(
            err::<Principal>(json!({"roles": ["a", 3]}), "principal"),
            (
                "principal.roles[1]".into(),
                "principal.roles[1]: expected a string, found the number 3".into()
            )
        );
        let (path, message) = err::<Principal>(json!({"colour": 1}), "principal");
        assert_eq!(path, "principal.colour");
        assert!(message.starts_with("principal.colour: unknown key `colour` (expected one of: id, roles"));
        assert_eq!(
            err::<Resource>(json!({"id": "d1"}), "resource"),
            ("resource".into(), "resource: `type` is required".into())
        );
        assert_eq!(
            err::<Principal>(json!({"credential": "password"}), "principal").1,
            "principal.credential: `password` is not one of: jwt, session, api_token"
        );
        assert_eq!(
            err::<Principal>(json!({"expires_at": "soon"}), "principal").1,
            "principal.expires_at: expected an integer, found a string"
        );
        assert_eq!(
            err::<Principal>(json!({"expires_at": u64::MAX}), "principal").1,
            format!(
                "principal.expires_at: expected an integer, found the number {}",
                u64::MAX
            )
        );
        assert_eq!(
            err::<Resource>(json!({"type": "device", "owners": {"a": 1}}), "r").1,
            "r.owners: expected an array, found an object"
        );
        assert_eq!(
            err::<Resource>(json!({"type": "device", "odd key": 1}), "resource").0,
            "resource[\"odd key\"]"
        );
    }

    #[test]
    fn good_values_read_as_before() {
        let p: Principal = from_value(
            &json!({"id": "u", "roles": ["a"], "limits": null, "claims": {"x": [1, {"y": null}]}}),
            "principal",
        )
        .unwrap();
        assert_eq!(p.id.as_deref(), Some("u"));
        assert_eq!(p.claims, Some(json!({"x": [1, {"y": null}]})));
        let none: Option<Principal> = from_value(&Value::Null, "principal").unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn text_errors_have_no_positions() {
        let e = parse_text("{\"a\": \"\\ud800\"}", "principal").unwrap_err();
        assert_eq!(
            e.message,
            "principal: a string is not valid Unicode (lone surrogate)"
        );
        let e = parse_text("{", "principal").unwrap_err();
        assert!(!e.message.contains("line"), "{}", e.message);
    }
}

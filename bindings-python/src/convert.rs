//! Python ⇄ JSON conversions.
//!
//! Every input goes through `serde_json::Value` (strictly: only the JSON
//! types), then through the core's own `from_json` readers, so a Python dict
//! is read exactly as the same JSON text would be in every other binding.
//! Every failure is an `ArgumentError` (`invalid_argument`) naming where in
//! the argument it happened; nothing here panics.

use crate::errors::argument_error;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// How deep a converted value may nest (the same limit as serde_json's parser).
pub const MAX_DEPTH: usize = 128;

/// A conversion failure: the message and the path to the faulty part,
/// innermost segment first (reversed when reported).
struct Fault {
    message: String,
    path: Vec<String>,
}

impl Fault {
    fn new(message: impl Into<String>) -> Fault {
        Fault {
            message: message.into(),
            path: Vec::new(),
        }
    }
    fn at(mut self, segment: String) -> Fault {
        self.path.push(segment);
        self
    }
    fn into_err(self, what: &str) -> PyErr {
        let mut path = what.to_string();
        for segment in self.path.iter().rev() {
            path.push_str(segment);
        }
        argument_error(format!("{path}: {}", self.message))
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_string())
}

/// A `str` argument as UTF-8; anything else (or a lone surrogate) is an
/// `ArgumentError` naming the argument.
#[inline]
pub fn string<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Cow<'a, str>> {
    match obj.cast::<PyString>() {
        Ok(s) => utf8(s).map_err(|_| {
            // `PyUnicode_AsUTF8AndSize` set a UnicodeEncodeError; replace it.
            argument_error(format!(
                "{what}: the string is not valid Unicode (lone surrogate)"
            ))
        }),
        Err(_) => Err(argument_error(format!(
            "{what}: expected str, got {}",
            type_name(obj)
        ))),
    }
}

// `PyUnicode_AsUTF8AndSize` is in the stable ABI from 3.10 on, so pyo3's
// abi3-py39 build falls back to encoding every string into a new `bytes`
// object (two allocations per argument on the hot path). The function itself
// has been exported, with this signature, by every CPython 3.x since 3.3; it
// returns the string's own UTF-8 buffer (for ASCII text, its data), valid
// while the string lives. Declared here so that one abi3 wheel still serves
// 3.9 without paying that cost.
extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const u8;
}

#[inline]
fn utf8<'a>(s: &'a Bound<'_, PyString>) -> PyResult<Cow<'a, str>> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` (checked by the cast) and the GIL is held;
    // the returned buffer belongs to `s` and lives as long as the borrow 'a.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        return Err(PyErr::fetch(s.py()));
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: CPython guarantees `len` readable bytes at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|_| argument_error("a string is not valid UTF-8"))
}

/// An optional `str` argument (`None` is absent).
pub fn opt_string<'a>(obj: Option<&'a Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Cow<'a, str>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => string(o, what).map(Some),
    }
}

/// `now`: `None` or an `int` of seconds (not a `bool`, not a `float`).
pub fn now(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<i64>> {
    let Some(obj) = obj else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(argument_error(format!(
            "now: expected int seconds since the epoch or None, got {}",
            type_name(obj)
        )));
    }
    obj.extract::<i64>()
        .map(Some)
        .map_err(|_| argument_error("now: out of range for a 64-bit count of seconds"))
}

/// Any JSON-compatible Python value as a `serde_json::Value`: `dict` (or any
/// mapping) with `str` keys, `list`/`tuple`, `str`, `int` (64-bit), finite
/// `float`, `bool`, `None`.
pub fn value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    to_value(obj, 0).map_err(|f| f.into_err(what))
}

fn to_value(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, Fault> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return utf8(s)
            .map(|s| Value::String(s.into_owned()))
            .map_err(|_| Fault::new("the string is not valid Unicode (lone surrogate)"));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::Number(u.into()));
        }
        return Err(Fault::new("integer out of the 64-bit range"));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract().map_err(|_| Fault::new("unreadable float"))?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| Fault::new("NaN and infinity are not JSON numbers"));
    }
    if depth >= MAX_DEPTH {
        return Err(Fault::new(format!("nested more than {MAX_DEPTH} levels deep")));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = dict_key(&k)?;
            let item = to_value(&v, depth + 1).map_err(|f| f.at(segment(&key)))?;
            map.insert(key, item);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            out.push(to_value(&v, depth + 1).map_err(|f| f.at(format!("[{i}]")))?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        let mut out = Vec::with_capacity(tuple.len());
        for (i, v) in tuple.iter().enumerate() {
            out.push(to_value(&v, depth + 1).map_err(|f| f.at(format!("[{i}]")))?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(mapping) = obj.cast::<PyMapping>() {
        let items = mapping
            .items()
            .map_err(|e| Fault::new(format!("the mapping could not be read: {e}")))?;
        let mut map = Map::new();
        for item in items.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item
                .extract()
                .map_err(|_| Fault::new("the mapping's items() are not pairs"))?;
            let key = dict_key(&k)?;
            let item = to_value(&v, depth + 1).map_err(|f| f.at(segment(&key)))?;
            map.insert(key, item);
        }
        return Ok(Value::Object(map));
    }
    Err(Fault::new(format!(
        "expected a JSON value (dict, list, str, int, float, bool or None), got {}",
        type_name(obj)
    )))
}

fn dict_key(k: &Bound<'_, PyAny>) -> Result<String, Fault> {
    match k.cast::<PyString>() {
        Ok(s) => utf8(s)
            .map(Cow::into_owned)
            .map_err(|_| Fault::new("a key is not valid Unicode (lone surrogate)")),
        Err(_) => Err(Fault::new(format!("keys must be str, got {}", type_name(k)))),
    }
}

fn segment(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.to_string()))
    }
}

/// The fast reading of a resource: only a plain `dict` whose keys are among
/// `type`, `id`, `owner`, `owners`, with `type` a `str`, `id`/`owner` a `str`
/// or None and `owners` a list of `str`. Anything else returns `None`, and
/// the caller reads it the strict way (`Resource::from_json`), which accepts
/// or rejects it exactly as every other binding does.
pub fn fast_resource(obj: &Bound<'_, PyAny>) -> Option<tessera::Resource> {
    fn text(v: &Bound<'_, PyAny>) -> Option<String> {
        Some(utf8(v.cast_exact::<PyString>().ok()?).ok()?.into_owned())
    }
    fn opt_text(v: &Bound<'_, PyAny>) -> Option<Option<String>> {
        if v.is_none() {
            Some(None)
        } else {
            text(v).map(Some)
        }
    }
    let dict = obj.cast_exact::<PyDict>().ok()?;
    let mut resource = tessera::Resource::default();
    let mut has_type = false;
    for (k, v) in dict.iter() {
        match &*utf8(k.cast_exact::<PyString>().ok()?).ok()? {
            "type" => {
                resource.kind = text(&v)?;
                has_type = true;
            }
            "id" => resource.id = opt_text(&v)?,
            "owner" => resource.owner = opt_text(&v)?,
            "owners" => {
                let list = v.cast_exact::<PyList>().ok()?;
                let mut owners = Vec::with_capacity(list.len());
                for item in list.iter() {
                    owners.push(text(&item)?);
                }
                resource.owners = owners;
            }
            _ => return None,
        }
    }
    has_type.then_some(resource)
}

/// A `serde_json::Value` as plain Python data (dict, list, str, int, float,
/// bool, None).
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A principal as the dict its serde shape gives (same keys, same order),
/// built directly (keys interned once per process): a JWT's `claims` are
/// converted once, not cloned first.
pub fn principal_to_py<'py>(py: Python<'py>, p: &tessera::Principal) -> PyResult<Bound<'py, PyAny>> {
    let dict = PyDict::new(py);
    let list = |v: &[String]| PyList::new(py, v);
    if let Some(id) = &p.id {
        dict.set_item(intern!(py, "id"), id)?;
    }
    dict.set_item(intern!(py, "roles"), list(&p.roles)?)?;
    dict.set_item(intern!(py, "groups"), list(&p.groups)?)?;
    dict.set_item(intern!(py, "permissions"), list(&p.permissions)?)?;
    dict.set_item(intern!(py, "scopes"), list(&p.scopes)?)?;
    if let Some(limits) = &p.limits {
        dict.set_item(intern!(py, "limits"), list(limits)?)?;
    }
    if let Some(c) = &p.credential {
        dict.set_item(intern!(py, "credential"), c.as_str())?;
    }
    if let Some(e) = p.expires_at {
        dict.set_item(intern!(py, "expires_at"), e)?;
    }
    if let Some(s) = &p.session_id {
        dict.set_item(intern!(py, "session_id"), s)?;
    }
    if let Some(a) = &p.api_token_id {
        dict.set_item(intern!(py, "api_token_id"), a)?;
    }
    if let Some(claims) = &p.claims {
        dict.set_item(intern!(py, "claims"), to_py(py, claims)?)?;
    }
    Ok(dict.into_any())
}

/// Any serialisable core result as plain Python data.
pub fn to_python<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| crate::errors::internal_error(format!("a result could not be converted: {e}")))?;
    to_py(py, &json)
}

/// A policy argument: a JSON-compatible object, or JSON text (`str`, or
/// UTF-8 `bytes`), which the core reads.
pub fn policy(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(s) = obj.cast::<PyString>() {
        let text = string(s.as_any(), "policy")?;
        return tessera::parse_policy_text(&text).map_err(crate::errors::to_py_err);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return tessera::parse_policy_bytes(b.as_bytes()).map_err(crate::errors::to_py_err);
    }
    value(obj, "policy")
}

/// A JSON argument that may also be given as JSON text (a JWKS, a JWK).
pub fn json_or_text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if let Ok(s) = obj.cast::<PyString>() {
        let text = string(s.as_any(), what)?;
        return serde_json::from_str(&text).map_err(|e| {
            let why = if tessera::schema::is_lone_surrogate(&text) {
                "a string is not valid Unicode (lone surrogate)".to_string()
            } else {
                format!("not valid JSON: {e}")
            };
            crate::errors::to_py_err(tessera::Error::argument(format!("{what}: {why}")).with_path(what))
        });
    }
    value(obj, what)
}

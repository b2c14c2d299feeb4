//! The analysis calls of SPEC §9 (`tessera.Engine.who_can`, `permissions`,
//! `diff`, `suggest`, `role_graph`, and `tessera.diff`): each converts its
//! arguments, calls the core with the GIL released, and returns the core's
//! result as plain Python data, which `tessera._analysis` wraps for
//! notebooks.

use crate::convert::{self, string, to_python};
use crate::errors::{guard, to_py_err, OrRaise};
use crate::Engine;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use serde_json::Value;
use tessera::analysis::Subject;
use tessera::{Principal, Resource};

/// A policy argument of a diff (a dict, JSON text or its bytes); one that
/// does not read as JSON is that side's `invalid_policy`, with its `path`.
fn side(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        let text = obj
            .cast::<PyString>()
            .ok()
            .map(|s| string(s.as_any(), name))
            .transpose()?;
        let parsed = match &text {
            Some(text) => tessera::parse_policy_text(text),
            None => tessera::parse_policy_bytes(obj.cast::<PyBytes>()?.as_bytes()),
        };
        return parsed.map_err(|e| {
            to_py_err(tessera::Error {
                message: format!("{name}: {}", e.message),
                ..e.with_path(name)
            })
        });
    }
    convert::value(obj, name)
}

fn resource(obj: &Bound<'_, PyAny>) -> PyResult<Resource> {
    Resource::from_json(&convert::value(obj, "resource")?).or_raise()
}

fn principal(obj: &Bound<'_, PyAny>) -> PyResult<Principal> {
    Principal::from_json(&convert::value(obj, "principal")?).or_raise()
}

/// `who_can(action, resource)` as plain data.
#[pyfunction]
fn _who_can<'py>(
    py: Python<'py>,
    engine: &Engine,
    action: &Bound<'py, PyAny>,
    resource: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let action = string(action, "action")?;
        let r = self::resource(resource)?;
        let answer = py.detach(|| engine.inner.who_can(&action, &r)).or_raise()?;
        to_python(py, &answer)
    })
}

/// `permissions(role_name | principal)` as plain data.
#[pyfunction]
fn _permissions<'py>(
    py: Python<'py>,
    engine: &Engine,
    of: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let subject = if of.is_instance_of::<PyString>() {
            Subject::Role(string(of, "role")?.into_owned())
        } else {
            Subject::Principal(Box::new(principal(of)?))
        };
        let table = py.detach(|| engine.inner.permissions(&subject)).or_raise()?;
        to_python(py, &table)
    })
}

/// `suggest(principal, action, resource)` as plain data.
#[pyfunction]
fn _suggest<'py>(
    py: Python<'py>,
    engine: &Engine,
    principal: &Bound<'py, PyAny>,
    action: &Bound<'py, PyAny>,
    resource: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let p = self::principal(principal)?;
        let action = string(action, "action")?;
        let r = self::resource(resource)?;
        let answer = py.detach(|| engine.inner.suggest(&p, &action, &r)).or_raise()?;
        to_python(py, &answer)
    })
}

/// The role graph as plain data.
#[pyfunction]
fn _role_graph<'py>(py: Python<'py>, engine: &Engine) -> PyResult<Bound<'py, PyAny>> {
    guard(|| to_python(py, &engine.inner.role_graph()))
}

/// The engine's policy (A) against `other` (B).
#[pyfunction]
fn _engine_diff<'py>(
    py: Python<'py>,
    engine: &Engine,
    other: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let b = side(other, "policy_b")?;
        let d = py.detach(|| engine.inner.diff(&b)).or_raise()?;
        to_python(py, &d)
    })
}

/// Two policy documents (dicts or JSON text) compared.
#[pyfunction]
fn _diff<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, b: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let (a, b) = (side(a, "policy_a")?, side(b, "policy_b")?);
        let d = py.detach(|| tessera::analysis::diff(&a, &b)).or_raise()?;
        to_python(py, &d)
    })
}

/// Adds the analysis functions to `tessera._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_who_can, m)?)?;
    m.add_function(wrap_pyfunction!(_permissions, m)?)?;
    m.add_function(wrap_pyfunction!(_suggest, m)?)?;
    m.add_function(wrap_pyfunction!(_role_graph, m)?)?;
    m.add_function(wrap_pyfunction!(_engine_diff, m)?)?;
    m.add_function(wrap_pyfunction!(_diff, m)?)?;
    Ok(())
}

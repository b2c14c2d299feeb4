//! Core errors → the exception classes of `tessera._errors` (pure Python),
//! and the guard that keeps a Rust panic from reaching Python as a
//! `PanicException` (a `BaseException`).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tessera::{Error, ErrorKind};

/// The exception classes, looked up once in `tessera._errors`.
struct Classes {
    label: Py<PyAny>,
    policy: Py<PyAny>,
    token: Py<PyAny>,
    argument: Py<PyAny>,
    realm: Py<PyAny>,
    internal: Py<PyAny>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let m = py.import("tessera._errors")?;
        Ok(Classes {
            label: m.getattr("LabelError")?.unbind(),
            policy: m.getattr("PolicyError")?.unbind(),
            token: m.getattr("TokenError")?.unbind(),
            argument: m.getattr("ArgumentError")?.unbind(),
            realm: m.getattr("RealmError")?.unbind(),
            internal: m.getattr("InternalError")?.unbind(),
        })
    })
}

/// Which class an error is raised as.
#[derive(Clone, Copy)]
enum Class {
    Kind(ErrorKind),
    Internal,
}

fn build(py: Python<'_>, class: Class, err: &Error) -> PyResult<PyErr> {
    let c = classes(py)?;
    let cls = match class {
        Class::Kind(ErrorKind::Label) => &c.label,
        Class::Kind(ErrorKind::Policy) => &c.policy,
        Class::Kind(ErrorKind::Token) => &c.token,
        Class::Kind(ErrorKind::Argument) => &c.argument,
        Class::Kind(ErrorKind::Realm) => &c.realm,
        Class::Internal => &c.internal,
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", &err.code)?;
    kwargs.set_item("path", &err.path)?;
    kwargs.set_item("offset", err.offset)?;
    let problems = PyList::empty(py);
    for p in &err.problems {
        let d = PyDict::new(py);
        d.set_item("code", &p.code)?;
        d.set_item("message", &p.message)?;
        d.set_item("path", &p.path)?;
        problems.append(d)?;
    }
    kwargs.set_item("problems", problems)?;
    let instance = cls.bind(py).call((&err.message,), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

fn raise(class: Class, err: Error) -> PyErr {
    Python::attach(|py| match build(py, class, &err) {
        Ok(e) => e,
        // Only if `tessera._errors` cannot be imported: still an exception, never a panic.
        Err(import) => {
            let e = PyRuntimeError::new_err(format!("{}: {}", err.code, err.message));
            e.set_cause(py, Some(import));
            e
        }
    })
}

/// The exception for a core error (`LabelError`, `PolicyError`, `TokenError`,
/// `ArgumentError`, `RealmError`), carrying `code`, `message`, `path`,
/// `offset` and `problems`.
pub fn to_py_err(err: Error) -> PyErr {
    let kind = err.kind;
    raise(Class::Kind(kind), err)
}

/// An `ArgumentError` (`invalid_argument`) made by the binding itself.
pub fn argument_error(message: impl Into<String>) -> PyErr {
    to_py_err(Error::argument(message))
}

/// An `InternalError` (`internal`): a bug, never an expected outcome.
pub fn internal_error(message: impl Into<String>) -> PyErr {
    raise(
        Class::Internal,
        Error::new(ErrorKind::Argument, "internal", message),
    )
}

/// Core result → Python result.
pub trait OrRaise<T> {
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for tessera::Result<T> {
    #[inline]
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// Runs `f`, turning a panic into `InternalError` instead of pyo3's
/// `PanicException` (which `except Exception` does not catch).
#[inline]
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(internal_error(format!("tessera bug (please report): {what}")))
        }
    }
}

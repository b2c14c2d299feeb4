//! `tessera.Decision`: the core's decision, converted to Python lazily (a
//! field becomes a Python object only when it is read).

use crate::errors::argument_error;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tessera::{Reason, Source};

/// The answer to "may this principal do this?" (SPEC §4).
///
/// Truthy when allowed. `reason` is one of `allowed`, `denied`, `no_match`,
/// `limited`, `invalid_request`, `public`, `unauthenticated`,
/// `missing_group`, `missing_role`, `missing_scope`, `wrong_credential`,
/// `unknown_operation`; `rule` is the label that decided (or None) and
/// `source` where it came from (`principal`, `grant`, `role:NAME`, or None);
/// `message` explains an `invalid_request`. Immutable, hashable, picklable.
#[pyclass(module = "tessera", frozen, eq)]
#[derive(Clone, PartialEq, Eq)]
pub struct Decision {
    pub inner: tessera::Decision,
}

impl Hash for Decision {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let d = &self.inner;
        (d.allowed, d.reason, &d.rule, &d.source, &d.message).hash(state);
    }
}

impl Decision {
    pub fn of(inner: tessera::Decision) -> Decision {
        Decision { inner }
    }
}

#[pymethods]
impl Decision {
    #[new]
    #[pyo3(signature = (allowed, reason, rule=None, source=None, message=None))]
    fn new(
        allowed: &Bound<'_, PyAny>,
        reason: &Bound<'_, PyAny>,
        rule: Option<&Bound<'_, PyAny>>,
        source: Option<&Bound<'_, PyAny>>,
        message: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        crate::errors::guard(|| {
            let allowed = allowed
                .cast::<pyo3::types::PyBool>()
                .map_err(|_| argument_error("allowed: expected bool"))?
                .is_true();
            let reason_text = crate::convert::string(reason, "reason")?;
            let reason: Reason = reason_text
                .parse()
                .map_err(|_| argument_error(format!("reason: unknown reason `{reason_text}`")))?;
            let rule = crate::convert::opt_string(rule, "rule")?.map(|r| Arc::from(&*r));
            let source = match crate::convert::opt_string(source, "source")? {
                None => None,
                Some(s) => Some(s.parse::<Source>().map_err(|_| {
                    argument_error(format!(
                        "source: expected `principal`, `grant` or `role:NAME`, got `{s}`"
                    ))
                })?),
            };
            let message = crate::convert::opt_string(message, "message")?.map(|m| m.into_owned());
            Ok(Decision {
                inner: tessera::Decision {
                    allowed,
                    reason,
                    rule,
                    source,
                    message,
                },
            })
        })
    }

    /// Whether the request is allowed.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }

    /// Why: `allowed`, `denied`, `no_match`, `limited`, `invalid_request`, ...
    #[getter]
    fn reason(&self) -> &'static str {
        self.inner.reason.as_str()
    }

    /// The label that decided (first matching deny, else first matching allow), or None.
    #[getter]
    fn rule(&self) -> Option<&str> {
        self.inner.rule.as_deref()
    }

    /// Where the deciding rule came from: `principal`, `grant`, `role:NAME`, or None.
    #[getter]
    fn source(&self) -> Option<String> {
        self.inner.source.as_ref().map(|s| s.to_string())
    }

    /// Why the request is invalid (only with reason `invalid_request`), else None.
    #[getter]
    fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The SPEC's JSON shape: `{allowed, reason, rule, source}` (plus
    /// `message` for an invalid request).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("allowed", self.inner.allowed)?;
        d.set_item("reason", self.reason())?;
        d.set_item("rule", self.rule())?;
        d.set_item("source", self.source())?;
        if let Some(m) = &self.inner.message {
            d.set_item("message", m)?;
        }
        Ok(d)
    }

    fn __bool__(&self) -> bool {
        self.inner.allowed
    }

    fn __hash__(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }

    /// A one-row table for notebooks (Jupyter calls it), escaped for HTML.
    fn _repr_html_(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let cell = |s: Option<&str>| s.map(esc).unwrap_or_else(|| "<i>none</i>".to_string());
        let (mark, colour) = if self.inner.allowed {
            ("allowed", "#1a7f37")
        } else {
            ("refused", "#cf222e")
        };
        let mut out = format!(
            "<table class=\"tessera-decision\"><tr><th>decision</th><th>reason</th><th>rule</th><th>source</th></tr>\
             <tr><td style=\"color:{colour};font-weight:bold\">{mark}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            esc(self.reason()),
            cell(self.rule()),
            cell(self.source().as_deref()),
        );
        if let Some(m) = &self.inner.message {
            out.push_str(&format!("<tr><td colspan=\"4\">{}</td></tr>", esc(m)));
        }
        out.push_str("</table>");
        out
    }

    fn __repr__(&self) -> String {
        let quote = |s: Option<&str>| match s {
            Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            None => "None".to_string(),
        };
        let mut out = format!(
            "Decision(allowed={}, reason='{}', rule={}, source={}",
            if self.inner.allowed { "True" } else { "False" },
            self.reason(),
            quote(self.rule()),
            quote(self.source().as_deref()),
        );
        if let Some(m) = &self.inner.message {
            out.push_str(&format!(", message={}", quote(Some(m))));
        }
        out.push(')');
        out
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let d = slf.get();
        let args = PyTuple::new(
            py,
            [
                d.inner.allowed.into_pyobject(py)?.to_owned().into_any(),
                d.reason().into_pyobject(py)?.into_any(),
                d.rule().into_pyobject(py)?.into_any(),
                d.source().into_pyobject(py)?.into_any(),
                d.message().into_pyobject(py)?.into_any(),
            ],
        )?;
        Ok((slf.get_type().into_any(), args))
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str, &'static str) {
        ("allowed", "reason", "rule", "source")
    }
}

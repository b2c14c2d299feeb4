//! The analysis calls of SPEC §9 on the raw engine: `who_can`,
//! `permissions`, `suggest`, `diff` and `role_graph`, plus the free `diff`
//! of two policies. Same conventions as the rest of the binding: JSON text
//! in, JSON text out, failures thrown as error JSON.

use crate::{fail, parse_typed, principal, to_json, RawEngine};
use serde_json::Value;
use tessera::analysis::Subject;
use tessera::{Error, Resource};
use wasm_bindgen::prelude::*;

/// One side of a diff as JSON text; text that is not JSON is that side's
/// `invalid_policy`, with its `path`.
fn side(name: &str, text: &str) -> Result<Value, JsValue> {
    tessera::parse_policy_text(text).map_err(|error| {
        fail(Error {
            message: format!("{name}: {}", error.message),
            ..error.with_path(name)
        })
    })
}

/// What differs between two policies (JSON text each).
#[wasm_bindgen]
pub fn diff(policy_a: &str, policy_b: &str) -> Result<String, JsValue> {
    let (a, b) = (side("policy_a", policy_a)?, side("policy_b", policy_b)?);
    to_json(&tessera::analysis::diff(&a, &b).map_err(fail)?)
}

#[wasm_bindgen]
impl RawEngine {
    /// Every role, group and grant that would allow `action` on the resource.
    pub fn who_can(&self, action: &str, resource_json: &str) -> Result<String, JsValue> {
        let r: Resource = parse_typed("resource", resource_json)?;
        to_json(&self.inner.who_can(action, &r).map_err(fail)?)
    }

    /// The effective table of a role (`of_json` a JSON string) or a principal
    /// (a JSON object).
    pub fn permissions(&self, of_json: &str) -> Result<String, JsValue> {
        let subject = match parse_typed::<Value>("of", of_json)? {
            Value::String(role) => Subject::Role(role),
            _ => Subject::Principal(Box::new(principal(of_json)?)),
        };
        to_json(&self.inner.permissions(&subject).map_err(fail)?)
    }

    /// The smallest changes that would allow a denied request.
    pub fn suggest(
        &self,
        principal_json: &str,
        action: &str,
        resource_json: &str,
    ) -> Result<String, JsValue> {
        let p = principal(principal_json)?;
        let r: Resource = parse_typed("resource", resource_json)?;
        to_json(&self.inner.suggest(&p, action, &r).map_err(fail)?)
    }

    /// The policy in force (A) against `other` (B, JSON text).
    pub fn diff(&self, other: &str) -> Result<String, JsValue> {
        let b = side("policy_b", other)?;
        to_json(&self.inner.diff(&b).map_err(fail)?)
    }

    /// Roles, inheritance, groups and denies.
    pub fn role_graph(&self) -> Result<String, JsValue> {
        to_json(&self.inner.role_graph())
    }
}

//! Server-side credentials (SPEC §6.2, §6.3) on the raw engine: sessions and
//! API tokens (provider JWTs are in `host.rs`). Same conventions as the rest of the
//! binding: JSON text in, JSON text out, failures thrown as error JSON.

use crate::{fail, parse_typed, parse_value, principal, seconds, to_json, RawEngine};
use tessera::token::{ApiTokenOptions, ApiTokenRecord, Revocations, SessionOptions};
use wasm_bindgen::prelude::*;

/// active → suspended.
#[wasm_bindgen]
pub fn suspend_api_token(record_json: &str) -> Result<String, JsValue> {
    let record: ApiTokenRecord = parse_typed("record", record_json)?;
    to_json(&record.suspend().map_err(fail)?)
}

/// suspended → active.
#[wasm_bindgen]
pub fn resume_api_token(record_json: &str) -> Result<String, JsValue> {
    let record: ApiTokenRecord = parse_typed("record", record_json)?;
    to_json(&record.resume().map_err(fail)?)
}

/// active or suspended → revoked (final).
#[wasm_bindgen]
pub fn revoke_api_token(record_json: &str) -> Result<String, JsValue> {
    let record: ApiTokenRecord = parse_typed("record", record_json)?;
    to_json(&record.revoke().map_err(fail)?)
}

/// Optional inputs arrive as JSON `null` when absent.
fn optional<T: serde::de::DeserializeOwned + Default>(what: &str, text: &str) -> Result<T, JsValue> {
    Ok(parse_typed::<Option<T>>(what, text)?.unwrap_or_default())
}

#[wasm_bindgen]
impl RawEngine {
    pub fn issue_session(
        &self,
        principal_json: &str,
        key_json: &str,
        now: Option<f64>,
        options_json: &str,
    ) -> Result<String, JsValue> {
        let p = principal(principal_json)?;
        let key = parse_value("key", key_json)?;
        let now = seconds(now)?;
        let options: SessionOptions = optional("options", options_json)?;
        to_json(&self.inner.issue_session(&p, &key, now, &options).map_err(fail)?)
    }

    pub fn renew_session(
        &self,
        token: &str,
        key_json: &str,
        now: Option<f64>,
        revocations_json: &str,
    ) -> Result<String, JsValue> {
        let key = parse_value("key", key_json)?;
        let now = seconds(now)?;
        let revocations: Option<Revocations> = parse_typed("revocations", revocations_json)?;
        to_json(
            &self
                .inner
                .renew_session(token, &key, now, revocations.as_ref())
                .map_err(fail)?,
        )
    }

    pub fn verify_session(
        &self,
        token: &str,
        key_json: &str,
        now: Option<f64>,
        revocations_json: &str,
    ) -> Result<String, JsValue> {
        let key = parse_value("key", key_json)?;
        let now = seconds(now)?;
        let revocations: Option<Revocations> = parse_typed("revocations", revocations_json)?;
        to_json(
            &self
                .inner
                .verify_session(token, &key, now, revocations.as_ref())
                .map_err(fail)?,
        )
    }

    pub fn create_api_token(
        &self,
        owner: &str,
        roles_json: &str,
        now: Option<f64>,
        options_json: &str,
    ) -> Result<String, JsValue> {
        let roles: Vec<String> = parse_typed("roles", roles_json)?;
        let now = seconds(now)?;
        let options: ApiTokenOptions = optional("options", options_json)?;
        to_json(
            &self
                .inner
                .create_api_token(owner, &roles, now, &options)
                .map_err(fail)?,
        )
    }

    pub fn verify_api_token(
        &self,
        secret: &str,
        records_json: &str,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        let records: Vec<ApiTokenRecord> = parse_typed("records", records_json)?;
        let now = seconds(now)?;
        to_json(&self.inner.verify_api_token(secret, &records, now).map_err(fail)?)
    }

    /// `[new token, the old record revoked]`.
    pub fn replace_api_token(&self, record_json: &str, now: Option<f64>) -> Result<String, JsValue> {
        let record: ApiTokenRecord = parse_typed("record", record_json)?;
        let now = seconds(now)?;
        to_json(&self.inner.replace_api_token(&record, now).map_err(fail)?)
    }
}

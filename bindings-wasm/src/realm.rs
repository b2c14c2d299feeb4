//! The realm (SPEC §7) on the raw exports: users, API tokens and sessions.
//! Same conventions as the rest of the binding: JSON text in, JSON text out,
//! failures thrown as error JSON. The snapshot, the policy and the key are
//! JSON text passed through as written (the JS layer renames nothing in them).

use crate::{fail, parse_typed, parse_value, seconds, to_json, RawEngine};
use serde_json::Value;
use std::rc::Rc;
use std::sync::Arc;
use tessera::token::ApiTokenOptions;
use tessera::{Principal, Realm, RealmOptions, UserOptions};
use wasm_bindgen::prelude::*;

/// A policy given as JSON text, read by the core (bad text is `invalid_json`).
fn policy_value(text: &str) -> Result<Value, JsValue> {
    tessera::parse_policy_text(text).map_err(fail)
}

/// Optional inputs arrive as JSON `null` when absent.
fn optional<T: serde::de::DeserializeOwned + Default>(what: &str, text: &str) -> Result<T, JsValue> {
    Ok(parse_typed::<Option<T>>(what, text)?.unwrap_or_default())
}

/// `actor`: a principal as JSON, or `null` (anonymous).
fn actor(text: &str) -> Result<Option<Principal>, JsValue> {
    parse_typed("actor", text)
}

/// A realm: users, password hashes, API token records and live sessions.
#[wasm_bindgen]
pub struct RawRealm {
    inner: Rc<Realm>,
}

#[wasm_bindgen]
impl RawRealm {
    /// An empty realm (`snapshot_json` empty) or the one a snapshot describes.
    #[wasm_bindgen(constructor)]
    pub fn new(
        policy: &str,
        key_json: &str,
        options_json: &str,
        snapshot_json: Option<String>,
    ) -> Result<RawRealm, JsValue> {
        let policy = policy_value(policy)?;
        let key = parse_value("key", key_json)?;
        let options: RealmOptions = optional("options", options_json)?;
        let realm = match snapshot_json {
            None => Realm::new(&policy, &key, &options),
            Some(text) => Realm::restore(&policy, &parse_value("snapshot", &text)?, &key, &options),
        }
        .map_err(fail)?;
        Ok(RawRealm {
            inner: Rc::new(realm),
        })
    }

    /// The snapshot document as JSON text (written from the rows).
    pub fn snapshot(&self) -> String {
        self.inner.snapshot_text()
    }

    /// How many users, API tokens and live sessions the realm holds.
    pub fn rows(&self) -> f64 {
        self.inner.rows() as f64
    }

    /// The seq of the last change record (SPEC §7.1).
    pub fn seq(&self) -> f64 {
        self.inner.seq() as f64
    }

    /// The change records after `after_seq`, as a JSON array of the records'
    /// text (strings, the same bytes in every binding).
    pub fn changes(&self, after_seq: Option<f64>) -> Result<String, JsValue> {
        let after = match after_seq {
            None => 0,
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => n as u64,
            Some(_) => {
                return Err(fail(tessera::Error::argument(
                    "after_seq must be a non-negative integer",
                )))
            }
        };
        to_json(&self.inner.changes(after).map_err(fail)?)
    }

    /// Applies change records made elsewhere (a JSON array of records);
    /// returns the new seq.
    pub fn apply(&self, records_json: &str) -> Result<f64, JsValue> {
        let records: Vec<serde_json::Value> = parse_typed("records", records_json)?;
        Ok(self.inner.apply(&records).map_err(fail)? as f64)
    }

    /// Sets (or, with `undefined`, removes) the journal (SPEC §7.1): an
    /// object whose `commit(recordsJson)` gets each call's records as a JSON
    /// array of their text, before the call returns. It returns `undefined`
    /// once they are durable, or `[code, message]` to fail the call, which
    /// then changes nothing in memory; a throw is `store_unavailable`.
    pub fn set_journal(&self, journal: Option<JsJournal>) {
        self.inner
            .set_journal(journal.map(|j| Arc::new(Journal(j)) as Arc<dyn tessera::realm::Journal>));
    }

    /// An engine handle sharing the realm's policy.
    pub fn engine(&self) -> RawEngine {
        RawEngine {
            inner: self.inner.shared_engine(),
        }
    }

    pub fn create_user(
        &self,
        actor_json: &str,
        username: &str,
        password: Option<String>,
        options_json: &str,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        let options: UserOptions = optional("options", options_json)?;
        let now = seconds(now)?;
        let user = self
            .inner
            .create_user(actor.as_ref(), username, password.as_deref(), &options, now)
            .map_err(fail)?;
        to_json(&user)
    }

    pub fn get_user(&self, actor_json: &str, user_id: &str) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        to_json(&self.inner.get_user(actor.as_ref(), user_id).map_err(fail)?)
    }

    pub fn list_users(&self, actor_json: &str) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        to_json(&self.inner.list_users(actor.as_ref()).map_err(fail)?)
    }

    pub fn set_roles(&self, actor_json: &str, user_id: &str, roles_json: &str) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        let roles: Vec<String> = parse_typed("roles", roles_json)?;
        to_json(
            &self
                .inner
                .set_roles(actor.as_ref(), user_id, &roles)
                .map_err(fail)?,
        )
    }

    pub fn set_password(
        &self,
        actor_json: &str,
        user_id: &str,
        password: Option<String>,
    ) -> Result<(), JsValue> {
        let actor = actor(actor_json)?;
        self.inner
            .set_password(actor.as_ref(), user_id, password.as_deref())
            .map_err(fail)
    }

    pub fn delete_user(&self, actor_json: &str, user_id: &str) -> Result<(), JsValue> {
        let actor = actor(actor_json)?;
        self.inner.delete_user(actor.as_ref(), user_id).map_err(fail)
    }

    pub fn login(&self, username: &str, password: &str, now: Option<f64>) -> Result<String, JsValue> {
        let now = seconds(now)?;
        to_json(&self.inner.login(username, password, now).map_err(fail)?)
    }

    pub fn create_api_token(
        &self,
        actor_json: &str,
        owner: &str,
        roles_json: &str,
        options_json: &str,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        let roles: Option<Vec<String>> = parse_typed("roles", roles_json)?;
        let options: ApiTokenOptions = optional("options", options_json)?;
        let now = seconds(now)?;
        let made = self
            .inner
            .create_api_token(actor.as_ref(), owner, roles.as_deref(), &options, now)
            .map_err(fail)?;
        to_json(&made)
    }

    pub fn list_api_tokens(&self, actor_json: &str, owner: Option<String>) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        to_json(
            &self
                .inner
                .list_api_tokens(actor.as_ref(), owner.as_deref())
                .map_err(fail)?,
        )
    }

    pub fn suspend_api_token(&self, actor_json: &str, token_id: &str) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        to_json(
            &self
                .inner
                .suspend_api_token(actor.as_ref(), token_id)
                .map_err(fail)?,
        )
    }

    pub fn resume_api_token(&self, actor_json: &str, token_id: &str) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        to_json(
            &self
                .inner
                .resume_api_token(actor.as_ref(), token_id)
                .map_err(fail)?,
        )
    }

    pub fn revoke_api_token(&self, actor_json: &str, token_id: &str) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        to_json(
            &self
                .inner
                .revoke_api_token(actor.as_ref(), token_id)
                .map_err(fail)?,
        )
    }

    pub fn replace_api_token(
        &self,
        actor_json: &str,
        token_id: &str,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        let actor = actor(actor_json)?;
        let now = seconds(now)?;
        to_json(
            &self
                .inner
                .replace_api_token(actor.as_ref(), token_id, now)
                .map_err(fail)?,
        )
    }

    pub fn open_session(&self, api_token_secret: &str, now: Option<f64>) -> Result<String, JsValue> {
        let now = seconds(now)?;
        to_json(&self.inner.open_session(api_token_secret, now).map_err(fail)?)
    }

    pub fn renew(&self, token: &str, now: Option<f64>) -> Result<String, JsValue> {
        let now = seconds(now)?;
        to_json(&self.inner.renew(token, now).map_err(fail)?)
    }

    pub fn close(&self, token: &str, now: Option<f64>) -> Result<(), JsValue> {
        let now = seconds(now)?;
        self.inner.close(token, now).map_err(fail)
    }

    pub fn restart(&self) -> Result<(), JsValue> {
        self.inner.restart().map_err(fail)
    }

    /// Holds `keys` as the realm's provider key set (in place of
    /// `options.jwks`); the JS layer fetches for it (`authenticateAsync`).
    pub fn set_key_set(&mut self, keys: &crate::RawKeySet) -> Result<(), JsValue> {
        let realm = Rc::get_mut(&mut self.inner)
            .ok_or_else(|| fail(tessera::Error::argument("the realm is in use")))?;
        realm.set_key_set(Arc::clone(&keys.inner));
        Ok(())
    }

    pub fn authenticate(&self, header: &str, now: Option<f64>) -> Result<String, JsValue> {
        let now = seconds(now)?;
        to_json(&self.inner.authenticate(header, now).map_err(fail)?)
    }
}

#[wasm_bindgen]
extern "C" {
    /// The JS object `set_journal` is given.
    pub type JsJournal;

    #[wasm_bindgen(method, catch)]
    fn commit(this: &JsJournal, records_json: &str) -> Result<Option<Vec<String>>, JsValue>;
}

struct Journal(JsJournal);

// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread;
// the core's `Send + Sync` bound is for native hosts.
unsafe impl Send for Journal {}
unsafe impl Sync for Journal {}

impl tessera::realm::Journal for Journal {
    fn commit(&self, records: &[String]) -> tessera::Result<()> {
        let text = serde_json::to_string(records)
            .map_err(|e| tessera::Error::realm("store_unavailable", e.to_string()))?;
        match self.0.commit(&text) {
            Ok(None) => Ok(()),
            Ok(Some(fault)) if fault.len() == 2 => Err(tessera::Error::realm(&fault[0], fault[1].clone())),
            Ok(Some(_)) => Err(tessera::Error::realm(
                "store_unavailable",
                "the journal answered neither undefined nor [code, message]",
            )),
            Err(_) => Err(tessera::Error::realm("store_unavailable", "the journal threw")),
        }
    }
}

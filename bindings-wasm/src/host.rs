//! The host's signature primitive (SPEC §6.1.1): no RSA, ECDSA or Ed25519 code
//! is in this module. Two ways in:
//!
//! - synchronous (`node:crypto`): the JS layer installs an object with
//!   `verify`, `importKey`, `sign` and `ed25519Public` once
//!   ([`install_host_crypto`]); the core calls it in the middle of a check, so
//!   a verification is one call from JS;
//! - asynchronous (WebCrypto): [`RawPending`] carries every check but the
//!   signature's, the verdict held; JS verifies and calls `finish`.
//!
//! Whatever the host throws is a failed verification, never an exception
//! crossing the core.

use crate::{fail, parse_value, seconds, to_json, RawEngine};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use tessera::token::{self, HostCrypto, Pending, SignatureCheck};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The JS object `install_host_crypto` is given.
    pub type Host;

    /// 1: verifies, 0: does not, 2: no key imported under `thumbprint` yet.
    #[wasm_bindgen(method, catch)]
    fn verify(
        this: &Host,
        alg: &str,
        thumbprint: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<u32, JsValue>;

    /// Imports the key (`jwk`: RFC 7638 members) under `thumbprint`; false if the host cannot.
    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(this: &Host, alg: &str, thumbprint: &str, jwk: &str) -> Result<bool, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn sign(this: &Host, alg: &str, secret: &[u8], message: &[u8]) -> Result<Option<Vec<u8>>, JsValue>;

    #[wasm_bindgen(method, catch, js_name = ed25519Public)]
    fn ed25519_public(this: &Host, seed: &[u8]) -> Result<Option<Vec<u8>>, JsValue>;
}

struct JsHost(Host);

// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread;
// the core's `Send + Sync` bound is for native hosts.
unsafe impl Send for JsHost {}
unsafe impl Sync for JsHost {}

impl HostCrypto for JsHost {
    fn verify(&self, check: &SignatureCheck<'_>) -> bool {
        let ask = || {
            self.0
                .verify(check.algorithm, check.thumbprint, check.message, check.signature)
        };
        match ask() {
            Ok(1) => true,
            Ok(2) => {
                matches!(
                    self.0
                        .import_key(check.algorithm, check.thumbprint, &check.key.jwk()),
                    Ok(true)
                ) && matches!(ask(), Ok(1))
            }
            _ => false,
        }
    }

    fn sign(&self, algorithm: &'static str, secret: &[u8], message: &[u8]) -> Option<Vec<u8>> {
        self.0.sign(algorithm, secret, message).ok().flatten()
    }

    fn ed25519_public(&self, seed: &[u8]) -> Option<Vec<u8>> {
        self.0.ed25519_public(seed).ok().flatten()
    }
}

/// Installs the synchronous signature primitive (`node:crypto`); the first
/// one stays. Returns whether this one was installed.
#[wasm_bindgen]
pub fn install_host_crypto(host: Host) -> bool {
    token::install_host_crypto(Box::new(JsHost(host)))
}

/// Whether a synchronous primitive is installed.
#[wasm_bindgen]
pub fn has_sync_crypto() -> bool {
    token::has_sync_crypto()
}

/// The core's `unsupported_runtime` error, as error JSON (for a runtime with
/// neither `node:crypto` nor WebCrypto).
#[wasm_bindgen]
pub fn unsupported_runtime() -> String {
    serde_json::to_string(&token::unsupported_runtime()).unwrap_or_default()
}

thread_local! {
    /// The last JWKS text and its parsed value: a host verifies many tokens
    /// against one JWKS, which is then parsed once (the text is compared).
    static LAST_JWKS: RefCell<Option<(String, Rc<Value>)>> = const { RefCell::new(None) };
}

/// `jwks_json` parsed, or the value parsed from the same text last time.
fn jwks_value(jwks_json: &str) -> Result<Rc<Value>, JsValue> {
    let hit = LAST_JWKS.with(|last| match &*last.borrow() {
        Some((text, value)) if text == jwks_json => Some(value.clone()),
        _ => None,
    });
    if let Some(value) = hit {
        return Ok(value);
    }
    let value = Rc::new(parse_value("jwks", jwks_json)?);
    LAST_JWKS.with(|last| *last.borrow_mut() = Some((jwks_json.to_string(), value.clone())));
    Ok(value)
}

/// A check done in everything but its signature (its verdict as JSON text).
#[wasm_bindgen]
pub struct RawPending {
    pending: Option<Pending<String>>,
    /// The engine whose signature cache learns a verified signature.
    engine: Option<Arc<tessera::Engine>>,
    /// For a provider JWT: the seconds `[from, until)` during which its time
    /// checks pass (`Engine::jwt_valid_between`), taken from the principal
    /// before it was serialised, so that JS need not hand it back to learn them.
    window: (i64, i64),
}

fn serialised<T: serde::Serialize>(pending: Pending<T>) -> Pending<String> {
    pending.map(|v| serde_json::to_string(&v).unwrap_or_default())
}

impl RawPending {
    pub(crate) fn new(
        pending: Pending<String>,
        engine: Option<Arc<tessera::Engine>>,
        window: (i64, i64),
    ) -> RawPending {
        RawPending {
            pending: Some(pending),
            engine,
            window,
        }
    }

    fn live(&self) -> Result<&Pending<String>, JsValue> {
        self.pending
            .as_ref()
            .ok_or_else(|| fail(tessera::Error::argument("this check was finished")))
    }
}

#[wasm_bindgen]
impl RawPending {
    /// Whether no host needs asking: verified before, or of the wrong length.
    pub fn settled(&self) -> Result<bool, JsValue> {
        let p = self.live()?;
        Ok(p.verified_before() || !p.signature_fits())
    }

    pub fn algorithm(&self) -> Result<String, JsValue> {
        Ok(self.live()?.signature().algorithm.to_string())
    }

    pub fn thumbprint(&self) -> Result<String, JsValue> {
        Ok(self.live()?.signature().thumbprint.to_string())
    }

    /// The checked key as a JWK (RFC 7638 members).
    pub fn jwk(&self) -> Result<String, JsValue> {
        Ok(self.live()?.signature().key.jwk())
    }

    pub fn message(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.live()?.signature().message.to_vec())
    }

    pub fn signature(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.live()?.signature().signature.to_vec())
    }

    /// `[from, until)` of a provider JWT's time checks (`[0, 0]` for a JWS
    /// or a signature): what the JS layer's verified-token cache keeps.
    pub fn window(&self) -> Vec<f64> {
        // Seconds since the epoch: exact in an f64 up to 2^53.
        vec![self.window.0 as f64, self.window.1 as f64]
    }

    /// The verdict (JSON text), given whether the signature verified.
    pub fn finish(&mut self, verified: bool) -> Result<String, JsValue> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| fail(tessera::Error::argument("this check was finished")))?;
        match &self.engine {
            Some(engine) => engine.finish_verify_jwt(pending, verified),
            None => pending.finish(verified),
        }
        .map_err(fail)
    }
}

#[wasm_bindgen]
impl RawEngine {
    /// A provider JWT checked against `jwks_json` and the policy's
    /// `tokens.jwt`, through the installed primitive (`unsupported_runtime`
    /// without one).
    pub fn verify_jwt(&self, token: &str, jwks_json: &str, now: Option<f64>) -> Result<String, JsValue> {
        let jwks = jwks_value(jwks_json)?;
        let now = seconds(now)?;
        to_json(&self.inner.verify_jwt(token, &jwks, now).map_err(fail)?)
    }

    /// `verify_jwt`, answered as `[from, until, principal]`: the principal and
    /// the seconds `[from, until)` during which its time checks pass
    /// (`Engine::jwt_valid_between`), for the JS layer's verified-token cache.
    pub fn verify_jwt_window(
        &self,
        token: &str,
        jwks_json: &str,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        let jwks = jwks_value(jwks_json)?;
        let now = seconds(now)?;
        let principal = self.inner.verify_jwt(token, &jwks, now).map_err(fail)?;
        let (from, until) = match &principal.claims {
            Some(serde_json::Value::Object(claims)) => self.inner.jwt_valid_between(claims),
            _ => (0, 0),
        };
        crate::windowed_json(from, until, &crate::JsPrincipal(&principal))
    }

    /// Every check of `verify_jwt` but the signature's.
    pub fn begin_verify_jwt(
        &self,
        token: &str,
        jwks_json: &str,
        now: Option<f64>,
    ) -> Result<RawPending, JsValue> {
        let jwks = jwks_value(jwks_json)?;
        let now = seconds(now)?;
        let pending = self.inner.begin_verify_jwt(token, &jwks, now).map_err(fail)?;
        let mut window = (0, 0);
        let pending = pending.map(|principal| {
            if let Some(serde_json::Value::Object(claims)) = &principal.claims {
                window = self.inner.jwt_valid_between(claims);
            }
            serde_json::to_string(&crate::JsPrincipal(&principal)).unwrap_or_default()
        });
        Ok(RawPending {
            pending: Some(pending),
            engine: Some(self.inner.clone()),
            window,
        })
    }
}

/// The token in an `Authorization` header value.
#[wasm_bindgen]
pub fn parse_authorization(header: &str) -> Result<String, JsValue> {
    to_json(&token::parse_authorization(header).map_err(fail)?)
}

/// The signature layer of a compact JWS (`tessera::token::verify_jws`); the
/// verified JWS as JSON (`{header, payload: [bytes], algorithm}`).
#[wasm_bindgen]
pub fn verify_jws(token: &str, jwks_json: &str, algorithms_json: &str) -> Result<String, JsValue> {
    let jwks = parse_value("jwks", jwks_json)?;
    let algorithms: Vec<String> = crate::parse_typed("algorithms", algorithms_json)?;
    let algorithms: Vec<&str> = algorithms.iter().map(String::as_str).collect();
    to_json(&token::verify_jws(token, &jwks, &algorithms).map_err(fail)?)
}

#[wasm_bindgen]
pub fn begin_verify_jws(token: &str, jwks_json: &str, algorithms_json: &str) -> Result<RawPending, JsValue> {
    let jwks = parse_value("jwks", jwks_json)?;
    let algorithms: Vec<String> = crate::parse_typed("algorithms", algorithms_json)?;
    let algorithms: Vec<&str> = algorithms.iter().map(String::as_str).collect();
    let pending = token::begin_verify_jws(token, &jwks, &algorithms).map_err(fail)?;
    Ok(RawPending {
        pending: Some(serialised(pending)),
        engine: None,
        window: (0, 0),
    })
}

/// One signature with one JWK (`tessera::token::verify_signature`).
#[wasm_bindgen]
pub fn verify_signature(
    algorithm: &str,
    jwk_json: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), JsValue> {
    let jwk = parse_value("jwk", jwk_json)?;
    token::verify_signature(algorithm, &jwk, message, signature).map_err(fail)
}

#[wasm_bindgen]
pub fn begin_verify_signature(
    algorithm: &str,
    jwk_json: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<RawPending, JsValue> {
    let jwk = parse_value("jwk", jwk_json)?;
    let pending = token::begin_verify_signature(algorithm, &jwk, message, signature).map_err(fail)?;
    Ok(RawPending {
        pending: Some(serialised(pending)),
        engine: None,
        window: (0, 0),
    })
}

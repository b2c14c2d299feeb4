//! # tessera-wasm
//!
//! The WebAssembly binding of the [`tessera`] engine, published on npm as
//! `tessera-policy`. It is deliberately thin: values cross the boundary as
//! JSON text (which the core already reads and writes with serde), and the
//! hand-written JavaScript layer in `npm/src/` (one module per concept) turns it into the
//! camelCase API of the package. Nothing here decides anything.
//!
//! Conventions of the raw exports (which are not the public API):
//!
//! - arguments that are JSON values arrive as `&str` holding JSON text;
//! - results leave as JSON text (`String`), booleans or handles;
//! - the fast path takes its strings from buffers in linear memory that JS
//!   writes directly, and only lengths and offsets cross: `isAllowed` asks
//!   [`RawPrepared::answers`] once per action and type and answers from JS
//!   after that; `RawEngine::authorize_batch` decides the rest;
//! - a failure is thrown as a JS string holding the JSON of a [`tessera::Error`]
//!   (`{kind, code, message, path?, offset?, problems?}`), which the JS layer
//!   turns into a `TesseraError`;
//! - nothing here may panic: with `panic = "abort"` a panic traps the module.
//!   A panic hook still records the message so the JS layer can report an
//!   internal error instead of an anonymous `RuntimeError` should one happen.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::cell::{RefCell, UnsafeCell};
use std::sync::Arc;
use tessera::{Engine, Error, OperationContext, PreparedPrincipal, Principal, Resource};
use wasm_bindgen::prelude::*;

#[cfg(feature = "analysis")]
mod analysis;
#[cfg(feature = "server")]
mod flat;
mod heap;
#[cfg(feature = "tokens")]
mod host;
#[cfg(feature = "tokens")]
mod keyset;
#[cfg(feature = "server")]
mod realm;
#[cfg(feature = "server")]
mod tokens;

#[cfg(feature = "tokens")]
pub use host::RawPending;
#[cfg(feature = "tokens")]
pub use keyset::RawKeySet;
#[cfg(feature = "server")]
pub use realm::RawRealm;

thread_local! {
    /// The message of the last panic, if one ever happened (see `take_panic`).
    static PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Installs the panic hook; runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        PANIC.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = message;
            }
        });
    }));
}

/// The message of the panic that trapped the module, or "" if none did.
#[wasm_bindgen]
pub fn take_panic() -> String {
    PANIC.with(|slot| {
        slot.try_borrow_mut()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    })
}

/// Panics on purpose. Only the package's tests call it (through the raw
/// exports), to check that a panic traps with its message recorded and that
/// the module goes on answering `take_panic`.
#[wasm_bindgen]
pub fn trap_for_tests(message: &str) {
    panic!("{message}");
}

/// Serialises a value the core produced; a failure (which serde_json cannot
/// produce for these types) still becomes an error, never a panic.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(unserialisable)
}

fn unserialisable(e: impl std::fmt::Display) -> JsValue {
    fail(Error::argument(format!("cannot serialise result: {e}")))
}

/// A principal as the JS layer hands it out from a token check: the keys
/// camelCase (`expiresAt`, `sessionId`, `apiTokenId`), in the order and with
/// the omissions of `Principal`'s own serialisation, the raw `claims` as
/// written. The JS side then only parses the text (no key renaming), on a
/// fresh token and on every token seen before.
#[cfg(feature = "tokens")]
pub(crate) struct JsPrincipal<'a>(pub &'a Principal);

#[cfg(feature = "tokens")]
impl Serialize for JsPrincipal<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        if let Some(id) = &p.id {
            m.serialize_entry("id", id)?;
        }
        m.serialize_entry("roles", &p.roles)?;
        m.serialize_entry("groups", &p.groups)?;
        m.serialize_entry("permissions", &p.permissions)?;
        m.serialize_entry("scopes", &p.scopes)?;
        if let Some(limits) = &p.limits {
            m.serialize_entry("limits", limits)?;
        }
        if let Some(c) = &p.credential {
            m.serialize_entry("credential", c)?;
        }
        if let Some(e) = p.expires_at {
            m.serialize_entry("expiresAt", &e)?;
        }
        if let Some(sid) = &p.session_id {
            m.serialize_entry("sessionId", sid)?;
        }
        if let Some(a) = &p.api_token_id {
            m.serialize_entry("apiTokenId", a)?;
        }
        if let Some(c) = &p.claims {
            m.serialize_entry("claims", c)?;
        }
        m.end()
    }
}

/// `[from,until,<value as JSON>]`: a verified token's answer and the seconds
/// during which it holds, written into one buffer.
#[cfg(feature = "tokens")]
pub(crate) fn windowed_json<T: Serialize>(from: i64, until: i64, value: &T) -> Result<String, JsValue> {
    use std::io::Write as _;
    let mut out = Vec::with_capacity(512);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "[{from},{until},");
    serde_json::to_writer(&mut out, value).map_err(unserialisable)?;
    out.push(b']');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(unserialisable)
}

/// A core error as the JS value the JS layer expects to catch.
pub(crate) fn fail(error: Error) -> JsValue {
    let text = serde_json::to_string(&error).unwrap_or_else(|_| {
        r#"{"kind":"argument","code":"invalid_argument","message":"unserialisable error"}"#.to_string()
    });
    JsValue::from_str(&text)
}

/// Reads JSON text into a value. The JS layer wrote the text, so a
/// syntax error carries no position in it (`tessera::argument::parse_text`).
#[cfg_attr(not(feature = "tokens"), allow(dead_code))]
pub(crate) fn parse_value(what: &str, text: &str) -> Result<Value, JsValue> {
    tessera::argument::parse_text(text, what).map_err(fail)
}

/// Reads JSON text into a typed input through the core's strict reader: a
/// struct only from an object, and every fault with its path
/// (`principal.roles[1]`), as in the Python package.
pub(crate) fn parse_typed<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, JsValue> {
    tessera::argument::from_value(&parse_value(what, text)?, what).map_err(fail)
}

pub(crate) fn principal(text: &str) -> Result<Principal, JsValue> {
    parse_typed("principal", text)
}

fn resource(text: &str) -> Result<Resource, JsValue> {
    parse_typed("resource", text)
}

/// `now` as the JS layer passes it: `None`, or a whole number of seconds.
#[cfg_attr(not(feature = "tokens"), allow(dead_code))]
pub(crate) fn seconds(now: Option<f64>) -> Result<Option<i64>, JsValue> {
    match now {
        None => Ok(None),
        // 2^53 - 1: beyond it a JS number may already be rounded.
        Some(n) if n.is_finite() && n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 => {
            Ok(Some(n as i64))
        }
        Some(_) => Err(fail(Error::argument("now: expected a whole number of seconds"))),
    }
}

/// Bytes of the scratch buffer through which the fast path passes its strings.
const SCRATCH_LEN: usize = 1024;

/// A fixed buffer in linear memory that JS writes between calls and Rust
/// reads (or writes an answer into) during one: the scratch buffer, the flat
/// calls' words (flat.rs), a token's input (keyset.rs).
pub(crate) struct Buffer<T, const N: usize>(UnsafeCell<[T; N]>);

// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread;
// JS touches a buffer only between calls, never while Rust holds a borrow of
// it, and nothing the core calls back into writes one.
unsafe impl<T, const N: usize> Sync for Buffer<T, N> {}

impl<T, const N: usize> Buffer<T, N> {
    pub(crate) const fn new(fill: [T; N]) -> Self {
        Buffer(UnsafeCell::new(fill))
    }

    /// The whole buffer; dereferencing it is the caller's `unsafe` (see `Sync` above).
    pub(crate) fn get(&self) -> *mut [T; N] {
        self.0.get()
    }

    /// Where it starts, for JS.
    pub(crate) fn ptr(&self) -> *mut T {
        self.0.get().cast()
    }
}

/// The buffer JS writes the action and type of a cache miss into (UTF-8,
/// back to back) before calling [`RawPrepared::answers`], and the flat calls'
/// strings: no allocation, no copy and no string marshalling per call.
static SCRATCH: Buffer<u8, SCRATCH_LEN> = Buffer::new([0; SCRATCH_LEN]);

/// Where the scratch buffer starts in linear memory.
#[wasm_bindgen]
pub fn scratch_ptr() -> *mut u8 {
    SCRATCH.ptr()
}

/// How many bytes the scratch buffer holds.
#[wasm_bindgen]
pub fn scratch_len() -> usize {
    SCRATCH_LEN
}

/// The module's linear memory, for the JS side to write the scratch buffer.
#[wasm_bindgen]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Where [`tessera::engine::generations`] lives in linear memory: the JS
/// layer reads it (as two little-endian u32) before answering from its cache
/// of [`RawPrepared::answers`], and drops the cache when it has moved.
#[wasm_bindgen]
pub fn generations_ptr() -> *const u64 {
    tessera::engine::generations().as_ptr()
}

/// Length marking an absent optional string in [`RawEngine::authorize_batch`].
const ABSENT: u32 = u32::MAX;

thread_local! {
    /// The buffer a batch's strings are written into (see `batch_buffer`);
    /// it keeps the size of the largest batch so far.
    static BATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of at least `len` bytes for the strings of one
/// [`RawEngine::authorize_batch`]; JS writes them there (UTF-8, back to back)
/// and then calls it. The pointer is valid until the next call of this.
#[wasm_bindgen]
pub fn batch_buffer(len: usize) -> *mut u8 {
    BATCH.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => {
            if b.len() < len {
                b.resize(len, 0);
            }
            b.as_mut_ptr()
        }
        Err(_) => std::ptr::null_mut(),
    })
}

/// The action and type JS wrote at the start of the scratch buffer, `a` and
/// `t` bytes long; `None` if the lengths do not fit or a string is not UTF-8
/// (which the JS side never produces).
fn scratch_pair(a: u32, t: u32) -> Option<(&'static str, &'static str)> {
    // SAFETY: see `Buffer`; no JS runs while this shared borrow lives.
    let buf: &'static [u8; SCRATCH_LEN] = unsafe { &*SCRATCH.get() };
    let a = usize::try_from(a).ok()?;
    let end = a.checked_add(usize::try_from(t).ok()?)?;
    let action = std::str::from_utf8(buf.get(..a)?).ok()?;
    let kind = std::str::from_utf8(buf.get(a..end)?).ok()?;
    Some((action, kind))
}

/// The core's decision reasons (SPEC §4–5), in its order, as JSON text: the
/// table the JS layer exports instead of copying it.
#[wasm_bindgen]
pub fn reasons() -> String {
    let names: Vec<&str> = tessera::Reason::ALL.iter().map(|r| r.as_str()).collect();
    Value::from(names).to_string()
}

/// Parses a permission label without a policy (default actions and subjects).
#[wasm_bindgen]
pub fn parse_label(text: &str) -> Result<String, JsValue> {
    to_json(&tessera::parse_label(text, None).map_err(fail)?)
}

/// The canonical text of a label given as JSON (as `parse_label` returns it):
/// the core's [`tessera::Label::format`], so no binding rebuilds the grammar.
#[wasm_bindgen]
pub fn format_label(label_json: &str) -> Result<String, JsValue> {
    let label: tessera::Label = parse_typed("label", label_json)?;
    Ok(label.format())
}

/// A loaded, compiled policy.
#[wasm_bindgen]
pub struct RawEngine {
    /// Its own engine, or the one a realm shares (`realm.engine`), so that
    /// loading a policy changes the realm's rules.
    pub(crate) inner: Arc<Engine>,
}

#[wasm_bindgen]
impl RawEngine {
    /// Loads a policy from JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str) -> Result<RawEngine, JsValue> {
        let engine = Engine::from_json(policy).map_err(fail)?;
        Ok(RawEngine {
            inner: Arc::new(engine),
        })
    }

    /// Replaces the policy atomically.
    pub fn load(&self, policy: &str) -> Result<(), JsValue> {
        self.inner.load_json(policy).map_err(fail)
    }

    pub fn parse_label(&self, text: &str) -> Result<String, JsValue> {
        to_json(&self.inner.parse_label(text).map_err(fail)?)
    }

    pub fn authorize(
        &self,
        principal_json: &str,
        action: &str,
        resource_json: &str,
    ) -> Result<String, JsValue> {
        let p = principal(principal_json)?;
        let r = resource(resource_json)?;
        to_json(&self.inner.authorize(&p, action, &r).map_err(fail)?)
    }

    pub fn explain(
        &self,
        principal_json: &str,
        action: &str,
        resource_json: &str,
    ) -> Result<String, JsValue> {
        let p = principal(principal_json)?;
        let r = resource(resource_json)?;
        to_json(&self.inner.explain(&p, action, &r).map_err(fail)?)
    }

    pub fn capabilities(&self, principal_json: &str, resource_json: &str) -> Result<String, JsValue> {
        let p = principal(principal_json)?;
        let r = resource(resource_json)?;
        to_json(&self.inner.capabilities(&p, &r).map_err(fail)?)
    }

    /// `principal_json` may be `null` (an anonymous caller).
    pub fn authorize_operation(
        &self,
        principal_json: &str,
        operation: &str,
        context_json: &str,
    ) -> Result<String, JsValue> {
        let p: Option<Principal> = parse_typed("principal", principal_json)?;
        let ctx: Option<OperationContext> = parse_typed("context", context_json)?;
        let ctx = ctx.unwrap_or_default();
        to_json(
            &self
                .inner
                .authorize_operation(p.as_ref(), operation, &ctx)
                .map_err(fail)?,
        )
    }

    /// Resolves a principal once for many fast checks.
    pub fn prepare(&self, principal_json: &str) -> Result<RawPrepared, JsValue> {
        let p = principal(principal_json)?;
        let prepared = self.inner.prepare(&p).map_err(fail)?;
        Ok(RawPrepared {
            engine: self.inner.clone(),
            prepared,
        })
    }

    /// Whether `prepared` was prepared by this engine (and so its cached
    /// answers are this engine's).
    pub fn prepared_here(&self, prepared: &RawPrepared) -> bool {
        std::ptr::eq::<Engine>(&*self.inner, &*prepared.engine)
    }

    /// Many fast checks in one call. The strings are in the first `used`
    /// bytes of the batch buffer (see [`batch_buffer`]), UTF-8; `spans` holds eight numbers per
    /// request, the (offset, byte length) of its action, type, id and owner
    /// in that buffer (length `u32::MAX` for an absent id or owner). A string
    /// repeated across requests is written once and pointed at again. The
    /// answer holds one byte, 0 or 1, per request.
    pub fn authorize_batch(
        &self,
        prepared: &RawPrepared,
        used: usize,
        spans: &[u32],
    ) -> Result<Vec<u8>, JsValue> {
        let bad = || fail(Error::argument("requests: spans do not match the strings"));
        if !spans.len().is_multiple_of(8) {
            return Err(bad());
        }
        BATCH.with(|buffer| {
            let buffer = buffer.try_borrow().map_err(|_| bad())?;
            // Validated once; a span not on character boundaries is refused by `get`.
            let all = buffer
                .get(..used)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(bad)?;
            let text = |at: u32, len: u32| -> Result<Option<&str>, JsValue> {
                if len == ABSENT {
                    return Ok(None);
                }
                let at = usize::try_from(at).map_err(|_| bad())?;
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|n| at.checked_add(n))
                    .ok_or_else(bad)?;
                all.get(at..end).map(Some).ok_or_else(bad)
            };
            let mut out = Vec::with_capacity(spans.len() / 8);
            for r in spans.chunks_exact(8) {
                let (Some(action), Some(kind)) = (text(r[0], r[1])?, text(r[2], r[3])?) else {
                    return Err(bad());
                };
                let (id, owner) = (text(r[4], r[5])?, text(r[6], r[7])?);
                out.push(u8::from(self.inner.is_allowed(
                    &prepared.prepared,
                    action,
                    kind,
                    id,
                    owner,
                )));
            }
            Ok(out)
        })
    }
}

/// A principal resolved once against an engine's policy: the fast path.
#[wasm_bindgen]
pub struct RawPrepared {
    engine: Arc<Engine>,
    prepared: PreparedPrincipal,
}

#[wasm_bindgen]
impl RawPrepared {
    /// The hot check: strings in, a boolean out, no JSON.
    pub fn is_allowed(&self, action: &str, kind: &str, id: Option<String>, owner: Option<String>) -> bool {
        self.engine
            .is_allowed(&self.prepared, action, kind, id.as_deref(), owner.as_deref())
    }

    /// [`Engine::answers`] for the action and type in the scratch buffer, in
    /// the core's packed form ([`tessera::Answers::packed`], whose doc is the
    /// format the JS cache decodes). `None` when the lengths do not describe
    /// the buffer.
    pub fn answers(&self, action: u32, kind: u32) -> Option<String> {
        let (action, kind) = scratch_pair(action, kind)?;
        Some(self.engine.answers(&self.prepared, action, kind).packed())
    }

    /// Where the generation of this principal's engine lives in linear
    /// memory ([`Engine::generation`]): the JS layer keeps this principal's
    /// answers while it has not moved, whatever other engines do. Valid
    /// while this handle lives (it holds the engine).
    pub fn generation_ptr(&self) -> *const u64 {
        self.engine.generation_cell().as_ptr()
    }

    /// The prepared principal's id, which decides what it owns.
    pub fn principal_id(&self) -> Option<String> {
        self.prepared.principal().id.clone()
    }

    /// The full decision for a resource given as JSON.
    pub fn authorize(&self, action: &str, resource_json: &str) -> Result<String, JsValue> {
        let r = resource(resource_json)?;
        to_json(&self.engine.authorize_prepared(&self.prepared, action, &r))
    }

    /// The principal this was prepared from, as JSON.
    pub fn principal(&self) -> Result<String, JsValue> {
        to_json(self.prepared.principal())
    }

    /// The effective roles, breadth-first, as JSON.
    pub fn effective_roles(&self) -> Result<String, JsValue> {
        to_json(&self.prepared.effective_roles())
    }
}

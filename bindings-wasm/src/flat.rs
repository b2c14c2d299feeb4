//! Principals, resources and operation contexts of the common shape (strings
//! and lists of strings, no `claims`), passed without JSON: the JS layer
//! (flat.mjs) writes their strings back to back into the scratch buffer and
//! their lengths and counts, in a fixed order, into [`FLAT_WORDS`]; this side
//! builds the core's types from them and decides. Anything else goes through
//! JSON, so this is a transport, not a second reader: the same values reach
//! the core either way (bindings-wasm/test/flat.test.mjs compares the two).
//!
//! Order of the words (a string is its byte length, or [`ABSENT`]):
//! - principal: `id`; `roles`, `groups`, `permissions`, `scopes` as a count
//!   then each string; `limits` the same, or `ABSENT` for none; `credential`
//!   (0 none, 1 `jwt`, 2 `session`, 3 `api_token`); `session_id`;
//!   `api_token_id` (`expires_at` is an argument);
//! - then for `authorize`: action, `type`, `id`, `owner`, `owners` (count,
//!   strings); for `authorize_operation`: the operation, then the context's
//!   `id`, `owner`, `owners`.
//!
//! The decision comes back the same way, when it fits: words `allowed` (0 or
//! 1), `reason` (its place in `Reason::ALL`, the order of `reasons()`),
//! `rule`, `source`, `message`, the strings back to back from the start of the
//! scratch buffer; the call then answers `undefined`, and otherwise the
//! decision as JSON text.

use crate::{fail, seconds, to_json, Buffer, RawEngine, ABSENT, SCRATCH, SCRATCH_LEN};
use tessera::{Credential, Decision, Error, OperationContext, Principal, Reason, Resource};
use wasm_bindgen::prelude::*;

/// Words [`FLAT_WORDS`] holds; a request needing more goes through JSON.
const FLAT_WORDS_LEN: usize = 128;

static FLAT_WORDS: Buffer<u32, FLAT_WORDS_LEN> = Buffer::new([0; FLAT_WORDS_LEN]);

/// Reads the strings and words of one request, in order.
struct Reader<'a> {
    text: &'a str,
    at: usize,
    words: &'a [u32],
    next: usize,
}

fn bad() -> JsValue {
    fail(Error::argument("a flat request does not match its buffers"))
}

impl<'a> Reader<'a> {
    fn new(used: u32, words: u32) -> Result<Reader<'a>, JsValue> {
        // SAFETY: see `Buffer`; no JS runs while these borrows live.
        let bytes: &'a [u8; SCRATCH_LEN] = unsafe { &*SCRATCH.get() };
        let all: &'a [u32; FLAT_WORDS_LEN] = unsafe { &*FLAT_WORDS.get() };
        let text = bytes
            .get(..used as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(bad)?;
        let words = all.get(..words as usize).ok_or_else(bad)?;
        Ok(Reader {
            text,
            at: 0,
            words,
            next: 0,
        })
    }

    fn word(&mut self) -> Result<u32, JsValue> {
        let w = *self.words.get(self.next).ok_or_else(bad)?;
        self.next += 1;
        Ok(w)
    }

    fn str(&mut self) -> Result<Option<&'a str>, JsValue> {
        let len = self.word()?;
        if len == ABSENT {
            return Ok(None);
        }
        let end = self.at.checked_add(len as usize).ok_or_else(bad)?;
        let s = self.text.get(self.at..end).ok_or_else(bad)?;
        self.at = end;
        Ok(Some(s))
    }

    fn string(&mut self) -> Result<Option<String>, JsValue> {
        Ok(self.str()?.map(str::to_string))
    }

    fn list(&mut self) -> Result<Option<Vec<String>>, JsValue> {
        let n = self.word()?;
        if n == ABSENT {
            return Ok(None);
        }
        (0..n)
            .map(|_| self.string()?.ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn principal(&mut self, expires_at: Option<f64>) -> Result<Principal, JsValue> {
        let id = self.string()?;
        let mut lists = [(); 4].map(|_| Vec::new());
        for l in &mut lists {
            *l = self.list()?.ok_or_else(bad)?;
        }
        let [roles, groups, permissions, scopes] = lists;
        let limits = self.list()?;
        let credential = match self.word()? {
            0 => None,
            1 => Some(Credential::Jwt),
            2 => Some(Credential::Session),
            3 => Some(Credential::ApiToken),
            _ => return Err(bad()),
        };
        Ok(Principal {
            id,
            roles,
            groups,
            permissions,
            scopes,
            limits,
            credential,
            expires_at: seconds(expires_at)?,
            session_id: self.string()?,
            api_token_id: self.string()?,
            claims: None,
        })
    }

    /// The rest must have been read: a mismatch is the JS layer's bug.
    fn done(&self) -> Result<(), JsValue> {
        if self.next == self.words.len() && self.at == self.text.len() {
            Ok(())
        } else {
            Err(bad())
        }
    }
}

/// Writes `d` into the buffers (see the top of this file), or answers its
/// JSON when its strings do not fit the scratch buffer.
fn answer(d: &Decision) -> Result<Option<String>, JsValue> {
    let source = d.source.as_ref().map(ToString::to_string);
    let strings = [d.rule.as_deref(), source.as_deref(), d.message.as_deref()];
    let reason = Reason::ALL.iter().position(|r| *r == d.reason);
    let size: usize = strings.iter().flatten().map(|s| s.len()).sum();
    let Some(reason) = reason.filter(|_| size <= SCRATCH_LEN) else {
        return to_json(d).map(Some);
    };
    // SAFETY: see `Buffer`; the request's borrows of the
    // buffers (`Reader`) have ended, and no JS runs while these live.
    let bytes: &mut [u8; SCRATCH_LEN] = unsafe { &mut *SCRATCH.get() };
    let words: &mut [u32; FLAT_WORDS_LEN] = unsafe { &mut *FLAT_WORDS.get() };
    words[0] = u32::from(d.allowed);
    words[1] = reason as u32;
    let mut at = 0;
    for (w, s) in words[2..5].iter_mut().zip(strings) {
        *w = match s {
            None => ABSENT,
            Some(s) => {
                bytes[at..at + s.len()].copy_from_slice(s.as_bytes());
                at += s.len();
                s.len() as u32
            }
        };
    }
    Ok(None)
}

#[wasm_bindgen]
impl RawEngine {
    /// Where the lengths and counts of a flat request go (u32, little-endian).
    /// A static of the class, not a module export: the page modules lack it,
    /// and bundlers refuse a missing named import, never a missing property.
    pub fn flat_words_ptr() -> *mut u32 {
        FLAT_WORDS.ptr()
    }

    /// How many words [`RawEngine::flat_words_ptr`]'s buffer holds.
    pub fn flat_words_len() -> usize {
        FLAT_WORDS_LEN
    }

    /// `authorize` of a flat principal and resource: `used` bytes of the
    /// scratch buffer and `words` words (see the top of this file); the
    /// decision in the buffers, or as JSON when it does not fit.
    pub fn authorize_flat(
        &self,
        used: u32,
        words: u32,
        expires_at: Option<f64>,
    ) -> Result<Option<String>, JsValue> {
        let mut r = Reader::new(used, words)?;
        let p = r.principal(expires_at)?;
        let action = r.str()?.ok_or_else(bad)?;
        let resource = Resource {
            kind: r.string()?.ok_or_else(bad)?,
            id: r.string()?,
            owner: r.string()?,
            owners: r.list()?.ok_or_else(bad)?,
        };
        r.done()?;
        let d = self.inner.authorize(&p, action, &resource).map_err(fail)?;
        answer(&d)
    }

    /// `authorize_operation` of a flat principal (none when `anonymous`),
    /// the operation and a flat context.
    pub fn authorize_operation_flat(
        &self,
        used: u32,
        words: u32,
        expires_at: Option<f64>,
        anonymous: bool,
    ) -> Result<Option<String>, JsValue> {
        let mut r = Reader::new(used, words)?;
        let p = if anonymous {
            None
        } else {
            Some(r.principal(expires_at)?)
        };
        let operation = r.str()?.ok_or_else(bad)?;
        let context = OperationContext {
            id: r.string()?,
            owner: r.string()?,
            owners: r.list()?.ok_or_else(bad)?,
        };
        r.done()?;
        let d = self
            .inner
            .authorize_operation(p.as_ref(), operation, &context)
            .map_err(fail)?;
        answer(&d)
    }
}

//! Tokens remembered whole, with what was learnt from them: a key set's
//! verified provider JWTs (`keyset.rs`) and a held session key's verified
//! sessions (`session.rs`).
//!
//! Only facts that cannot change are kept (this token's signature verified
//! with this key; its header and claims decode to these values): time,
//! policy and revocation checks run on every call regardless. A hit must
//! equal the token exactly, so two tokens sharing an id is a miss, never a
//! wrong answer.
//!
//! A memo keeps [`TOKEN_CAPACITY`] tokens, or more when its holder says how
//! many tokens are in use ([`TokenMemo::keep_at_least`]): a realm keeps one
//! per session it holds, so a realm of 100k live sessions, each asked in
//! turn, still answers from memory (about 790 bytes for a 293-character
//! session token, measured).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Tokens kept at least; past the memo's limit the oldest is dropped first.
pub(crate) const TOKEN_CAPACITY: usize = 4096;

/// Remembered tokens and their facts, the oldest dropped first past the
/// limit ([`TOKEN_CAPACITY`] unless raised).
pub(crate) struct TokenMemo<T> {
    inner: Mutex<Inner<T>>,
    limit: AtomicUsize,
}

struct Inner<T> {
    map: HashMap<u64, (Box<str>, Arc<T>)>,
    order: VecDeque<u64>,
}

impl<T> Default for TokenMemo<T> {
    fn default() -> Self {
        TokenMemo {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
            limit: AtomicUsize::new(TOKEN_CAPACITY),
        }
    }
}

/// A token's id in the memo: its length and last 64 bytes (the signature's
/// tail, as good as random), hashed; not the whole token, which would cost
/// more than the rest of a remembered verification.
fn token_id(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let bytes = token.as_bytes();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.len().hash(&mut h);
    bytes[bytes.len().saturating_sub(64)..].hash(&mut h);
    h.finish()
}

impl<T> TokenMemo<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Inserts and removals are single operations: a panic elsewhere
        // while the lock was held leaves a consistent memo.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was remembered of exactly this token.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<T>> {
        let inner = self.lock();
        inner
            .map
            .get(&token_id(token))
            .filter(|(t, _)| &**t == token)
            .map(|(_, v)| v.clone())
    }

    /// Remembers `facts` of `token` (replacing what an id-sharing token left).
    pub(crate) fn put(&self, token: &str, facts: impl Into<Arc<T>>) {
        let id = token_id(token);
        let mut inner = self.lock();
        if inner.map.insert(id, (token.into(), facts.into())).is_none() {
            inner.order.push_back(id);
        }
        let limit = self.limit.load(Ordering::Relaxed);
        while inner.order.len() > limit {
            if let Some(old) = inner.order.pop_front() {
                inner.map.remove(&old);
            }
        }
    }

    /// Keeps up to `in_use` tokens (never fewer than [`TOKEN_CAPACITY`]);
    /// a lower figure than before drops the oldest at the next insert.
    /// A realm says this on every session lookup: the limit is written only
    /// when it changes, so threads reading one realm do not contend for it.
    pub(crate) fn keep_at_least(&self, in_use: usize) {
        let limit = in_use.max(TOKEN_CAPACITY);
        if self.limit.load(Ordering::Relaxed) != limit {
            self.limit.store(limit, Ordering::Relaxed);
        }
    }

    /// The most tokens kept now.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Number of remembered tokens.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_is_the_same_token_only() {
        let memo = TokenMemo::default();
        memo.put("a.b.c", 1);
        assert_eq!(memo.get("a.b.c").as_deref(), Some(&1));
        assert!(memo.get("a.b.d").is_none());
        assert!(memo.get("a.b.").is_none());
    }

    #[test]
    fn the_oldest_is_dropped_past_the_capacity() {
        let memo = TokenMemo::default();
        for i in 0..TOKEN_CAPACITY + 10 {
            memo.put(&format!("token-{i}"), i);
        }
        assert_eq!(memo.len(), TOKEN_CAPACITY);
        assert!(memo.get("token-0").is_none());
        assert!(memo.get("token-9").is_none());
        assert_eq!(memo.get("token-10").as_deref(), Some(&10));
        assert_eq!(
            memo.get(&format!("token-{}", TOKEN_CAPACITY + 9)).as_deref(),
            Some(&(TOKEN_CAPACITY + 9))
        );
    }

    #[test]
    fn a_raised_limit_keeps_more_and_a_lowered_one_drops_the_oldest() {
        let memo = TokenMemo::default();
        memo.keep_at_least(TOKEN_CAPACITY * 2);
        for i in 0..TOKEN_CAPACITY * 2 + 1 {
            memo.put(&format!("token-{i}"), i);
        }
        assert_eq!(memo.len(), TOKEN_CAPACITY * 2);
        assert!(memo.get("token-0").is_none());
        assert_eq!(memo.get("token-1").as_deref(), Some(&1));
        memo.keep_at_least(10);
        memo.put("one-more", 0);
        assert_eq!(memo.len(), TOKEN_CAPACITY);
        assert_eq!(memo.get("one-more").as_deref(), Some(&0));
        assert!(memo.get(&format!("token-{}", TOKEN_CAPACITY + 1)).is_none());
    }
}

//! Durable and shared realms (SPEC §7.1): the [`Journal`] a host's store
//! implements, and [`Realm::seq`], [`Realm::changes`], [`Realm::apply`].
//!
//! The core does no I/O. A store (SQLite, PostgreSQL, in the host language)
//! is handed each call's change records, as text, *after* they were checked
//! and folded into memory and *before* the call returns; if the store fails,
//! the fold is undone and the call fails with the store's error. Records made
//! by other processes reach the realm through [`Realm::apply`].

use super::change::{parse_record, Change};
use super::state::State;
use super::Realm;
use crate::error::{Error, Result};
use serde_json::Value;
use std::sync::Arc;

/// Where a realm's change records go: a host's store.
///
/// `commit` gets the records of one call (one or more, with consecutive
/// `seq`s following the realm's [`seq`](Realm::seq) before the call), each
/// as the exact JSON text to keep. It returns once they are durable, all of
/// them or none; an error makes the call fail with that error and leaves
/// the realm as it was. It runs under the realm's write lock: it must not
/// call back into the realm.
///
/// The stores shipped with the packages answer `store_conflict` when the
/// log already holds a record with the first `seq` (another process wrote
/// first): the host then applies the newer records and retries the call.
///
/// ```
/// use serde_json::json;
/// use std::sync::{Arc, Mutex};
/// use tessera::{Realm, RealmOptions, UserOptions};
/// use tessera::realm::Journal;
///
/// #[derive(Default)]
/// struct Log(Mutex<Vec<String>>);
/// impl Journal for Log {
///     fn commit(&self, records: &[String]) -> tessera::Result<()> {
///         self.0.lock().unwrap().extend_from_slice(records);
///         Ok(())
///     }
/// }
///
/// let policy = json!({"version": 1, "roles": {"user": {}, "admin": {}}});
/// let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
/// let realm = Realm::new(&policy, &key, &RealmOptions::fast_for_tests()).unwrap();
/// let log = Arc::new(Log::default());
/// realm.set_journal(Some(log.clone()));
/// realm.create_user(None, "ann", None, &UserOptions { id: Some("u-ann".into()) }, Some(5)).unwrap();
/// let kept = log.0.lock().unwrap().clone();
/// assert_eq!(kept.len(), 1);
/// assert!(kept[0].starts_with(r#"{"seq":1,"kind":"user_put","user":{"id":"u-ann""#));
/// assert_eq!(realm.changes(0).unwrap(), kept);
/// ```
pub trait Journal: Send + Sync {
    /// Makes `records` durable, all or none.
    fn commit(&self, records: &[String]) -> Result<()>;
}

impl Realm {
    /// Sets (or, with `None`, removes) the journal every later change is
    /// committed to.
    pub fn set_journal(&self, journal: Option<Arc<dyn Journal>>) {
        *self.journal.write().unwrap_or_else(|e| e.into_inner()) = journal;
    }

    /// The `seq` of the last change record the realm holds (0 for none).
    /// Snapshots carry it; [`apply`](Realm::apply) continues from it.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// assert_eq!(realm.seq(), 0);
    /// realm.restart().unwrap();
    /// assert_eq!(realm.seq(), 1);
    /// ```
    pub fn seq(&self) -> u64 {
        self.read().seq
    }

    /// The change records after `after_seq`, in order, as JSON text (the
    /// same bytes in every binding). The realm keeps the latest 65,536 in
    /// memory; asking for older ones is `changes_compacted` (a store has
    /// them all). `after_seq` beyond [`seq`](Realm::seq) gives none.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// realm.restart().unwrap();
    /// assert_eq!(realm.changes(0).unwrap(), [r#"{"seq":1,"kind":"epoch_raised","epoch":1}"#]);
    /// assert!(realm.changes(1).unwrap().is_empty());
    /// ```
    pub fn changes(&self, after_seq: u64) -> Result<Vec<String>> {
        let state = self.read();
        if after_seq >= state.seq {
            return Ok(Vec::new());
        }
        let first = state.first_logged();
        if after_seq + 1 < first {
            return Err(Error::realm(
                "changes_compacted",
                format!("records before {first} are no longer held in memory; read them from the store"),
            ));
        }
        let skip = (after_seq + 1 - first) as usize;
        Ok(state.log.iter().skip(skip).cloned().collect())
    }

    /// Applies change records made elsewhere (another process, through a
    /// store). Records at or below [`seq`](Realm::seq) are skipped (applying
    /// twice changes nothing); the rest must follow on without a gap. Each is
    /// checked as [`restore`](Realm::restore) checks a snapshot, and the batch
    /// is applied whole or not at all. Returns the new `seq`. The journal is
    /// not called: these records are already stored.
    ///
    /// Errors: `invalid_change` (not a record, an unknown `kind`, a wrong
    /// field, or a change that breaks an invariant), `seq_gap`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions};
    /// let policy = json!({"version": 1, "roles": {"user": {}, "admin": {}}});
    /// let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
    /// let a = Realm::new(&policy, &key, &RealmOptions::fast_for_tests()).unwrap();
    /// let b = Realm::new(&policy, &key, &RealmOptions::fast_for_tests()).unwrap();
    /// a.restart().unwrap();
    /// let records: Vec<_> = a.changes(0).unwrap().iter().map(|t| serde_json::from_str(t).unwrap()).collect();
    /// assert_eq!(b.apply(&records).unwrap(), 1);
    /// assert_eq!(b.apply(&records).unwrap(), 1); // idempotent
    /// assert_eq!(b.snapshot(), a.snapshot());
    /// let gap = json!({"seq": 3, "kind": "epoch_raised", "epoch": 2});
    /// assert_eq!(b.apply(&[gap]).unwrap_err().code, "seq_gap");
    /// ```
    pub fn apply(&self, records: &[Value]) -> Result<u64> {
        let parsed = records
            .iter()
            .enumerate()
            .map(|(i, r)| parse_record(r).map_err(|e| e.with_path(format!("/{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let mut state = self.write();
        let fresh: Vec<(u64, Change)> = parsed.into_iter().filter(|(seq, _)| *seq > state.seq).collect();
        let texts = state.fold_all(&fresh)?;
        state.remember(texts);
        Ok(state.seq)
    }

    /// Folds a call's changes in and commits them to the journal; on any
    /// failure the state is as before. Called with the write lock held.
    pub(super) fn commit(&self, state: &mut State, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let scalars = (state.bootstrapped, state.epoch, state.seq);
        let numbered: Vec<(u64, Change)> = changes
            .into_iter()
            .zip(state.seq + 1..)
            .map(|(c, seq)| (seq, c))
            .collect();
        let (texts, undo) = state.fold_all_undoable(&numbered)?;
        let journal = self.journal.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(journal) = journal {
            if let Err(e) = journal.commit(&texts) {
                state.unfold(undo, scalars);
                return Err(e);
            }
        }
        state.remember(texts);
        Ok(())
    }
}

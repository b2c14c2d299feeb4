//! The realm's three tables (users, API tokens, sessions) with the indexes
//! that keep every call off a linear path: usernames folded to ASCII lower
//! case, tokens by owner, sessions by user, by token and by expiry.
//!
//! Each table keeps creation order (what snapshots and listings show) by
//! giving every new row the next ordinal: a removal is `O(log n)`, and a row
//! put back by an undo returns to its old place.

use super::records::{SessionRecord, UserRecord};
use crate::token::ApiTokenRecord;
use compact_str::CompactString;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A previous row: its ordinal and value, or `None` if there was none.
pub(crate) type Prev<R> = Option<(u64, R)>;

/// Rows keyed by id, iterated in creation order. A lookup by id is one hash
/// probe (the row sits beside its ordinal): the order index is read only by
/// listings and snapshots, so a large realm's hot path does not walk a tree.
#[derive(Debug, Clone)]
pub(crate) struct Table<R> {
    rows: HashMap<CompactString, (u64, R)>,
    order: BTreeMap<u64, CompactString>,
    next: u64,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Table {
            rows: HashMap::new(),
            order: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<R> Table<R> {
    pub fn get(&self, id: &str) -> Option<&R> {
        self.rows.get(id).map(|(_, row)| row)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.rows.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn values(&self) -> impl Iterator<Item = &R> {
        self.order.values().filter_map(|id| self.get(id))
    }

    pub fn ord(&self, id: &str) -> Option<u64> {
        self.rows.get(id).map(|(ord, _)| *ord)
    }

    pub fn by_ord(&self, ord: u64) -> Option<&R> {
        self.order.get(&ord).and_then(|id| self.get(id))
    }

    /// Puts a row: in place if the id exists, else at the end.
    fn put(&mut self, id: &str, row: R) -> Prev<R> {
        match self.rows.get_mut(id) {
            Some((ord, old)) => Some((*ord, std::mem::replace(old, row))),
            None => {
                let ord = self.next;
                self.next += 1;
                self.rows.insert(id.into(), (ord, row));
                self.order.insert(ord, id.into());
                None
            }
        }
    }

    fn remove(&mut self, id: &str) -> Prev<R> {
        let (ord, row) = self.rows.remove(id)?;
        self.order.remove(&ord);
        Some((ord, row))
    }

    /// Makes `id`'s row what `prev` says it was (undo of a put or remove).
    fn reset(&mut self, id: &str, prev: Prev<R>) {
        self.remove(id);
        if let Some((ord, row)) = prev {
            self.rows.insert(id.into(), (ord, row));
            self.order.insert(ord, id.into());
            self.next = self.next.max(ord + 1);
        }
    }
}

/// The key usernames are unique under: ASCII case folded.
pub(crate) fn username_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Users, and user ids by folded username.
#[derive(Debug, Clone, Default)]
pub(crate) struct Users {
    pub table: Table<UserRecord>,
    by_name: HashMap<String, String>,
}

impl Users {
    pub fn get(&self, id: &str) -> Option<&UserRecord> {
        self.table.get(id)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.table.contains_key(id)
    }

    pub fn values(&self) -> impl Iterator<Item = &UserRecord> {
        self.table.values()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn by_name(&self, username: &str) -> Option<&UserRecord> {
        self.by_name
            .get(&username_key(username))
            .and_then(|id| self.get(id))
    }

    pub fn put(&mut self, user: UserRecord) -> Prev<UserRecord> {
        let id = user.id.clone();
        let prev = self.table.get(&id).map(|u| username_key(&u.username));
        if let Some(old) = prev {
            self.by_name.remove(&old);
        }
        self.by_name.insert(username_key(&user.username), id.clone());
        self.table.put(&id, user)
    }

    pub fn remove(&mut self, id: &str) -> Prev<UserRecord> {
        let prev = self.table.remove(id)?;
        self.by_name.remove(&username_key(&prev.1.username));
        Some(prev)
    }

    pub fn reset(&mut self, id: &str, prev: Prev<UserRecord>) {
        if let Some(cur) = self.table.get(id) {
            self.by_name.remove(&username_key(&cur.username));
        }
        if let Some((_, u)) = &prev {
            self.by_name.insert(username_key(&u.username), id.to_string());
        }
        self.table.reset(id, prev);
    }
}

/// API token records, and token ordinals by owner (records are never
/// removed, and an owner never changes, so this index only grows).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokens {
    pub table: Table<ApiTokenRecord>,
    by_owner: HashMap<String, BTreeSet<u64>>,
}

impl Tokens {
    pub fn get(&self, id: &str) -> Option<&ApiTokenRecord> {
        self.table.get(id)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.table.contains_key(id)
    }

    pub fn values(&self) -> impl Iterator<Item = &ApiTokenRecord> {
        self.table.values()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether any record (revoked ones included) names `owner`.
    pub fn has_owner(&self, owner: &str) -> bool {
        self.by_owner.contains_key(owner)
    }

    /// The records of `owner`, in creation order.
    pub fn of_owner<'a>(&'a self, owner: &str) -> impl Iterator<Item = &'a ApiTokenRecord> + 'a {
        self.by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|ord| self.table.by_ord(*ord))
    }

    pub fn put(&mut self, token: ApiTokenRecord) -> Prev<ApiTokenRecord> {
        let id = token.id.clone();
        let owner = token.owner.clone();
        let prev = self.table.put(&id, token);
        if let Some(ord) = self.table.ord(&id) {
            self.by_owner.entry(owner).or_default().insert(ord);
        }
        prev
    }

    pub fn reset(&mut self, id: &str, prev: Prev<ApiTokenRecord>) {
        if let (Some(cur), Some(ord)) = (self.table.get(id), self.table.ord(id)) {
            let owner = cur.owner.clone();
            if let Some(set) = self.by_owner.get_mut(&owner) {
                set.remove(&ord);
                if set.is_empty() {
                    self.by_owner.remove(&owner);
                }
            }
        }
        if let Some((ord, t)) = &prev {
            self.by_owner.entry(t.owner.clone()).or_default().insert(*ord);
        }
        self.table.reset(id, prev);
    }
}

/// Live sessions, by id, by user, by API token and by expiry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sessions {
    pub table: Table<SessionRecord>,
    by_user: HashMap<CompactString, HashSet<CompactString>>,
    by_token: HashMap<CompactString, HashSet<CompactString>>,
    by_expiry: BTreeSet<(i64, CompactString)>,
}

fn unlink(map: &mut HashMap<CompactString, HashSet<CompactString>>, key: &str, id: &str) {
    if let Some(set) = map.get_mut(key) {
        set.remove(id);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

impl Sessions {
    pub fn get(&self, id: &str) -> Option<&SessionRecord> {
        self.table.get(id)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.table.contains_key(id)
    }

    pub fn values(&self) -> impl Iterator<Item = &SessionRecord> {
        self.table.values()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    fn unindex(&mut self, s: &SessionRecord) {
        unlink(&mut self.by_user, &s.user_id, &s.id);
        if let Some(t) = &s.api_token_id {
            unlink(&mut self.by_token, t, &s.id);
        }
        self.by_expiry.remove(&(s.expires_at, s.id.clone()));
    }

    fn index(&mut self, s: &SessionRecord) {
        self.by_user
            .entry(s.user_id.clone())
            .or_default()
            .insert(s.id.clone());
        if let Some(t) = &s.api_token_id {
            self.by_token.entry(t.clone()).or_default().insert(s.id.clone());
        }
        self.by_expiry.insert((s.expires_at, s.id.clone()));
    }

    pub fn put(&mut self, s: SessionRecord) -> Prev<SessionRecord> {
        if let Some(old) = self.table.get(&s.id).cloned() {
            self.unindex(&old);
        }
        self.index(&s);
        let id = s.id.clone();
        self.table.put(&id, s)
    }

    pub fn remove(&mut self, id: &str) -> Prev<SessionRecord> {
        let prev = self.table.remove(id)?;
        self.unindex(&prev.1);
        Some(prev)
    }

    pub fn reset(&mut self, id: &str, prev: Prev<SessionRecord>) {
        if let Some(cur) = self.table.get(id).cloned() {
            self.unindex(&cur);
        }
        if let Some((_, s)) = &prev {
            self.index(s);
        }
        self.table.reset(id, prev);
    }

    /// Ids of the sessions of `user_id`.
    pub fn of_user(&self, user_id: &str) -> Vec<String> {
        self.by_user
            .get(user_id)
            .map(|s| s.iter().map(|id| id.to_string()).collect())
            .unwrap_or_default()
    }

    /// Ids of the sessions opened with API token `token_id`.
    pub fn of_token(&self, token_id: &str) -> Vec<String> {
        self.by_token
            .get(token_id)
            .map(|s| s.iter().map(|id| id.to_string()).collect())
            .unwrap_or_default()
    }

    /// Whether any session has `expires_at <= now`.
    pub fn any_expired(&self, now: i64) -> bool {
        self.by_expiry.first().is_some_and(|(exp, _)| *exp <= now)
    }

    /// Ids of the sessions with `expires_at <= now`, soonest first.
    pub fn expired(&self, now: i64) -> Vec<String> {
        self.by_expiry
            .iter()
            .take_while(|(exp, _)| *exp <= now)
            .map(|(_, id)| id.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, user: &str, token: Option<&str>, exp: i64) -> SessionRecord {
        SessionRecord {
            id: id.into(),
            user_id: user.into(),
            api_token_id: token.map(Into::into),
            expires_at: exp,
        }
    }

    #[test]
    fn tables_keep_creation_order_through_removal_and_undo() {
        let mut s = Sessions::default();
        s.put(session("a", "u", None, 5));
        s.put(session("b", "u", Some("t"), 3));
        s.put(session("c", "v", None, 9));
        let prev = s.remove("b");
        assert_eq!(s.values().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert!(s.of_token("t").is_empty());
        s.reset("b", prev);
        assert_eq!(
            s.values().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(s.of_token("t"), ["b"]);
        assert_eq!(s.expired(5), ["b", "a"]);
        assert!(!s.any_expired(2));
        // A put of an existing id stays in place and moves its expiry.
        s.put(session("a", "u", None, 20));
        assert_eq!(s.expired(9), ["b", "c"]);
        assert_eq!(s.values().next().unwrap().expires_at, 20);
        let mut users = s.of_user("u");
        users.sort();
        assert_eq!(users, ["a", "b"]);
    }

    #[test]
    fn usernames_are_folded() {
        let mut u = Users::default();
        let rec = |id: &str, name: &str| UserRecord {
            id: id.into(),
            username: name.into(),
            roles: vec![],
            password_hash: None,
            created_at: 0,
        };
        u.put(rec("1", "Ann"));
        assert_eq!(u.by_name("aNN").unwrap().id, "1");
        assert!(u.by_name("änn").is_none());
        let prev = u.put(rec("1", "Anne"));
        assert!(u.by_name("ann").is_none());
        u.reset("1", prev);
        assert_eq!(u.by_name("ANN").unwrap().username, "Ann");
        let prev = u.remove("1");
        assert!(u.by_name("ann").is_none());
        u.reset("1", prev);
        assert!(u.by_name("ann").is_some());
    }
}

//! SPEC §7.1 in the core: every changing call hands its records to the
//! journal, and a journal that fails leaves the realm exactly as it was (the
//! fold is undone), for every kind of call, including the ones that make
//! several records (delete_user, revoke, replace).

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tessera::realm::Journal;
use tessera::token::ApiTokenOptions;
use tessera::{Error, Principal, Realm, RealmOptions, UserOptions};

fn policy() -> Value {
    json!({"version": 1, "roles": {
        "user": {"permissions": ["read_own_user", "update_own_user", "admin_own_token"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_user", "admin_token"]}}})
}

fn key() -> Value {
    json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"})
}

/// Keeps what it is given, or refuses everything while `broken`.
#[derive(Default)]
struct Log {
    kept: Mutex<Vec<String>>,
    broken: AtomicBool,
}

impl Journal for Log {
    fn commit(&self, records: &[String]) -> tessera::Result<()> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(Error::realm("store_unavailable", "the disk is gone"));
        }
        self.kept.lock().unwrap().extend_from_slice(records);
        Ok(())
    }
}

/// One realm call, its result dropped.
type Call<'a> = Box<dyn Fn() -> tessera::Result<()> + 'a>;

fn admin() -> Principal {
    Principal {
        id: Some("u-root".into()),
        roles: vec!["admin".into()],
        ..Principal::default()
    }
}

#[test]
fn a_failing_journal_undoes_every_kind_of_call() {
    let realm = Realm::new(&policy(), &key(), &RealmOptions::fast_for_tests()).unwrap();
    let log = Arc::new(Log::default());
    realm.set_journal(Some(log.clone()));
    let id = |s: &str| UserOptions { id: Some(s.into()) };
    realm
        .create_user(None, "root", Some("pw"), &id("u-root"), Some(0))
        .unwrap();
    realm
        .create_user(Some(&admin()), "ann", Some("pw"), &id("u-ann"), Some(0))
        .unwrap();
    let t = realm
        .create_api_token(
            Some(&admin()),
            "u-ann",
            None,
            &ApiTokenOptions::default(),
            Some(1),
        )
        .unwrap();
    let t2 = realm
        .create_api_token(
            Some(&admin()),
            "u-ann",
            None,
            &ApiTokenOptions::default(),
            Some(1),
        )
        .unwrap();
    let opened = realm.open_session(&t.secret, Some(2)).unwrap();
    let login = realm.login("ann", "pw", Some(2)).unwrap();
    let ann = realm.authenticate(&login.token, Some(3)).unwrap();
    // Every record the realm made went to the journal, in order.
    assert_eq!(*log.kept.lock().unwrap(), realm.changes(0).unwrap());

    log.broken.store(true, Ordering::SeqCst);
    let before = realm.snapshot();
    let seq = realm.seq();
    let a = Some(&admin());
    let calls: Vec<(&str, Call)> = vec![
        (
            "create_user",
            Box::new(|| {
                realm
                    .create_user(a, "bob", None, &UserOptions::default(), Some(4))
                    .map(drop)
            }),
        ),
        (
            "set_roles",
            Box::new(|| realm.set_roles(a, "u-ann", &["admin".to_string()]).map(drop)),
        ),
        (
            "set_password",
            Box::new(|| realm.set_password(Some(&ann), "u-ann", Some("new"))),
        ),
        ("delete_user", Box::new(|| realm.delete_user(a, "u-ann"))),
        ("login", Box::new(|| realm.login("root", "pw", Some(4)).map(drop))),
        (
            "create_api_token",
            Box::new(|| {
                realm
                    .create_api_token(a, "u-root", None, &ApiTokenOptions::default(), Some(4))
                    .map(drop)
            }),
        ),
        (
            "suspend",
            Box::new(|| realm.suspend_api_token(a, &t.record.id).map(drop)),
        ),
        (
            "revoke",
            Box::new(|| realm.revoke_api_token(a, &t.record.id).map(drop)),
        ),
        (
            "replace",
            Box::new(|| realm.replace_api_token(a, &t2.record.id, Some(4)).map(drop)),
        ),
        (
            "open_session",
            Box::new(|| realm.open_session(&t.secret, Some(4)).map(drop)),
        ),
        (
            "renew",
            Box::new(|| realm.renew(&login.token, Some(1000)).map(drop)),
        ),
        ("close", Box::new(|| realm.close(&opened.token, Some(4)))),
        ("restart", Box::new(|| realm.restart())),
    ];
    for (name, call) in &calls {
        let err = call().expect_err(name);
        assert_eq!(err.code, "store_unavailable", "{name}");
        assert_eq!(realm.snapshot(), before, "{name} changed the realm");
        assert_eq!(realm.seq(), seq, "{name}");
    }
    // The credentials still work as before; and once the journal is back, so
    // does every call.
    assert!(realm.authenticate(&opened.token, Some(5)).is_ok());
    log.broken.store(false, Ordering::SeqCst);
    // (Each call on its own: some of them end what later ones need.)
    for name in ["create_user", "revoke", "delete_user", "restart"] {
        let (_, call) = calls.iter().find(|(n, _)| *n == name).unwrap();
        call().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(*log.kept.lock().unwrap(), realm.changes(0).unwrap());
    // A fresh realm fed the journal's records holds what the realm holds.
    let follower = Realm::new(&policy(), &key(), &RealmOptions::fast_for_tests()).unwrap();
    let records: Vec<Value> = log
        .kept
        .lock()
        .unwrap()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    follower.apply(&records).unwrap();
    assert_eq!(follower.snapshot(), realm.snapshot());
    // The text a store checkpoints is the snapshot, byte for byte.
    let snap = realm.snapshot();
    assert_eq!(realm.snapshot_text(), snap.to_string());
    let rows = ["users", "api_tokens", "sessions"]
        .iter()
        .map(|k| snap[k].as_array().unwrap().len())
        .sum::<usize>();
    assert!(rows > 0);
    assert_eq!(realm.rows(), rows);
}

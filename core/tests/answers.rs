//! `Engine::answers` against `Engine::is_allowed`, exhaustively over a small
//! world: picking from the answers must give what `is_allowed` says for every
//! resource, ids that rules name included.

use serde_json::json;
use std::sync::atomic::Ordering;
use tessera::{Engine, Principal};

const ACTIONS: [&str; 5] = ["read", "update", "delete", "execute", "fly"];
const TYPES: [&str; 4] = ["device", "stream", "token", "planet"];

fn policy() -> serde_json::Value {
    json!({
        "version": 1,
        "roles": {
            "user": {"permissions": ["read_own_device", "update_own_device", "admin_own_stream"]},
            "manager": {"inherits": ["user"], "permissions": ["read_device", "!delete_own_device"]},
            "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_token", "!delete_token"]},
            "root": {"permissions": ["admin"]},
            "pinned": {"permissions": ["update_device:d1", "!read_stream:s1"]}
        },
        "grants": [{"principal": "gus", "permissions": ["delete_device:d2", "read_token"]}]
    })
}

fn principals() -> Vec<Principal> {
    let p = |id: Option<&str>, roles: &[&str], permissions: &[&str], limits: Option<&[&str]>| Principal {
        id: id.map(String::from),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        permissions: permissions.iter().map(|r| r.to_string()).collect(),
        limits: limits.map(|l| l.iter().map(|r| r.to_string()).collect()),
        ..Default::default()
    };
    vec![
        p(Some("alice"), &["user"], &[], None),
        p(None, &["user"], &[], None),
        p(Some("dave"), &["manager"], &[], None),
        p(Some("carol"), &["admin"], &[], None),
        p(Some("root"), &["root", "ghost"], &[], None),
        p(Some("pat"), &["pinned", "user"], &[], None),
        p(Some("gus"), &["user"], &[], None),
        p(Some("ivy"), &[], &["read_own_stream", "execute_device"], None),
        p(
            Some("tok"),
            &["admin"],
            &[],
            Some(&["read_device", "update_own_device"]),
        ),
        p(Some("lim"), &["admin"], &[], Some(&["admin_device:d2"])),
        p(Some(""), &["user"], &[], None),
    ]
}

/// Every resource of the small world: with or without an id, and owned by
/// nobody, by the principal, or by someone else.
fn resources(me: Option<&str>) -> Vec<(Option<&'static str>, Option<String>)> {
    let mut out = Vec::new();
    for id in [None, Some("d1"), Some("d2"), Some("s1")] {
        let mut owners = vec![None, Some("mallory".to_string())];
        if let Some(me) = me {
            owners.push(Some(me.to_string()));
        }
        for owner in owners {
            out.push((id, owner));
        }
    }
    out
}

#[test]
fn answers_agree_with_is_allowed_everywhere() {
    let engine = Engine::new(&policy()).unwrap();
    let (mut checks, mut allowed, mut named) = (0, 0, 0);
    for principal in principals() {
        let prepared = engine.prepare(&principal).unwrap();
        let me = principal.id.as_deref();
        for action in ACTIONS {
            for kind in TYPES {
                let answers = engine.answers(&prepared, action, kind);
                named += answers.by_id.len();
                for (id, owner) in resources(me) {
                    let owner = owner.as_deref();
                    let expected = engine.is_allowed(&prepared, action, kind, id, owner);
                    assert_eq!(
                        answers.pick(id, owner, me),
                        expected,
                        "{principal:?} {action} {kind} id={id:?} owner={owner:?}: {answers:?}"
                    );
                    checks += 1;
                    allowed += usize::from(expected);
                }
            }
        }
    }
    // Both answers and named ids occur, so no branch is vacuous.
    assert!(
        allowed > checks / 10 && allowed < checks * 9 / 10,
        "{allowed} of {checks}"
    );
    assert!(named >= 5, "{named} named ids");
}

#[test]
fn named_ids_are_those_of_rules_that_could_apply() {
    let engine = Engine::new(&policy()).unwrap();
    let who = |roles: &[&str], id: &str| Principal {
        id: Some(id.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    };
    let ids = |p: &tessera::PreparedPrincipal, action: &str, kind: &str| -> Vec<String> {
        engine
            .answers(p, action, kind)
            .by_id
            .into_iter()
            .map(|(id, ..)| id)
            .collect()
    };
    let pat = engine.prepare(&who(&["pinned"], "pat")).unwrap();
    assert_eq!(ids(&pat, "update", "device"), ["d1"]);
    assert_eq!(ids(&pat, "read", "stream"), ["s1"]); // a deny names s1
    assert!(ids(&pat, "read", "device").is_empty()); // no rule of pat's names one
    let gus = engine.prepare(&who(&["user"], "gus")).unwrap();
    assert_eq!(ids(&gus, "delete", "device"), ["d2"]); // from the grant
    let unknown = engine.answers(&gus, "fly", "device");
    assert!(!unknown.type_level && !unknown.owned && !unknown.other && unknown.by_id.is_empty());
}

#[test]
fn a_replaced_policy_moves_the_generations_and_the_answers() {
    let engine = Engine::new(&policy()).unwrap();
    let alice = Principal {
        id: Some("alice".into()),
        roles: vec!["user".into()],
        ..Default::default()
    };
    let prepared = engine.prepare(&alice).unwrap();
    assert!(engine.answers(&prepared, "update", "device").owned);
    // Only this engine's generation is read: other tests create engines in
    // parallel, and the process-wide counter moves with every one of them.
    let before = engine.generation();
    let counter_before = tessera::engine::generations().load(Ordering::Acquire);
    engine
        .load(&json!({"version": 1, "roles": {"user": {"permissions": ["read_own_device"]}}}))
        .unwrap();
    assert_ne!(engine.generation(), before);
    // The counter only ever moves forward, and this load moved it.
    assert!(tessera::engine::generations().load(Ordering::Acquire) > counter_before);
    // The prepared principal follows the policy in force.
    assert!(!engine.answers(&prepared, "update", "device").owned);
    // A failed load changes nothing, this engine's generation included.
    let now = engine.generation();
    assert!(engine
        .load(&json!({"version": 1, "roles": {"x": {"inherits": ["y"]}}}))
        .is_err());
    assert_eq!(engine.generation(), now);
}

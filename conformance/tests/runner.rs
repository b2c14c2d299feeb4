//! The Rust runner's own machinery: ops it refuses, and comparisons that must fail.

use serde_json::json;
use tessera_conformance::{compare, Runner};

#[test]
fn unknown_op_and_missing_input_are_faults() {
    let mut runner = Runner::new();
    let policy = json!({"version": 1});
    assert!(runner.run(&json!({"op": "frobnicate"}), &policy).is_err());
    assert!(runner.run(&json!({"op": "realm", "steps": []}), &policy).is_err()); // no key
    assert!(runner
        .run(&json!({"op": "authorize", "principal": {}}), &policy)
        .is_err());
    assert!(runner
        .run(
            &json!({"op": "authorize", "principal": {}, "action": 5, "resource": {"type": "device"}}),
            &policy
        )
        .is_err());
}

#[test]
fn a_policy_that_fails_to_load_is_the_outcome() {
    let mut runner = Runner::new();
    let case = json!({"op": "authorize", "principal": {}, "action": "read", "resource": {"type": "device"}});
    let outcome = runner.run(&case, &json!({"version": 2})).unwrap();
    assert_eq!(outcome.unwrap_err()["code"], "invalid_policy");
    let outcome = runner.run(&case, &json!({"version": 1})).unwrap();
    assert_eq!(outcome.unwrap()["reason"], "no_match");
}

#[test]
fn comparisons_fail_on_each_difference() {
    let d = json!({"allowed": false, "reason": "no_match", "rule": null, "source": null});
    assert!(compare(&d, &Ok(d.clone())).is_none());
    assert!(compare(
        &d,
        &Ok(json!({"allowed": false, "reason": "denied", "rule": null, "source": null}))
    )
    .is_some());
    assert!(compare(
        &d,
        &Ok(json!({"allowed": false, "reason": "no_match", "rule": null}))
    )
    .is_some());
    assert!(compare(&d, &Err(json!({"code": "invalid_argument"}))).is_some());
    assert!(compare(&json!(["read", "update"]), &Ok(json!(["update", "read"]))).is_some());
    let inv =
        json!({"allowed": false, "reason": "invalid_request", "rule": null, "source": null, "message": "*"});
    let mut got = inv.clone();
    got["message"] = json!("unknown action `fly`");
    assert!(compare(&inv, &Ok(got.clone())).is_none());
    got["message"] = json!("");
    assert!(compare(&inv, &Ok(got)).is_some());
    assert!(compare(&json!({"rule": "*"}), &Ok(json!({"rule": "x"}))).is_none());
    assert!(compare(&json!({"rule": "*"}), &Ok(json!({"rule": null}))).is_some());
    assert!(compare(&json!({"a": 1}), &Ok(json!({"a": 1, "b": null}))).is_some());
    // "prefix*": any longer string that begins with the prefix.
    let fresh = json!({"h": "$argon2id$v=19$m=16,t=1,p=1$*"});
    assert!(compare(
        &fresh,
        &Ok(json!({"h": "$argon2id$v=19$m=16,t=1,p=1$c2FsdA$aGFzaA"}))
    )
    .is_none());
    assert!(compare(
        &fresh,
        &Ok(json!({"h": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}))
    )
    .is_some());
    assert!(compare(&fresh, &Ok(json!({"h": "$argon2id$v=19$m=16,t=1,p=1$"}))).is_some());
}

#[test]
fn error_comparisons() {
    let err = Err(json!({"code": "syntax", "offset": 5}));
    assert!(compare(&json!({"error": "syntax"}), &err).is_none());
    assert!(compare(&json!({"error": "syntax", "offset": 5}), &err).is_none());
    assert!(compare(&json!({"error": "syntax", "offset": 4}), &err).is_some());
    assert!(compare(&json!({"error": "too_long"}), &err).is_some());
    assert!(compare(&json!({"error": "syntax"}), &Ok(json!({"ok": true}))).is_some());
    let problems = Err(json!({"code": "invalid_policy", "problems": [
        {"code": "cycle", "path": "roles.a.inherits[0]"}, {"code": "unknown_role", "path": "groups.g[0]"}]}));
    let want = |p| json!({"error": "invalid_policy", "problems": p});
    assert!(compare(
        &want(json!([{"code": "unknown_role", "path": "groups.g[0]"}, {"code": "cycle"}])),
        &problems
    )
    .is_none());
    assert!(compare(&want(json!([{"code": "cycle"}])), &problems).is_some());
    assert!(compare(&want(json!([{"code": "cycle"}, {"code": "cycle"}])), &problems).is_some());
    assert!(compare(
        &want(json!([{"code": "unknown_role", "path": "groups.g[1]"}, {"code": "cycle"}])),
        &problems
    )
    .is_some());
}

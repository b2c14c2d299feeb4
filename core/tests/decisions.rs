//! SPEC §3–5 rule by rule: roles, groups, grants, own, instances, deny, limits,
//! explain, capabilities, operations, and bad input.

use serde_json::{json, Value};
use tessera::{Engine, OperationContext, Principal, Resource};

fn spec_engine() -> Engine {
    Engine::new(&json!({
      "version": 1,
      "roles": {
        "user":  {"permissions": ["read_own_device", "update_own_device", "pull_own_stream"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_user", "!delete_token"]},
        "owner": {"inherits": ["admin"], "permissions": ["admin"]},
        "manager": {"inherits": ["user"], "permissions": ["read_device", "read_user"]},
        "selfish": {"permissions": ["admin_own"]}
      },
      "groups": {"administrators": ["admin"], "managers": ["manager"], "sudoers": []},
      "grants": [{"principal": "u-7", "permissions": ["update_device:dev-42"]},
                 {"principal": "u-7", "permissions": ["!read_device:dev-13"]}],
      "operations": {
        "Auth.InitiateAuth":         {"access": "public"},
        "Projects.ListProjects":     {"access": "authenticated"},
        "Projects.CreateProject":    {"access": {"groups_all": ["managers"]}},
        "Cluster.UpdateSettings":    {"access": {"groups_all": ["administrators", "sudoers"]}},
        "Accounts.ListUsers":        {"access": {"roles_any": ["admin"]}},
        "Streams.Push":              {"access": {"scopes_any": ["streams/push"]}},
        "Public.WithPermission":     {"access": "public", "permission": "read_device"},
        "Devices.Delete":            {"permission": "delete_device"},
        "DELETE /api/v1/devices/{id}": {"permission": "delete_device"},
        "GET /api/v1/devices/{id}":  {"permission": "read_device"},
        "GET /api/v1/devices/mine":  {"access": "authenticated"},
        "GET /tok/api/v1/devices":   {"credential": "api_token", "permission": "read_device"}
      }
    }))
    .unwrap()
}

fn who(v: Value) -> Principal {
    Principal::from_json(&v).unwrap()
}

fn res(v: Value) -> Resource {
    Resource::from_json(&v).unwrap()
}

/// The decision as JSON, the form every binding returns.
fn decide(engine: &Engine, p: Value, action: &str, r: Value) -> Value {
    serde_json::to_value(engine.authorize(&who(p), action, &res(r)).unwrap()).unwrap()
}

fn reason(engine: &Engine, p: Value, action: &str, r: Value) -> String {
    decide(engine, p, action, r)["reason"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn own_rules_match_owned_instances_only() {
    let e = spec_engine();
    let u = json!({"id": "u1", "roles": ["user"]});
    assert_eq!(
        decide(
            &e,
            u.clone(),
            "read",
            json!({"type": "device", "id": "d1", "owner": "u1"})
        ),
        json!({"allowed": true, "reason": "allowed", "rule": "read_own_device", "source": "role:user"})
    );
    assert_eq!(
        reason(
            &e,
            u.clone(),
            "read",
            json!({"type": "device", "id": "d2", "owner": "u2"})
        ),
        "no_match"
    );
    // among several owners
    assert_eq!(
        reason(
            &e,
            u.clone(),
            "read",
            json!({"type": "device", "id": "d3", "owners": ["u9", "u1"]})
        ),
        "allowed"
    );
    // an instance with no owners is nobody's
    assert_eq!(
        reason(&e, u.clone(), "read", json!({"type": "device", "id": "d4"})),
        "no_match"
    );
    // `own` covers only its own action
    assert_eq!(
        reason(
            &e,
            u,
            "delete",
            json!({"type": "device", "id": "d1", "owner": "u1"})
        ),
        "no_match"
    );
}

#[test]
fn own_rules_match_type_level_requests() {
    let e = spec_engine();
    // listing / creating: no id, no owners
    assert_eq!(
        reason(
            &e,
            json!({"id": "u1", "roles": ["user"]}),
            "read",
            json!({"type": "device"})
        ),
        "allowed"
    );
    // even without an id the principal acts on what it will own
    assert_eq!(
        reason(&e, json!({"roles": ["user"]}), "read", json!({"type": "device"})),
        "allowed"
    );
    // an empty owners list is still type-level
    assert_eq!(
        reason(
            &e,
            json!({"roles": ["user"]}),
            "read",
            json!({"type": "device", "owners": []})
        ),
        "allowed"
    );
    // but a principal without id owns no instance
    assert_eq!(
        reason(
            &e,
            json!({"roles": ["user"]}),
            "read",
            json!({"type": "device", "id": "d1", "owner": "u1"})
        ),
        "no_match"
    );
}

#[test]
fn admin_own_covers_every_action_on_owned_things() {
    let e = spec_engine();
    let p = json!({"id": "u1", "roles": ["selfish"]});
    for (action, kind) in [("delete", "device"), ("push", "stream"), ("execute", "client")] {
        assert_eq!(
            decide(
                &e,
                p.clone(),
                action,
                json!({"type": kind, "id": "x", "owner": "u1"})
            ),
            json!({"allowed": true, "reason": "allowed", "rule": "admin_own", "source": "role:selfish"})
        );
        assert_eq!(
            reason(
                &e,
                p.clone(),
                action,
                json!({"type": kind, "id": "x", "owner": "u2"})
            ),
            "no_match"
        );
    }
}

#[test]
fn deny_wins_over_admin_and_inheritance() {
    let e = spec_engine();
    // owner holds bare `admin` but inherits admin's `!delete_token`
    assert_eq!(
        decide(
            &e,
            json!({"id": "o", "roles": ["owner"]}),
            "delete",
            json!({"type": "token", "id": "t"})
        ),
        json!({"allowed": false, "reason": "denied", "rule": "!delete_token", "source": "role:admin"})
    );
    assert_eq!(
        decide(
            &e,
            json!({"id": "o", "roles": ["owner"]}),
            "read",
            json!({"type": "token", "id": "t"})
        ),
        json!({"allowed": true, "reason": "allowed", "rule": "admin", "source": "role:owner"})
    );
    // a deny from a principal's own labels beats a role's allow
    let p = json!({"id": "a", "roles": ["admin"], "permissions": ["!update_device"]});
    assert_eq!(
        decide(&e, p, "update", json!({"type": "device", "id": "d"})),
        json!({"allowed": false, "reason": "denied", "rule": "!update_device", "source": "principal"})
    );
}

#[test]
fn first_matching_allow_in_spec_order() {
    let e = spec_engine();
    // principal labels come before roles
    let p = json!({"id": "a", "roles": ["admin"], "permissions": ["read_device"]});
    assert_eq!(
        decide(&e, p, "read", json!({"type": "device"}))["source"],
        "principal"
    );
    // roles breadth-first: admin's own labels before user's
    let p = json!({"id": "a", "roles": ["admin"]});
    assert_eq!(
        decide(&e, p, "read", json!({"type": "device", "id": "d", "owner": "a"})),
        json!({"allowed": true, "reason": "allowed", "rule": "admin_device", "source": "role:admin"})
    );
    // the principal's roles in order: user first here
    let p = json!({"id": "a", "roles": ["user", "admin"]});
    assert_eq!(
        decide(&e, p, "read", json!({"type": "device", "id": "d", "owner": "a"}))["rule"],
        "read_own_device"
    );
}

#[test]
fn grants_and_instances() {
    let e = spec_engine();
    let p = json!({"id": "u-7", "roles": ["user"]});
    assert_eq!(
        decide(
            &e,
            p.clone(),
            "update",
            json!({"type": "device", "id": "dev-42", "owner": "zed"})
        ),
        json!({"allowed": true, "reason": "allowed", "rule": "update_device:dev-42", "source": "grant"})
    );
    assert_eq!(
        reason(&e, p.clone(), "update", json!({"type": "device", "id": "dev-43"})),
        "no_match"
    );
    // an instance rule never matches a type-level request
    assert_eq!(
        reason(&e, p.clone(), "update", json!({"type": "device"})),
        "allowed"
    ); // via update_own_device
    assert_eq!(
        reason(&e, json!({"id": "u-7"}), "update", json!({"type": "device"})),
        "no_match"
    );
    // a deny grant on one instance beats the role's own rule
    assert_eq!(
        decide(
            &e,
            p,
            "read",
            json!({"type": "device", "id": "dev-13", "owner": "u-7"})
        ),
        json!({"allowed": false, "reason": "denied", "rule": "!read_device:dev-13", "source": "grant"})
    );
    // grants follow the id, not the roles
    assert_eq!(
        reason(
            &e,
            json!({"id": "u-8", "roles": ["user"]}),
            "update",
            json!({"type": "device", "id": "dev-42"})
        ),
        "no_match"
    );
}

#[test]
fn groups_map_to_roles_and_unknown_roles_are_ignored() {
    let e = spec_engine();
    let p = json!({"id": "m", "groups": ["managers", "nobody"], "roles": ["ghost"]});
    assert_eq!(
        reason(&e, p.clone(), "read", json!({"type": "user", "id": "x"})),
        "allowed"
    );
    let x = serde_json::to_value(
        e.explain(&who(p), "read", &res(json!({"type": "user", "id": "x"})))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(x["effective_roles"], json!(["manager", "user"]));
    assert_eq!(x["unknown_roles"], json!(["ghost"]));
    assert_eq!(
        x["matched"],
        json!([{"rule": "read_user", "source": "role:manager", "effect": "allow"}])
    );
}

#[test]
fn limits_narrow_what_is_allowed() {
    let e = spec_engine();
    let p = json!({"id": "a", "roles": ["admin"], "limits": ["read_device"]});
    assert_eq!(
        reason(&e, p.clone(), "read", json!({"type": "device", "id": "d"})),
        "allowed"
    );
    assert_eq!(
        decide(&e, p.clone(), "update", json!({"type": "device", "id": "d"})),
        json!({"allowed": false, "reason": "limited", "rule": "admin_device", "source": "role:admin"})
    );
    // limits never add: a limit alone grants nothing
    assert_eq!(
        reason(
            &e,
            json!({"limits": ["read_device"]}),
            "read",
            json!({"type": "device"})
        ),
        "no_match"
    );
    // a deny in limits narrows further
    let p = json!({"id": "a", "roles": ["admin"], "limits": ["admin_device", "!delete_device"]});
    assert_eq!(
        reason(&e, p.clone(), "delete", json!({"type": "device", "id": "d"})),
        "limited"
    );
    assert_eq!(
        reason(&e, p, "update", json!({"type": "device", "id": "d"})),
        "allowed"
    );
    // empty limits: nothing is allowed
    assert_eq!(
        reason(
            &e,
            json!({"roles": ["owner"], "limits": []}),
            "read",
            json!({"type": "user"})
        ),
        "limited"
    );
    // denied stays denied
    assert_eq!(
        reason(
            &e,
            json!({"roles": ["owner"], "limits": ["delete_token"]}),
            "delete",
            json!({"type": "token"})
        ),
        "denied"
    );
}

#[test]
fn invalid_requests_deny_without_throwing() {
    let e = spec_engine();
    let d = decide(&e, json!({"roles": ["owner"]}), "fly", json!({"type": "device"}));
    assert_eq!(d["reason"], "invalid_request");
    assert_eq!(d["allowed"], false);
    assert!(d["message"].as_str().unwrap().contains("fly"));
    assert_eq!(
        reason(
            &e,
            json!({"roles": ["owner"]}),
            "admin",
            json!({"type": "device"})
        ),
        "invalid_request"
    );
    assert_eq!(
        reason(&e, json!({"roles": ["owner"]}), "read", json!({"type": "robot"})),
        "invalid_request"
    );
}

#[test]
fn wrong_shapes_and_bad_labels_are_errors() {
    let e = spec_engine();
    assert_eq!(
        Principal::from_json(&json!({"roles": "admin"})).unwrap_err().code,
        "invalid_argument"
    );
    assert_eq!(
        Principal::from_json(&json!({"role": ["admin"]}))
            .unwrap_err()
            .code,
        "invalid_argument"
    );
    assert_eq!(
        Resource::from_json(&json!({"id": "x"})).unwrap_err().code,
        "invalid_argument"
    );
    assert_eq!(
        Resource::from_json(&json!("device")).unwrap_err().code,
        "invalid_argument"
    );
    let err = e
        .authorize(
            &who(json!({"permissions": ["read_device", "fly_device"]})),
            "read",
            &Resource::new("device"),
        )
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.path.as_deref()),
        ("unknown_action", Some("permissions[1]"))
    );
    let err = e
        .authorize(
            &who(json!({"limits": ["read_"]})),
            "read",
            &Resource::new("device"),
        )
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.path.as_deref()),
        ("syntax", Some("limits[0]"))
    );
}

#[test]
fn capabilities_in_policy_order() {
    let e = spec_engine();
    let user = who(json!({"id": "u1", "roles": ["user"]}));
    assert_eq!(
        e.capabilities(&user, &res(json!({"type": "device", "id": "d", "owner": "u1"})))
            .unwrap(),
        vec!["read", "update"]
    );
    let owner = who(json!({"id": "o", "roles": ["owner"]}));
    assert_eq!(
        e.capabilities(&owner, &res(json!({"type": "token", "id": "t"})))
            .unwrap(),
        vec!["read", "create", "update", "push", "pull", "execute"]
    );
    assert!(e
        .capabilities(&owner, &res(json!({"type": "robot"})))
        .unwrap()
        .is_empty());
}

fn op(e: &Engine, p: Option<Value>, name: &str, ctx: Value) -> Value {
    let p = p.map(who);
    let ctx: OperationContext = serde_json::from_value(ctx).unwrap();
    serde_json::to_value(e.authorize_operation(p.as_ref(), name, &ctx).unwrap()).unwrap()
}

fn op_reason(e: &Engine, p: Option<Value>, name: &str) -> String {
    op(e, p, name, json!({}))["reason"].as_str().unwrap().to_string()
}

#[test]
fn operation_access_levels() {
    let e = spec_engine();
    assert_eq!(op_reason(&e, None, "Auth.InitiateAuth"), "public");
    assert_eq!(
        op_reason(&e, Some(json!({"id": "x"})), "Auth.InitiateAuth"),
        "public"
    );
    assert_eq!(op_reason(&e, None, "Projects.ListProjects"), "unauthenticated");
    assert_eq!(
        op_reason(&e, Some(json!({"id": "x"})), "Projects.ListProjects"),
        "allowed"
    );
    assert_eq!(op_reason(&e, None, "Public.WithPermission"), "unauthenticated");
    assert_eq!(
        op_reason(
            &e,
            Some(json!({"groups": ["managers"]})),
            "Projects.CreateProject"
        ),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(json!({"roles": ["manager"]})), "Projects.CreateProject"),
        "missing_group"
    );
    // IDEA's administrators: both groups at once
    assert_eq!(
        op_reason(
            &e,
            Some(json!({"groups": ["administrators"]})),
            "Cluster.UpdateSettings"
        ),
        "missing_group"
    );
    assert_eq!(
        op_reason(
            &e,
            Some(json!({"groups": ["sudoers", "administrators"]})),
            "Cluster.UpdateSettings"
        ),
        "allowed"
    );
    // roles_any looks at effective roles (owner inherits admin; groups map to roles)
    assert_eq!(
        op_reason(&e, Some(json!({"roles": ["owner"]})), "Accounts.ListUsers"),
        "allowed"
    );
    assert_eq!(
        op_reason(
            &e,
            Some(json!({"groups": ["administrators"]})),
            "Accounts.ListUsers"
        ),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(json!({"roles": ["user"]})), "Accounts.ListUsers"),
        "missing_role"
    );
    assert_eq!(
        op_reason(&e, Some(json!({"scopes": ["streams/push"]})), "Streams.Push"),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(json!({"scopes": ["streams/read"]})), "Streams.Push"),
        "missing_scope"
    );
    assert_eq!(
        op_reason(&e, Some(json!({})), "Nope.Nothing"),
        "unknown_operation"
    );
    assert_eq!(op_reason(&e, None, "Nope.Nothing"), "unknown_operation");
}

#[test]
fn operation_routes_credentials_and_permissions() {
    let e = spec_engine();
    let admin = json!({"id": "a", "roles": ["admin"]});
    let user = json!({"id": "u1", "roles": ["user"]});
    assert_eq!(
        op(&e, Some(admin.clone()), "DELETE /api/v1/devices/dev-9", json!({})),
        json!({"allowed": true, "reason": "allowed", "rule": "admin_device", "source": "role:admin"})
    );
    assert_eq!(
        op_reason(&e, Some(user.clone()), "DELETE /api/v1/devices/dev-9"),
        "no_match"
    );
    // the `{id}` parameter and the context's owner make the resource
    assert_eq!(
        op(
            &e,
            Some(user.clone()),
            "GET /api/v1/devices/dev-9",
            json!({"owner": "u1"})
        )["reason"],
        "allowed"
    );
    assert_eq!(
        op(
            &e,
            Some(user.clone()),
            "Devices.Delete",
            json!({"id": "d", "owner": "u1"})
        )["reason"],
        "no_match"
    );
    // a literal route beats a parameter route; query strings are ignored; methods are case-insensitive
    assert_eq!(
        op_reason(&e, Some(user.clone()), "GET /api/v1/devices/mine"),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(user.clone()), "get /api/v1/devices/mine?x=1"),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(user.clone()), "GET /api/v1/devices/dev-9/extra"),
        "unknown_operation"
    );
    // one trailing slash is not significant; HEAD is answered by GET (docs/decisions.md, Paths)
    assert_eq!(
        op_reason(&e, Some(user.clone()), "GET /api/v1/devices/mine/"),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(user.clone()), "HEAD /api/v1/devices/mine"),
        "allowed"
    );
    assert_eq!(
        op_reason(&e, Some(user.clone()), "POST /api/v1/devices/dev-9"),
        "unknown_operation"
    );
    // credential kind
    assert_eq!(
        op_reason(&e, Some(admin.clone()), "GET /tok/api/v1/devices"),
        "wrong_credential"
    );
    let api = json!({"id": "a", "roles": ["admin"], "credential": "api_token"});
    assert_eq!(op_reason(&e, Some(api), "GET /tok/api/v1/devices"), "allowed");
    let limited =
        json!({"id": "a", "roles": ["admin"], "credential": "api_token", "limits": ["pull_stream"]});
    assert_eq!(op_reason(&e, Some(limited), "GET /tok/api/v1/devices"), "limited");
}

#[test]
fn operation_tables_are_checked_at_load() {
    let err = Engine::new(&json!({"version": 1, "roles": {"admin": {}}, "operations": {
        "bad key here": {},
        "get /x": {},
        "GET /x/{id}/{id}": {},
        "GET /y/a{id}": {},
        "Ok.One": {"access": "admins"},
        "Ok.Two": {"access": {"roles_any": ["ghost"], "groups": []}},
        "Ok.Three": {"credential": "password"},
        "Ok.Four": {"permission": "admin_device"},
        "Ok.Five": {"permission": "read_own_device"},
        "Ok.Six": {"permission": "read_"},
        "Ok.Seven": {"permission": "read_device", "why": 1},
        "Ok.Eight": []
    }}))
    .err()
    .unwrap();
    let got: Vec<(String, String)> = err.problems.into_iter().map(|p| (p.code, p.path)).collect();
    let want: Vec<(&str, &str)> = vec![
        ("invalid_operation", "operations[\"bad key here\"]"),
        ("invalid_operation", "operations[\"get /x\"]"),
        ("invalid_operation", "operations[\"GET /x/{id}/{id}\"]"),
        ("invalid_operation", "operations[\"GET /y/a{id}\"]"),
        ("invalid_operation", "operations[\"Ok.One\"].access"),
        ("unknown_key", "operations[\"Ok.Two\"].access.groups"),
        ("unknown_role", "operations[\"Ok.Two\"].access.roles_any[0]"),
        ("invalid_operation", "operations[\"Ok.Three\"].credential"),
        ("invalid_permission", "operations[\"Ok.Four\"].permission"),
        ("invalid_permission", "operations[\"Ok.Five\"].permission"),
        ("syntax", "operations[\"Ok.Six\"].permission"),
        ("unknown_key", "operations[\"Ok.Seven\"].why"),
        ("wrong_type", "operations[\"Ok.Eight\"]"),
    ];
    let want: Vec<(String, String)> = want.into_iter().map(|(a, b)| (a.into(), b.into())).collect();
    assert_eq!(got, want);
}

#[test]
fn failed_load_keeps_the_old_policy() {
    let e = spec_engine();
    let owner = who(json!({"roles": ["owner"]}));
    assert!(e
        .load(&json!({"version": 1, "roles": {"owner": {"inherits": ["owner"]}}}))
        .is_err());
    assert!(
        e.authorize(&owner, "read", &Resource::new("device"))
            .unwrap()
            .allowed
    );
    e.load(&json!({"version": 1, "roles": {"owner": {}}})).unwrap();
    assert!(
        !e.authorize(&owner, "read", &Resource::new("device"))
            .unwrap()
            .allowed
    );
}

#[test]
fn prepared_principals_follow_policy_replacement() {
    let e = spec_engine();
    let prepared = e.prepare(&who(json!({"id": "u1", "roles": ["user"]}))).unwrap();
    assert!(
        e.authorize_parts(&prepared, "read", "device", Some("d"), Some("u1"))
            .allowed
    );
    assert!(
        !e.authorize_parts(&prepared, "read", "device", Some("d"), Some("u2"))
            .allowed
    );
    assert_eq!(prepared.effective_roles(), vec!["user"]);
    e.load(&json!({"version": 1, "roles": {"user": {}}})).unwrap();
    assert!(
        !e.authorize_parts(&prepared, "read", "device", Some("d"), Some("u1"))
            .allowed
    );
}

#[test]
fn prepared_principals_are_decided_by_the_engine_asked() {
    let a = spec_engine();
    let b = Engine::new(&json!({"version": 1, "roles": {"user": {}}})).unwrap();
    let prepared = a.prepare(&who(json!({"id": "u1", "roles": ["user"]}))).unwrap();
    assert!(a.is_allowed(&prepared, "read", "device", Some("d"), Some("u1")));
    assert!(!b.is_allowed(&prepared, "read", "device", Some("d"), Some("u1")));
    assert_eq!(
        b.authorize_parts(&prepared, "read", "device", Some("d"), Some("u1"))
            .reason
            .as_str(),
        "no_match"
    );
}

#[test]
fn engine_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<tessera::PreparedPrincipal>();
}

#[test]
fn example_policy_loads() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.json")).unwrap();
    let e = Engine::from_json(&text).unwrap();
    assert!(e.policy().has_role("owner"));
}

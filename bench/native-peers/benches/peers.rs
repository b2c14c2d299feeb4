//! One request shape, three engines: "may user u-1 update device dev-1 (owned by
//! u-1)?" (allow through an owner rule), "may u-1 update dev-9 (owned by u-9)?"
//! (no match), and "may admin u-2 delete token t-1?" (an explicit deny beating an
//! allow). Each engine gets the same roles and rules in its own language, and the
//! answers are asserted equal before anything is timed.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::str::FromStr;

const TESSERA_POLICY: &str = r#"{
  "version": 1,
  "roles": {
    "user":  {"permissions": ["read_own_device", "update_own_device", "admin_own_token"]},
    "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_token", "!delete_token"]}
  }
}"#;

const CEDAR_POLICY: &str = r#"
permit(principal in Role::"user", action in [Action::"read", Action::"update"], resource is Device)
  when { resource.owner == principal };
permit(principal in Role::"user", action, resource is Token) when { resource.owner == principal };
permit(principal in Role::"admin", action, resource is Device);
permit(principal in Role::"admin", action, resource is Token);
forbid(principal in Role::"admin", action == Action::"delete", resource is Token);
"#;

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, obj, act, owner

[policy_definition]
p = sub, obj, act, own, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && (p.act == "*" || r.act == p.act) && (p.own == "any" || r.owner == r.sub)
"#;

const CASBIN_POLICY: &str = r#"
p, user, device, read, own, allow
p, user, device, update, own, allow
p, user, token, *, own, allow
p, admin, device, *, any, allow
p, admin, token, *, any, allow
p, admin, token, delete, any, deny
g, admin, user
g, u-1, user
g, u-2, admin
"#;

fn cedar_entities() -> cedar_policy::Entities {
    let json = serde_json::json!([
        {"uid": {"type": "Role", "id": "user"}, "attrs": {}, "parents": []},
        {"uid": {"type": "Role", "id": "admin"}, "attrs": {}, "parents": [{"type": "Role", "id": "user"}]},
        {"uid": {"type": "User", "id": "u-1"}, "attrs": {}, "parents": [{"type": "Role", "id": "user"}]},
        {"uid": {"type": "User", "id": "u-2"}, "attrs": {}, "parents": [{"type": "Role", "id": "admin"}]},
        {"uid": {"type": "User", "id": "u-9"}, "attrs": {}, "parents": []},
        {"uid": {"type": "Device", "id": "dev-1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "u-1"}}}, "parents": []},
        {"uid": {"type": "Device", "id": "dev-9"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "u-9"}}}, "parents": []},
        {"uid": {"type": "Token", "id": "t-1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "u-9"}}}, "parents": []}
    ]);
    cedar_policy::Entities::from_json_value(json, None).expect("entities")
}

fn uid(kind: &str, id: &str) -> cedar_policy::EntityUid {
    cedar_policy::EntityUid::from_str(&format!("{kind}::\"{id}\"")).expect("uid")
}

fn bench(c: &mut Criterion) {
    // (principal, action, resource type, resource id, owner, expected)
    let cases = [
        ("u-1", "update", "device", "dev-1", "u-1", true, "own-allow"),
        ("u-1", "update", "device", "dev-9", "u-9", false, "no-match"),
        ("u-2", "delete", "token", "t-1", "u-9", false, "deny"),
    ];

    let engine = tessera::Engine::from_json(TESSERA_POLICY).expect("tessera policy");
    let prepared = |id: &str| {
        let role = if id == "u-2" { "admin" } else { "user" };
        engine
            .prepare(&tessera::Principal {
                id: Some(id.into()),
                roles: vec![role.into()],
                ..Default::default()
            })
            .expect("principal")
    };

    let policies = cedar_policy::PolicySet::from_str(CEDAR_POLICY).expect("cedar policy");
    let entities = cedar_entities();
    let authorizer = cedar_policy::Authorizer::new();

    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let casbin = rt.block_on(async {
        use casbin::CoreApi;
        let m = casbin::DefaultModel::from_str(CASBIN_MODEL).await.expect("model");
        let a = casbin::StringAdapter::new(CASBIN_POLICY);
        casbin::Enforcer::new(m, a).await.expect("enforcer")
    });

    let mut g = c.benchmark_group("peers");
    for (who, action, kind, id, owner, expected, name) in cases {
        let p = prepared(who);
        assert_eq!(engine.is_allowed(&p, action, kind, Some(id), Some(owner)), expected, "tessera {name}");
        g.bench_function(format!("tessera-is_allowed/{name}"), |b| {
            b.iter(|| engine.is_allowed(black_box(&p), black_box(action), black_box(kind), Some(id), Some(owner)))
        });
        let resource = tessera::Resource::new(kind).with_id(id).with_owner(owner);
        g.bench_function(format!("tessera-authorize_prepared/{name}"), |b| {
            b.iter(|| engine.authorize_prepared(black_box(&p), black_box(action), black_box(&resource)))
        });

        let cedar_type = if kind == "device" { "Device" } else { "Token" };
        let request = cedar_policy::Request::new(
            uid("User", who),
            uid("Action", action),
            uid(cedar_type, id),
            cedar_policy::Context::empty(),
            None,
        )
        .expect("request");
        let allowed = authorizer.is_authorized(&request, &policies, &entities).decision() == cedar_policy::Decision::Allow;
        assert_eq!(allowed, expected, "cedar {name}");
        g.bench_function(format!("cedar/{name}"), |b| {
            b.iter(|| authorizer.is_authorized(black_box(&request), black_box(&policies), black_box(&entities)))
        });

        {
            use casbin::CoreApi;
            assert_eq!(casbin.enforce((who, kind, action, owner)).expect("enforce"), expected, "casbin {name}");
            g.bench_function(format!("casbin/{name}"), |b| {
                b.iter(|| casbin.enforce(black_box((who, kind, action, owner))).expect("enforce"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

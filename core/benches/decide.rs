//! ns per decision on a policy shaped like the systems tessera serves.
//! Run: `cargo bench -p tessera --bench decide`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tessera::{Engine, Principal, Resource};

fn engine() -> Engine {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.json"))
        .expect("examples/policy.json");
    Engine::from_json(&text).expect("example policy loads")
}

fn principal(id: &str, roles: &[&str]) -> Principal {
    Principal {
        id: Some(id.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let engine = engine();
    let user = principal("u-1", &["user"]);
    let admin = principal("u-2", &["admin"]);
    let own_device = Resource::new("device").with_id("dev-1").with_owner("u-1");
    let other_device = Resource::new("device").with_id("dev-9").with_owner("u-9");
    let token = Resource::new("token").with_id("t-1").with_owner("u-9");

    let p_user = engine.prepare(&user).unwrap();
    let p_admin = engine.prepare(&admin).unwrap();

    let mut g = c.benchmark_group("decision");
    g.bench_function("prepared/user-own-allow", |b| {
        b.iter(|| engine.authorize_prepared(black_box(&p_user), black_box("update"), black_box(&own_device)))
    });
    g.bench_function("prepared/user-other-no_match", |b| {
        b.iter(|| {
            engine.authorize_prepared(black_box(&p_user), black_box("update"), black_box(&other_device))
        })
    });
    g.bench_function("prepared/admin-deny", |b| {
        b.iter(|| engine.authorize_prepared(black_box(&p_admin), black_box("delete"), black_box(&token)))
    });
    g.bench_function("parts/user-own-allow", |b| {
        b.iter(|| {
            engine.authorize_parts(
                black_box(&p_user),
                black_box("update"),
                black_box("device"),
                black_box(Some("dev-1")),
                black_box(Some("u-1")),
            )
        })
    });
    g.bench_function("is_allowed/user-own-allow", |b| {
        b.iter(|| {
            engine.is_allowed(
                black_box(&p_user),
                black_box("update"),
                black_box("device"),
                black_box(Some("dev-1")),
                black_box(Some("u-1")),
            )
        })
    });
    g.bench_function("is_allowed/admin-deny", |b| {
        b.iter(|| {
            engine.is_allowed(
                black_box(&p_admin),
                black_box("delete"),
                black_box("token"),
                black_box(Some("t-1")),
                black_box(Some("u-9")),
            )
        })
    });
    g.bench_function("unprepared/user-own-allow", |b| {
        b.iter(|| engine.authorize(black_box(&user), black_box("update"), black_box(&own_device)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

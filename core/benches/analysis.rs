//! Analysis (SPEC §9): time and memory of `who_can` and `permissions` on
//! examples/policy.json, and of `diff` on two generated policies of 1,000
//! roles and 10,000 grants. Memory is the peak of bytes allocated during one
//! call, over what was live before it, counted by a wrapping allocator.
//! Run: `cargo bench -p tessera --bench analysis`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use tessera::analysis::Subject;
use tessera::{Engine, Principal, Resource};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated by `f` beyond those live when it started.
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    drop(out);
    peak
}

/// A policy of `roles` roles (each inheriting up to two of the ten after it,
/// eight labels of every form) and `grants` grants, from a seed.
fn generated(seed: u64, roles: usize, grants: usize) -> Value {
    let mut x = seed;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let actions = ["read", "create", "update", "delete", "push", "pull", "execute"];
    let subjects = ["device", "user", "stream", "token", "client"];
    let label = |next: &mut dyn FnMut(usize) -> usize| {
        let (a, s, i) = (actions[next(7)], subjects[next(5)], next(50));
        let text = match next(6) {
            0 | 1 => format!("{a}_{s}"),
            2 => format!("{a}_own_{s}"),
            3 => format!("{a}_{s}:i{i}"),
            4 => format!("admin_own_{s}"),
            _ => format!("admin_{s}:i{i}"),
        };
        if next(8) == 0 {
            format!("!{text}")
        } else {
            text
        }
    };
    let mut role_map = serde_json::Map::new();
    for r in 0..roles {
        let parents: Vec<String> = (0..next(3))
            .map(|_| r + 1 + next(10))
            .filter(|&p| p < roles)
            .map(|p| format!("r{p}"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let labels: Vec<String> = (0..8).map(|_| label(&mut next)).collect();
        role_map.insert(
            format!("r{r}"),
            json!({"inherits": parents, "permissions": labels}),
        );
    }
    let grant_list: Vec<Value> = (0..grants)
        .map(|g| json!({"principal": format!("p{}", g / 2), "permissions": [label(&mut next)]}))
        .collect();
    let groups: serde_json::Map<String, Value> = (0..50)
        .map(|g| (format!("g{g}"), json!([format!("r{}", g * 20)])))
        .collect();
    json!({"version": 1, "roles": role_map, "groups": groups, "grants": grant_list})
}

fn example() -> Engine {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.json"))
        .expect("examples/policy.json");
    Engine::from_json(&text).expect("example policy loads")
}

fn bench(c: &mut Criterion) {
    let engine = example();
    let device = Resource::new("device").with_id("dev-42").with_owner("u-1");
    let manager = Subject::Role("manager".into());
    let token = Subject::Principal(Box::new(Principal {
        id: Some("u-7".into()),
        roles: vec!["user".into()],
        limits: Some(vec!["pull_own_stream".into()]),
        ..Principal::default()
    }));
    let a = generated(7, 1000, 10_000);
    // B: the same policy with one role's labels changed and one grant more,
    // as a pull request would; and an independent policy (everything differs).
    let mut b = a.clone();
    b["roles"]["r500"]["permissions"] = json!(["admin_device", "!delete_device:i3"]);
    b["grants"]
        .as_array_mut()
        .unwrap()
        .push(json!({"principal": "p1", "permissions": ["admin_user"]}));
    let other = generated(11, 1000, 10_000);
    let (pa, pb, po) = (
        tessera::CompiledPolicy::compile(&a).unwrap(),
        tessera::CompiledPolicy::compile(&b).unwrap(),
        tessera::CompiledPolicy::compile(&other).unwrap(),
    );
    let changed = tessera::analysis::diff(&a, &b).unwrap();
    let all = tessera::analysis::diff(&a, &other).unwrap();

    println!(
        "memory (peak bytes allocated by one call): who_can {} B, permissions(role) {} B, permissions(token) {} B, \
         diff(one change) {} B ({} rows), diff(independent) {} B ({} rows), \
         diff_policies(one change) {} B, diff_policies(independent) {} B",
        peak_of(|| engine.who_can("delete", &device).unwrap()),
        peak_of(|| engine.permissions(&manager).unwrap()),
        peak_of(|| engine.permissions(&token).unwrap()),
        peak_of(|| tessera::analysis::diff(&a, &b).unwrap()),
        changed.changes.len(),
        peak_of(|| tessera::analysis::diff(&a, &other).unwrap()),
        all.changes.len(),
        peak_of(|| tessera::analysis::diff_policies(&pa, &pb)),
        peak_of(|| tessera::analysis::diff_policies(&pa, &po)),
    );

    let mut g = c.benchmark_group("analysis");
    g.bench_function("who_can/example", |bench| {
        bench.iter(|| engine.who_can(black_box("delete"), black_box(&device)).unwrap())
    });
    g.bench_function("permissions/example-role", |bench| {
        bench.iter(|| engine.permissions(black_box(&manager)).unwrap())
    });
    g.bench_function("permissions/example-token", |bench| {
        bench.iter(|| engine.permissions(black_box(&token)).unwrap())
    });
    g.sample_size(20);
    g.bench_function("diff_policies/1000-roles-10000-grants-one-change", |bench| {
        bench.iter(|| tessera::analysis::diff_policies(black_box(&pa), black_box(&pb)))
    });
    g.bench_function("diff_policies/1000-roles-10000-grants-independent", |bench| {
        bench.iter(|| tessera::analysis::diff_policies(black_box(&pa), black_box(&po)))
    });
    g.bench_function("compile/1000-roles-10000-grants", |bench| {
        bench.iter(|| tessera::CompiledPolicy::compile(black_box(&a)).unwrap())
    });
    g.bench_function("diff/1000-roles-10000-grants-one-change", |bench| {
        bench.iter(|| tessera::analysis::diff(black_box(&a), black_box(&b)).unwrap())
    });
    g.bench_function("diff/1000-roles-10000-grants-independent", |bench| {
        bench.iter(|| tessera::analysis::diff(black_box(&a), black_box(&other)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

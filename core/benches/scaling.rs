//! Scaling: every load and decision path doubles n and must cost at most
//! about 2.5× per doubling (linear or better; SPEC §7.1 and issue 17).
//!
//! `cargo bench -p tessera --bench scaling` prints, per dimension, the time
//! at n, 2n, 4n, 8n and the ratio of each doubling; `-- --write FILE` also
//! puts the table into FILE (BENCHMARKS.md) between its markers. Times are
//! the least thread CPU time (`CLOCK_THREAD_CPUTIME_ID` on Linux; wall time elsewhere) of
//! several runs of one whole operation (load, or load and decide), so other
//! processes on a shared machine do not move them.
//! (Users in a realm snapshot are measured by the realm's own benchmark.)

use serde_json::{json, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tessera::{Engine, Principal, Resource};

const SIZES: [usize; 4] = [2_000, 4_000, 8_000, 16_000];

/// CPU time of this thread so far (`CLOCK_THREAD_CPUTIME_ID`), so that other
/// processes on a busy machine do not count; wall time where unavailable.
#[cfg(target_os = "linux")]
fn cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: libc's clock_gettime writes one timespec (two 64-bit fields on
    // 64-bit Linux) through a valid pointer and touches nothing else.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0 && cfg!(target_pointer_width = "64")).then(|| Duration::new(ts.sec as u64, ts.nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Option<Duration> {
    None
}

/// The fastest of enough runs of `f` to fill ~0.3 s (at least 5).
fn time(mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    let started = Instant::now();
    let mut runs = 0;
    while runs < 5 || (started.elapsed() < Duration::from_millis(300) && runs < 50) {
        let (c, t) = (cpu_time(), Instant::now());
        f();
        let spent = match (c, cpu_time()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => t.elapsed(),
        };
        best = best.min(spent);
        runs += 1;
    }
    best
}

fn policy_with_actions(n: usize) -> Value {
    let actions: Vec<String> = (0..n).map(|i| format!("act{i}")).collect();
    let labels: Vec<String> = actions.iter().map(|a| format!("{a}_device")).collect();
    json!({"version": 1, "actions": actions, "roles": {"r": {"permissions": labels}}})
}

fn policy_with_roles(n: usize) -> Value {
    // A chain: role i inherits role i-1, each with a label of its own, and
    // one wide role that inherits every other.
    let mut roles = serde_json::Map::new();
    for i in 0..n {
        let inherits: Vec<String> = if i == 0 {
            vec![]
        } else {
            vec![format!("r{}", i - 1)]
        };
        roles.insert(
            format!("r{i}"),
            json!({"inherits": inherits, "permissions": [format!("read_device:d{i}")]}),
        );
    }
    let all: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
    roles.insert("wide".into(), json!({"inherits": all}));
    json!({"version": 1, "roles": roles})
}

fn policy_with_grants(n: usize) -> Value {
    let grants: Vec<Value> = (0..n)
        .map(|i| json!({"principal": format!("u{i}"), "permissions": ["read_device", "update_own_device"]}))
        .collect();
    json!({"version": 1, "roles": {}, "grants": grants})
}

fn policy_with_instance_grants(n: usize) -> Value {
    let labels: Vec<String> = (0..n).map(|i| format!("update_device:d{i}")).collect();
    json!({"version": 1, "roles": {}, "grants": [{"principal": "alice", "permissions": labels}]})
}

/// A JWKS of n secret keys, the token's (`last`) at the end.
fn jwks_with_keys(n: usize, last: &Value) -> Value {
    let mut keys: Vec<Value> = (0..n.saturating_sub(1))
        .map(|i| json!({"kty": "oct", "kid": format!("k{i}"), "k": "AAAA"}))
        .collect();
    keys.push(last.clone());
    json!({"keys": keys})
}

struct Row {
    name: &'static str,
    what: &'static str,
    times: Vec<Duration>,
}

/// `-- --once NAME N [setup]`: run row NAME's operation once at n = N and
/// exit (with `setup`, only build its input), for an instruction count under
/// `valgrind --tool=callgrind`, which the machine's load and caches do not
/// move: the operation's count is the difference of the two.
fn once() -> Option<(String, usize, bool)> {
    let mut args = std::env::args().skip_while(|a| a != "--once").skip(1);
    let name = args.next()?;
    let n = args.next()?.parse().ok()?;
    Some((name, n, args.next().as_deref() == Some("setup")))
}

fn measure(name: &'static str, what: &'static str, mut run: impl FnMut(usize) -> Box<dyn FnMut()>) -> Row {
    if let Some((only, n, setup_only)) = once() {
        if only == name {
            let mut f = run(n);
            if !setup_only {
                f();
            }
            std::process::exit(0);
        }
        return Row {
            name,
            what,
            times: Vec::new(),
        };
    }
    let times = SIZES
        .iter()
        .map(|&n| {
            let mut f = run(n);
            time(&mut *f)
        })
        .collect();
    Row { name, what, times }
}

fn main() {
    let write = std::env::args().skip_while(|a| a != "--write").nth(1);
    let mut rows = Vec::new();

    rows.push(measure(
        "actions",
        "load a policy with n actions (one label each), then capabilities",
        |n| {
            let doc = policy_with_actions(n);
            Box::new(move || {
                let engine = Engine::new(&doc).expect("loads");
                let p = Principal {
                    roles: vec!["r".into()],
                    ..Default::default()
                };
                black_box(
                    engine
                        .capabilities(&p, &Resource::new("device"))
                        .expect("decides"),
                );
            })
        },
    ));

    rows.push(measure(
        "roles",
        "load n roles (a chain, and one role inheriting all), then authorize for the wide role",
        |n| {
            let doc = policy_with_roles(n);
            Box::new(move || {
                let engine = Engine::new(&doc).expect("loads");
                let p = Principal {
                    roles: vec!["wide".into()],
                    ..Default::default()
                };
                black_box(
                    engine
                        .authorize(&p, "read", &Resource::new("device").with_id("d0"))
                        .expect("decides"),
                );
            })
        },
    ));

    let small = json!({"version": 1, "roles": {"user": {"permissions": ["read_own_device"]}}});
    let engine = Engine::new(&small).expect("loads");
    rows.push(measure(
        "unknown roles",
        "authorize and explain for a principal holding n roles the policy does not define",
        |n| {
            let p = Principal {
                id: Some("u".into()),
                roles: (0..n).map(|i| format!("ghost{i}")).collect(),
                ..Default::default()
            };
            let engine: &'static Engine = leaked(&engine);
            Box::new(move || {
                black_box(
                    engine
                        .explain(&p, "read", &Resource::new("device"))
                        .expect("decides"),
                );
            })
        },
    ));

    rows.push(measure(
        "grants",
        "load n grants (one principal each), then authorize one principal",
        |n| {
            let doc = policy_with_grants(n);
            Box::new(move || {
                let engine = Engine::new(&doc).expect("loads");
                let p = Principal {
                    id: Some(format!("u{}", n / 2)),
                    ..Default::default()
                };
                black_box(
                    engine
                        .authorize(&p, "read", &Resource::new("device"))
                        .expect("decides"),
                );
            })
        },
    ));

    rows.push(measure(
        "instance grants",
        "load n per-instance grants of one principal, prepare, answers, is_allowed",
        |n| {
            let doc = policy_with_instance_grants(n);
            Box::new(move || {
                let engine = Engine::new(&doc).expect("loads");
                let p = engine
                    .prepare(&Principal {
                        id: Some("alice".into()),
                        ..Default::default()
                    })
                    .expect("prepares");
                let answers = engine.answers(&p, "update", "device");
                black_box(answers.pick(Some("d7"), None, Some("alice")));
                black_box(engine.is_allowed(&p, "update", "device", Some("d7"), None));
            })
        },
    ));

    let hs = json!({"version": 1, "roles": {},
        "tokens": {"jwt": {"issuers": ["https://hs.example"], "token_use": null, "client_ids": null,
            "audiences": ["svc"], "algorithms": ["HS256"]}}});
    let hs_engine: &'static Engine = Box::leak(Box::new(Engine::new(&hs).expect("loads")));
    let token = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzLTEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2hzLmV4YW1wbGUiLCJzdWIiOiJzdmMtMSIsImF1ZCI6InN2YyIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwfQ.BUb-prd4cqLqAjcQh4jj5yvmHtOlLuGoifDMrTiXTSE";
    let key = json!({"kty": "oct", "kid": "hs-1", "k": "ovsoyxZbRUTVcZmB00-U6ARwiqGqmy_unruv4deQRjU"});
    rows.push(measure(
        "keys in a JWKS",
        "verify_jwt against a JWKS of n keys (the token's kid last)",
        |n| {
            let jwks = jwks_with_keys(n, &key);
            Box::new(move || {
                hs_engine.clear_token_cache();
                black_box(
                    hs_engine
                        .verify_jwt(token, &jwks, Some(1_700_000_000))
                        .expect("verifies"),
                );
            })
        },
    ));

    let mut table = String::new();
    table.push_str(&format!(
        "| n = | {} | doublings (each ≤ 2.5×) |\n| --- |{}---: | --- |\n",
        SIZES.map(|n| n.to_string()).join(" | "),
        " ---: |".repeat(SIZES.len() - 1)
    ));
    let mut worst: f64 = 0.0;
    for row in &rows {
        let cells: Vec<String> = row
            .times
            .iter()
            .map(|t| format!("{:.2} ms", t.as_secs_f64() * 1e3))
            .collect();
        let ratios: Vec<String> = row
            .times
            .windows(2)
            .map(|w| {
                let r = w[1].as_secs_f64() / w[0].as_secs_f64().max(1e-9);
                worst = worst.max(r);
                format!("{r:.2}×")
            })
            .collect();
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            row.name,
            cells.join(" | "),
            ratios.join(", ")
        ));
    }
    table.push('\n');
    for row in &rows {
        table.push_str(&format!("- **{}**: {}\n", row.name, row.what));
    }
    println!("{table}");
    println!("worst doubling: {worst:.2}×");
    if let Some(path) = write {
        let section = format!(
            "<!-- scaling:start -->\n## Scaling (Rust): every path linear\n\n`cargo bench -p tessera --bench scaling` (release, one run; each cell the least CPU time of ≥ 5 runs of the whole operation; worst doubling {worst:.2}×):\n\n{table}<!-- scaling:end -->"
        );
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (
            old.find("<!-- scaling:start -->"),
            old.find("<!-- scaling:end -->"),
        ) {
            (Some(a), Some(b)) if a < b => format!(
                "{}{}{}",
                &old[..a],
                section,
                &old[b + "<!-- scaling:end -->".len()..]
            ),
            _ => format!("{}\n{}\n", old.trim_end(), section),
        };
        std::fs::write(&path, new).expect("write BENCHMARKS.md");
        println!("written into {path}");
    }
}

/// A copy of `engine` that lives for the whole run (closures outlive `main`'s borrows).
fn leaked(engine: &Engine) -> &'static Engine {
    Box::leak(Box::new(Engine::new(engine.policy().document()).expect("loads")))
}

//! `analysis_differential --n N --seed S`: N random policies through the
//! analysis checks of `tessera_conformance::analysis_check` (who_can, diff and
//! suggestions against brute force). Prints one summary line and exits
//! non-zero on the first disagreement, with the seed and policy to replay.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tessera_conformance::analysis_check::{check_one, Counts};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().expect("a whole number"))
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 10_000);
    let seed = arg(&args, "--seed", 1);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()) as u64;
    let next = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let start = std::time::Instant::now();
    let totals: Vec<Result<Counts, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut c = Counts::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n || failed.load(Ordering::Relaxed) {
                            return Ok(c);
                        }
                        match check_one(seed, i) {
                            Ok(one) => {
                                c.requests += one.requests;
                                c.diffs_empty += one.diffs_empty;
                                c.diffs_nonempty += one.diffs_nonempty;
                                c.suggestions += one.suggestions;
                            }
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect()
    });
    let mut sum = Counts::default();
    let mut errors = Vec::new();
    for t in totals {
        match t {
            Ok(c) => {
                sum.requests += c.requests;
                sum.diffs_empty += c.diffs_empty;
                sum.diffs_nonempty += c.diffs_nonempty;
                sum.suggestions += c.suggestions;
            }
            Err(e) => errors.push(e),
        }
    }
    for e in &errors {
        eprintln!("{e}");
    }
    println!(
        "analysis differential (seed {seed}): {n} policies, {} requests by brute force, {} diffs empty and {} not, {} suggestions applied, {:.1}s",
        sum.requests,
        sum.diffs_empty,
        sum.diffs_nonempty,
        sum.suggestions,
        start.elapsed().as_secs_f64()
    );
    if errors.is_empty() {
        println!("{n} passed, 0 failed");
        ExitCode::SUCCESS
    } else {
        println!("{} passed, {} failed", n - errors.len() as u64, errors.len());
        ExitCode::FAILURE
    }
}

//! Reads cases as JSON lines on stdin (the vector case format without
//! `expect`; a line's `policy` stays in force for the lines after it) and
//! prints one JSON line per case: `{"ok": result}`, `{"error": {code, ...}}`
//! or `{"fault": message}` when the line itself is unusable.
//!
//! Driven by `conformance/random/differential.py`.

use serde_json::{json, Value};
use std::io::{self, BufRead, BufWriter, Write};
use tessera_conformance::Runner;

fn main() -> io::Result<()> {
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut runner = Runner::new();
    let mut policy = Value::Null;
    for line in stdin.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Err(e) => json!({"fault": format!("bad JSON line: {e}")}),
            Ok(case) => {
                if let Some(p) = case.get("policy") {
                    policy = p.clone();
                }
                match runner.run(&case, &policy) {
                    Ok(Ok(value)) => json!({"ok": value}),
                    Ok(Err(error)) => json!({"error": error}),
                    Err(fault) => json!({"fault": fault}),
                }
            }
        };
        serde_json::to_writer(&mut out, &reply)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

//! `make demo`: loads a policy and prints who may do what, then runs a few
//! operations from its table. Usage: `demo [policy.json]`.

use serde_json::json;
use std::process::ExitCode;
use tessera::{Engine, OperationContext, Principal, Resource};

fn principal(value: serde_json::Value) -> Principal {
    Principal::from_json(&value).expect("demo principals are well formed")
}

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/policy.json".into());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = match Engine::from_json(&text) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            for p in &e.problems {
                eprintln!("  {}: {} ({})", p.path, p.message, p.code);
            }
            return ExitCode::FAILURE;
        }
    };

    let people = [
        ("ada (owner)", principal(json!({"id": "ada", "roles": ["owner"]}))),
        ("bo (admin)", principal(json!({"id": "bo", "roles": ["admin"]}))),
        (
            "u-7 (user+grant)",
            principal(json!({"id": "u-7", "roles": ["user"]})),
        ),
        (
            "cy (managers)",
            principal(json!({"id": "cy", "groups": ["managers"]})),
        ),
        (
            "eva-op (operator)",
            principal(json!({"id": "eva-op", "groups": ["robot-operators"]})),
        ),
        (
            "tok (api, pull only)",
            principal(
                json!({"id": "u-7", "roles": ["user"], "limits": ["pull_stream", "read_device"], "credential": "api_token"}),
            ),
        ),
    ];
    let requests: Vec<(&str, Resource)> = vec![
        ("read", Resource::new("device").with_id("dev-1").with_owner("u-7")),
        (
            "update",
            Resource::new("device").with_id("dev-42").with_owner("zed"),
        ),
        (
            "delete",
            Resource::new("device").with_id("dev-1").with_owner("u-7"),
        ),
        ("delete", Resource::new("token").with_id("t-1").with_owner("bo")),
        ("create", Resource::new("project")),
        ("execute", Resource::new("program").with_id("pick")),
        ("push", Resource::new("stream").with_id("cam-1").with_owner("u-7")),
    ];

    println!("policy: {path}\n");
    print!("{:<22}", "who \\ request");
    for (action, r) in &requests {
        print!(
            "{:<24}",
            format!("{action} {}:{}", r.kind, r.id.as_deref().unwrap_or("*"))
        );
    }
    println!();
    for (name, p) in &people {
        print!("{name:<22}");
        for (action, r) in &requests {
            let cell = match engine.authorize(p, action, r) {
                Ok(d) if d.allowed => "allow".to_string(),
                Ok(d) => format!("deny ({})", d.reason),
                Err(e) => format!("error {}", e.code),
            };
            print!("{cell:<24}");
        }
        println!();
    }

    println!("\nwhy may bo not delete token t-1?");
    let why = engine
        .explain(
            &people[1].1,
            "delete",
            &Resource::new("token").with_id("t-1").with_owner("bo"),
        )
        .expect("valid principal");
    println!("{}", serde_json::to_string_pretty(&why).expect("serialisable"));

    println!("\noperations:");
    let calls: [(&str, Option<&Principal>, &str); 6] = [
        ("anonymous", None, "Auth.InitiateAuth"),
        ("anonymous", None, "Projects.ListProjects"),
        ("cy (managers)", Some(&people[3].1), "Projects.CreateProject"),
        ("cy (managers)", Some(&people[3].1), "Cluster.UpdateSettings"),
        ("bo (admin)", Some(&people[1].1), "DELETE /api/v1/devices/dev-9"),
        (
            "tok (api, pull only)",
            Some(&people[5].1),
            "GET /tok/api/v1/devices",
        ),
    ];
    for (who, p, op) in calls {
        match engine.authorize_operation(p, op, &OperationContext::default()) {
            Ok(d) => println!(
                "  {who:<22} {op:<32} {} ({})",
                if d.allowed { "allow" } else { "deny" },
                d.reason
            ),
            Err(e) => println!("  {who:<22} {op:<32} error {}", e.code),
        }
    }
    ExitCode::SUCCESS
}

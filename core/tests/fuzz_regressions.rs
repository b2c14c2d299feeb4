//! Every input saved in `fuzz/regressions/<target>/` (a crash, a hang or a
//! slow case the fuzzer found, see docs/fuzzing.md) run through its target
//! on stable, so `make test` keeps it fixed without a nightly toolchain.
//! The targets are the fuzz crate's own functions (`fuzz/src/lib.rs`).

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::path::Path;

#[test]
fn every_saved_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut ran = 0;
    for (name, run) in targets::TARGETS {
        let dir = root.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files.iter().filter(|f| f.extension().is_none_or(|e| e != "md")) {
            let data = std::fs::read(file).expect("readable regression input");
            run(&data);
            ran += 1;
        }
    }
    println!("fuzz regressions: {ran} inputs passed");
}

/// The seed inputs the fuzz crate's own checks rely on still pass (a cheap
/// check that the shared target code works on stable too).
#[test]
fn the_targets_accept_their_fixtures() {
    targets::label(b"read_own_device");
    targets::policy_text(
        br#"{"version": 1, "roles": {"user": {"permissions": ["read_own_device", "update_device:d1"]}}}"#,
    );
    targets::policy_value(b"\x03[\"read_own_device\", \"!delete_device:dev-42\"]");
    targets::authorization(b"Bearer abc.def.ghi");
    targets::jwt_signed(b"{\"alg\":\"HS256\",\"kid\":\"hs-1\"}\0{\"iss\":\"https://hs.example\",\"sub\":\"s\",\"aud\":\"svc\",\"exp\":1700000060}");
    targets::request(b"{\"id\":\"u1\",\"roles\":[\"user\"]}\0read\0{\"type\":\"device\",\"id\":\"d1\",\"owner\":\"u1\"}\0Auth.InitiateAuth");
    targets::request(b"[\"mallory\",[\"admin\"]]\0delete\0[\"device\",\"d2\",\"bob\"]");
    targets::realm_restore(b"[1,false,0,[],[],[]]");
}

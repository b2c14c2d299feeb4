//! Property: a realm restored from a snapshot is the realm it was taken from.
//!
//! Random sequences of realm operations run on an original realm; at random
//! points its snapshot is restored into another realm, which from then on
//! receives every operation too. After every operation all realms must have
//! given the same answer, and hold the same state, as the original.
//!
//! Fresh ids, secrets, salts and session ids are random, so after a fork two
//! realms make different ones; each is registered under a shared label when
//! it appears (the same label in every realm) and answers are compared with
//! those values replaced by their labels. Everything else must be equal
//! exactly. `snapshot(restore(s)) == s` is checked at every fork.
//!
//! A seeded generator (not proptest, to keep builds light): on a failure the
//! seed and the operations so far are printed. `REALM_PROP_CASES` and
//! `REALM_PROP_SEED` change how many sequences run and from which seed.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tessera::token::ApiTokenOptions;
use tessera::{Principal, Realm, RealmOptions, UserOptions};

const KEY: &str = "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI";

fn key() -> Value {
    json!({"kty": "oct", "k": KEY})
}

fn policy() -> Value {
    json!({
        "version": 1,
        "roles": {
            "user": {"permissions": [
                "read_own_device", "read_own_user", "update_own_user", "delete_own_user",
                "create_own_token", "read_own_token", "update_own_token", "delete_own_token"]},
            "manager": {"inherits": ["user"], "permissions": ["read_user", "read_token", "create_user"]},
            "admin": {"inherits": ["user"], "permissions": ["admin_user", "admin_token", "!delete_token:locked"]},
            "owner": {"inherits": ["admin"], "permissions": ["admin"]}
        },
        "tokens": {"session": {"ttl_seconds": 600, "max_lifetime_seconds": 3000}}
    })
}

/// splitmix64: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &["root", "ann", "Ann", "bob", "cy", "dee"];
const PASSWORDS: &[&str] = &["pw-1", "pw-2", "pw-3"];
const ROLES: &[&str] = &["user", "manager", "admin", "owner", "ghost"];
const LIMITS: &[&str] = &[
    "read_own_device",
    "read_own_token",
    "create_own_token",
    "!read_device:d1",
];
const GARBAGE: &[&str] = &[
    "",
    "Bearer",
    "Basic x",
    "abc",
    "a.b.c",
    "tsr_x_y",
    "Bearer eyJ.eyJ.sig",
];

/// Everything one run keeps per realm: the realm, and its value for each
/// slot (user ids, token ids, credentials) and label of each random value.
struct Copy {
    realm: Realm,
    labels: HashMap<String, String>,
    users: Vec<String>,
    tokens: Vec<String>,
    creds: Vec<String>,
}

struct World {
    copies: Vec<Copy>,
    next_label: usize,
    now: i64,
    log: Vec<String>,
    /// Per operation: how often the original answered `ok` or each code.
    tally: BTreeMap<String, BTreeMap<String, usize>>,
    /// A realm that only applies the original's change records.
    follower: Realm,
}

fn outcome<T: serde::Serialize>(r: tessera::Result<T>) -> Value {
    match r {
        Ok(v) => json!({"ok": serde_json::to_value(v).expect("serializes")}),
        Err(e) => json!({"error": e.code}),
    }
}

fn normalize(v: &Value, labels: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => match labels.get(s) {
            Some(l) => Value::String(format!("<{l}>")),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, labels)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), normalize(x, labels))).collect()),
        _ => v.clone(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn subset(rng: &mut Rng, items: &[&str]) -> Vec<String> {
    items
        .iter()
        .filter(|_| rng.chance(40))
        .map(|s| s.to_string())
        .collect()
}

impl World {
    fn new() -> World {
        let realm = Realm::new(&policy(), &key(), &RealmOptions::fast_for_tests()).expect("realm");
        World {
            copies: vec![Copy {
                realm,
                labels: HashMap::new(),
                users: Vec::new(),
                tokens: Vec::new(),
                creds: Vec::new(),
            }],
            next_label: 0,
            now: 1_000,
            log: Vec::new(),
            tally: BTreeMap::new(),
            follower: Realm::new(&policy(), &key(), &RealmOptions::fast_for_tests()).expect("realm"),
        }
    }

    fn fail(&self, seed: u64, what: String) -> ! {
        panic!("seed {seed}: {what}\noperations:\n  {}", self.log.join("\n  "));
    }

    /// Registers, in every copy, the string each result holds at `path`
    /// under one label (reusing the original's label when it has one).
    fn register(&mut self, results: &[Value], path: &[&str]) {
        let get = |v: &Value| {
            let mut cur = v;
            for p in path {
                cur = cur.get(*p)?;
            }
            cur.as_str().map(str::to_string)
        };
        let Some(first) = get(&results[0]) else { return };
        let label = match self.copies[0].labels.get(&first) {
            Some(l) => l.clone(),
            None => {
                self.next_label += 1;
                format!("{}#{}", path.join("."), self.next_label)
            }
        };
        for (copy, result) in self.copies.iter_mut().zip(results) {
            if let Some(s) = get(result) {
                copy.labels.entry(s).or_insert_with(|| label.clone());
            }
        }
    }

    /// Registers the current password hash of each copy's user `slot`.
    fn register_hash(&mut self, slot: usize) {
        let results: Vec<Value> = self
            .copies
            .iter()
            .map(|c| {
                let snap = c.realm.snapshot();
                let hash = snap["users"]
                    .as_array()
                    .and_then(|us| us.iter().find(|u| u["id"] == c.users[slot].as_str()))
                    .map(|u| u["password_hash"].clone())
                    .unwrap_or(Value::Null);
                json!({"hash": hash})
            })
            .collect();
        self.register(&results, &["hash"]);
    }

    /// Runs `op` in every copy, compares the normalized answers, and
    /// returns the raw answers.
    fn each(&mut self, name: String, op: impl Fn(usize, &Copy) -> Value) -> Vec<Value> {
        let results: Vec<Value> = self.copies.iter().enumerate().map(|(i, c)| op(i, c)).collect();
        let kind = name.split(['(', ' ']).next().unwrap_or_default().to_string();
        let answer = results[0].get("error").and_then(Value::as_str).unwrap_or("ok");
        *self
            .tally
            .entry(kind)
            .or_default()
            .entry(answer.to_string())
            .or_default() += 1;
        self.log.push(format!("{name} → {answer}"));
        results
    }

    fn compare(&self, seed: u64, results: &[Value]) {
        let want = normalize(&results[0], &self.copies[0].labels);
        for (i, (copy, got)) in self.copies.iter().zip(results).enumerate().skip(1) {
            let got = normalize(got, &copy.labels);
            if got != want {
                self.fail(
                    seed,
                    format!("copy {i} answered {got}\n  the original answered {want}"),
                );
            }
        }
    }

    fn compare_state(&self, seed: u64) {
        // A follower fed only the original's change records (SPEC §7.1)
        // holds exactly what the original holds.
        let original = &self.copies[0].realm;
        let records: Vec<Value> = original
            .changes(self.follower.seq())
            .unwrap_or_else(|e| self.fail(seed, format!("changes failed: {e}")))
            .iter()
            .map(|t| serde_json::from_str(t).expect("records are JSON"))
            .collect();
        if let Err(e) = self.follower.apply(&records) {
            self.fail(seed, format!("apply refused the original's records: {e}"));
        }
        // Applying them again changes nothing.
        if self.follower.apply(&records).map(|_| ()).is_err()
            || self.follower.snapshot() != original.snapshot()
        {
            self.fail(
                seed,
                format!(
                    "the fold of the records is {}\n  the original holds {}",
                    self.follower.snapshot(),
                    original.snapshot()
                ),
            );
        }
        let want = normalize(&self.copies[0].realm.snapshot(), &self.copies[0].labels);
        for (i, copy) in self.copies.iter().enumerate().skip(1) {
            let got = normalize(&copy.realm.snapshot(), &copy.labels);
            if got != want {
                self.fail(seed, format!("copy {i} holds {got}\n  the original holds {want}"));
            }
        }
    }

    fn fork(&mut self, seed: u64) {
        self.log.push("fork: snapshot → restore".into());
        let original = &self.copies[0];
        let snap = original.realm.snapshot();
        let restored = Realm::restore(&policy(), &snap, &key(), &RealmOptions::fast_for_tests())
            .unwrap_or_else(|e| self.fail(seed, format!("restore failed: {e}")));
        let again = restored.snapshot();
        if again != snap {
            self.fail(seed, format!("snapshot(restore(s)) != s:\n  {again}\n  {snap}"));
        }
        let copy = Copy {
            realm: restored,
            labels: original.labels.clone(),
            users: original.users.clone(),
            tokens: original.tokens.clone(),
            creds: original.creds.clone(),
        };
        self.copies.push(copy);
    }

    /// The actor of each copy: what `authenticate` makes of credential
    /// `slot` (None for no slot or a refused credential). The answers are
    /// compared too.
    fn actors(&mut self, seed: u64, slot: Option<usize>) -> Vec<Option<Principal>> {
        let now = self.now;
        let Some(slot) = slot else {
            return self.copies.iter().map(|_| None).collect();
        };
        let results: Vec<tessera::Result<Principal>> = self
            .copies
            .iter()
            .map(|c| c.realm.authenticate(&c.creds[slot], Some(now)))
            .collect();
        let shown: Vec<Value> = results.iter().map(|r| outcome(r.clone())).collect();
        self.compare(seed, &shown);
        let who = match &results[0] {
            Ok(p) => format!("{:?} {:?}", p.id, p.roles),
            Err(e) => e.code.clone(),
        };
        self.log.push(format!("actor {slot}: {who}"));
        results.into_iter().map(Result::ok).collect()
    }

    fn step(&mut self, seed: u64, rng: &mut Rng) {
        let users = self.copies[0].users.len();
        let tokens = self.copies[0].tokens.len();
        let creds = self.copies[0].creds.len();
        // Recent credentials and tokens are the likeliest to be live.
        let recent = |rng: &mut Rng, n: usize| {
            if rng.chance(70) {
                n - 1 - rng.below(n.min(3))
            } else {
                rng.below(n)
            }
        };
        // Mostly a credential the original accepts now (newest first), so
        // that many calls have a live actor; otherwise any, or none.
        let live: Vec<usize> = (0..creds)
            .rev()
            .filter(|&slot| {
                let c = &self.copies[0];
                c.realm.authenticate(&c.creds[slot], Some(self.now)).is_ok()
            })
            .take(4)
            .collect();
        let cred = |rng: &mut Rng| {
            if !live.is_empty() && rng.chance(75) {
                Some(live[rng.below(live.len())])
            } else {
                (creds > 0 && rng.chance(80)).then(|| recent(rng, creds))
            }
        };
        let user = |rng: &mut Rng| (users > 0 && rng.chance(90)).then(|| rng.below(users));
        // Changes aimed mostly at users other than the first (the bootstrap
        // admin), so that sequences keep an actor who can act.
        let target = |rng: &mut Rng| {
            if users > 1 && rng.chance(85) {
                Some(1 + rng.below(users - 1))
            } else {
                user(rng)
            }
        };
        let now = self.now;
        let pick_user =
            |c: &Copy, slot: Option<usize>| slot.map_or("ghost".to_string(), |s| c.users[s].clone());
        match rng.below(20) {
            0 => {
                self.now += if rng.chance(20) {
                    rng.below(2000)
                } else {
                    rng.below(200)
                } as i64;
                self.log.push(format!("advance to {}", self.now));
            }
            1 => self.fork(seed),
            2 | 3 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let name = *rng.pick(NAMES);
                let pw = rng.chance(80).then(|| *rng.pick(PASSWORDS));
                let id = rng.chance(30).then(|| format!("id-{}", rng.below(5)));
                let options = UserOptions { id: id.clone() };
                let results = self.each(
                    format!("create_user({actor_slot:?}, {name}, {pw:?}, {id:?})"),
                    |i, c| {
                        outcome(
                            c.realm
                                .create_user(actors[i].as_ref(), name, pw, &options, Some(now)),
                        )
                    },
                );
                self.register(&results, &["ok", "id"]);
                self.compare(seed, &results);
                if results[0].get("ok").is_some() {
                    for (c, r) in self.copies.iter_mut().zip(&results) {
                        c.users
                            .push(r["ok"]["id"].as_str().unwrap_or_default().to_string());
                    }
                    self.register_hash(users);
                }
            }
            4 | 5 => {
                let (name, pw) = if rng.chance(40) {
                    ("root", "pw-1")
                } else {
                    (*rng.pick(NAMES), *rng.pick(PASSWORDS))
                };
                let results = self.each(format!("login({name}, {pw})"), |_, c| {
                    outcome(c.realm.login(name, pw, Some(now)))
                });
                self.session_result(seed, results);
            }
            6 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let target = target(rng);
                let roles = subset(rng, ROLES);
                let results = self.each(
                    format!("set_roles({actor_slot:?}, {target:?}, {roles:?})"),
                    |i, c| {
                        outcome(
                            c.realm
                                .set_roles(actors[i].as_ref(), &pick_user(c, target), &roles),
                        )
                    },
                );
                self.compare(seed, &results);
            }
            7 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let target = target(rng);
                let pw = rng.chance(85).then(|| *rng.pick(PASSWORDS));
                let results = self.each(
                    format!("set_password({actor_slot:?}, {target:?}, {pw:?})"),
                    |i, c| {
                        outcome(
                            c.realm
                                .set_password(actors[i].as_ref(), &pick_user(c, target), pw),
                        )
                    },
                );
                self.compare(seed, &results);
                if let (Some(slot), true) = (target, results[0].get("ok").is_some()) {
                    self.register_hash(slot);
                }
            }
            8 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let target = target(rng);
                let results = self.each(format!("delete_user({actor_slot:?}, {target:?})"), |i, c| {
                    outcome(c.realm.delete_user(actors[i].as_ref(), &pick_user(c, target)))
                });
                self.compare(seed, &results);
            }
            9 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let target = user(rng);
                let results = self.each(format!("get_user({actor_slot:?}, {target:?})"), |i, c| {
                    outcome(c.realm.get_user(actors[i].as_ref(), &pick_user(c, target)))
                });
                self.compare(seed, &results);
                let results = self.each(format!("list_users({actor_slot:?})"), |i, c| {
                    outcome(c.realm.list_users(actors[i].as_ref()))
                });
                self.compare(seed, &results);
            }
            10 | 11 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let owner = user(rng);
                let roles = rng.chance(30).then(|| subset(rng, ROLES));
                let options = ApiTokenOptions {
                    lifespan_seconds: rng.chance(30).then(|| 1 + rng.below(4000) as i64),
                    limits: rng.chance(30).then(|| subset(rng, LIMITS)),
                };
                let results = self.each(
                    format!("create_api_token({actor_slot:?}, {owner:?}, {roles:?}, {options:?})"),
                    |i, c| {
                        outcome(c.realm.create_api_token(
                            actors[i].as_ref(),
                            &pick_user(c, owner),
                            roles.as_deref(),
                            &options,
                            Some(now),
                        ))
                    },
                );
                self.token_result(seed, results);
            }
            12 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let owner = rng.chance(50).then(|| user(rng)).flatten();
                let results = self.each(format!("list_api_tokens({actor_slot:?}, {owner:?})"), |i, c| {
                    let o = owner.map(|s| c.users[s].clone());
                    outcome(c.realm.list_api_tokens(actors[i].as_ref(), o.as_deref()))
                });
                self.compare(seed, &results);
            }
            13 | 14 => {
                let actor_slot = cred(rng);
                let actors = self.actors(seed, actor_slot);
                let token = (tokens > 0 && rng.chance(90)).then(|| recent(rng, tokens));
                // Mostly a transition the token's state allows; sometimes any.
                let state = token.and_then(|t| {
                    let c = &self.copies[0];
                    let snap = c.realm.snapshot();
                    let records = snap["api_tokens"].as_array().cloned().unwrap_or_default();
                    records
                        .into_iter()
                        .find(|r| r["id"] == c.tokens[t].as_str())
                        .map(|r| r["state"].clone())
                });
                let which = match state.as_ref().and_then(Value::as_str) {
                    Some("active") if rng.chance(75) => *rng.pick(&[0, 2, 3]),
                    Some("suspended") if rng.chance(75) => *rng.pick(&[1, 1, 2, 3]),
                    _ => rng.below(4),
                };
                let names = ["suspend", "resume", "revoke", "replace"];
                let results = self.each(
                    format!("{}_api_token({actor_slot:?}, {token:?})", names[which]),
                    |i, c| {
                        let a = actors[i].as_ref();
                        let id = token.map_or("nope".to_string(), |t| c.tokens[t].clone());
                        match which {
                            0 => outcome(c.realm.suspend_api_token(a, &id)),
                            1 => outcome(c.realm.resume_api_token(a, &id)),
                            2 => outcome(c.realm.revoke_api_token(a, &id)),
                            _ => outcome(c.realm.replace_api_token(a, &id, Some(now))),
                        }
                    },
                );
                if which == 3 {
                    self.token_result(seed, results);
                } else {
                    self.compare(seed, &results);
                }
            }
            15 => {
                if creds == 0 {
                    return;
                }
                let slot = recent(rng, creds);
                let results = self.each(format!("open_session({slot})"), |_, c| {
                    outcome(c.realm.open_session(&c.creds[slot], Some(now)))
                });
                self.session_result(seed, results);
            }
            16 => {
                if creds == 0 {
                    return;
                }
                let slot = recent(rng, creds);
                let results = self.each(format!("renew({slot})"), |_, c| {
                    outcome(c.realm.renew(&c.creds[slot], Some(now)))
                });
                self.session_result(seed, results);
            }
            17 => {
                if creds == 0 {
                    return;
                }
                let slot = recent(rng, creds);
                let results = self.each(format!("close({slot})"), |_, c| {
                    outcome(c.realm.close(&c.creds[slot], Some(now)))
                });
                self.compare(seed, &results);
            }
            18 => {
                if rng.chance(20) {
                    let results = self.each("restart".into(), |_, c| {
                        c.realm.restart().unwrap();
                        Value::Null
                    });
                    self.compare(seed, &results);
                } else {
                    let header = *rng.pick(GARBAGE);
                    let results = self.each(format!("authenticate({header:?})"), |_, c| {
                        outcome(c.realm.authenticate(header, Some(now)))
                    });
                    self.compare(seed, &results);
                }
            }
            _ => {
                if creds == 0 {
                    return;
                }
                let slot = recent(rng, creds);
                let bearer = rng.chance(50);
                let results = self.each(format!("authenticate(cred {slot})"), |_, c| {
                    let header = if bearer {
                        format!("Bearer {}", c.creds[slot])
                    } else {
                        c.creds[slot].clone()
                    };
                    outcome(c.realm.authenticate(&header, Some(now)))
                });
                self.compare(seed, &results);
            }
        }
        self.compare_state(seed);
    }

    fn session_result(&mut self, seed: u64, results: Vec<Value>) {
        self.register(&results, &["ok", "token"]);
        self.register(&results, &["ok", "session_id"]);
        self.compare(seed, &results);
        if results[0].get("ok").is_some() {
            for (c, r) in self.copies.iter_mut().zip(&results) {
                c.creds
                    .push(r["ok"]["token"].as_str().unwrap_or_default().to_string());
            }
        }
    }

    fn token_result(&mut self, seed: u64, results: Vec<Value>) {
        self.register(&results, &["ok", "secret"]);
        self.register(&results, &["ok", "record", "id"]);
        self.register(&results, &["ok", "record", "hash"]);
        self.compare(seed, &results);
        if results[0].get("ok").is_some() {
            for (c, r) in self.copies.iter_mut().zip(&results) {
                c.tokens
                    .push(r["ok"]["record"]["id"].as_str().unwrap_or_default().to_string());
                c.creds
                    .push(r["ok"]["secret"].as_str().unwrap_or_default().to_string());
            }
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn restored_realms_answer_like_the_original() {
    let cases = env_u64("REALM_PROP_CASES", 60);
    let first_seed = env_u64("REALM_PROP_SEED", 1);
    let mut forks = 0;
    let mut tally: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for seed in first_seed..first_seed + cases {
        let mut rng = Rng(seed);
        let mut world = World::new();
        // Start with a bootstrap user and a session most of the time, so
        // that most operations have an actor who can do something.
        if rng.chance(80) {
            let results = world.each("create_user(None, root, pw-1)".into(), |_, c| {
                outcome(
                    c.realm
                        .create_user(None, "root", Some("pw-1"), &UserOptions::default(), Some(1_000)),
                )
            });
            world.register(&results, &["ok", "id"]);
            world.copies[0]
                .users
                .push(results[0]["ok"]["id"].as_str().unwrap_or_default().to_string());
            world.register_hash(0);
            let results = world.each("login(root, pw-1)".into(), |_, c| {
                outcome(c.realm.login("root", "pw-1", Some(1_000)))
            });
            world.session_result(seed, results);
        }
        for _ in 0..70 {
            world.step(seed, &mut rng);
        }
        world.fork(seed);
        world.compare_state(seed);
        if std::env::var_os("REALM_PROP_TRACE").is_some() {
            eprintln!("seed {seed}:\n  {}", world.log.join("\n  "));
        }
        forks += world.copies.len() - 1;
        for (op, answers) in world.tally {
            for (answer, n) in answers {
                *tally.entry(op.clone()).or_default().entry(answer).or_default() += n;
            }
        }
    }
    assert!(forks >= cases as usize, "every sequence forks at least once");
    eprintln!("{cases} sequences, {forks} restored copies, all answered like their originals");
    eprintln!("answers of the original, per operation:");
    for (op, answers) in &tally {
        eprintln!("  {op}: {answers:?}");
    }
    // Every kind of operation both succeeded and was refused: the sequences
    // reach the interesting states, not only the refusals.
    for kind in [
        "create_user",
        "login",
        "set_roles",
        "set_password",
        "delete_user",
        "get_user",
        "list_users",
        "create_api_token",
        "list_api_tokens",
        "suspend_api_token",
        "resume_api_token",
        "revoke_api_token",
        "replace_api_token",
        "open_session",
        "renew",
        "close",
        "authenticate",
    ] {
        let answers = tally.get(kind).cloned().unwrap_or_default();
        let ok = answers.get("ok").copied().unwrap_or(0);
        let refused: usize = answers.iter().filter(|(a, _)| *a != "ok").map(|(_, n)| n).sum();
        assert!(ok > 0 && refused > 0, "{kind}: {answers:?}");
    }
}

#[test]
fn snapshots_round_trip_exactly() {
    let realm = Realm::new(&policy(), &key(), &RealmOptions::fast_for_tests()).unwrap();
    let root = realm
        .create_user(
            None,
            "root",
            Some("pw"),
            &UserOptions {
                id: Some("u-root".into()),
            },
            Some(5),
        )
        .unwrap();
    let admin = realm
        .authenticate(&realm.login("root", "pw", Some(6)).unwrap().token, Some(6))
        .unwrap();
    realm
        .create_user(Some(&admin), "ann", None, &UserOptions::default(), Some(7))
        .unwrap();
    let t = realm
        .create_api_token(
            Some(&admin),
            &root.id,
            Some(&strings(&["user"])),
            &ApiTokenOptions {
                lifespan_seconds: Some(50),
                limits: Some(strings(&["read_own_device"])),
            },
            Some(8),
        )
        .unwrap();
    realm.open_session(&t.secret, Some(9)).unwrap();
    let t2 = realm
        .create_api_token(Some(&admin), &root.id, None, &ApiTokenOptions::default(), Some(9))
        .unwrap();
    realm.suspend_api_token(Some(&admin), &t2.record.id).unwrap();
    realm.restart().unwrap();
    realm.login("root", "pw", Some(10)).unwrap();
    let snap = realm.snapshot();
    assert_eq!(snap["version"], 2);
    assert_eq!(snap["seq"], realm.seq());
    assert_eq!(snap["epoch"], 1);
    assert_eq!(snap["bootstrapped"], true);
    let keys: Vec<&String> = snap.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "version",
            "seq",
            "bootstrapped",
            "epoch",
            "users",
            "api_tokens",
            "sessions"
        ]
    );
    assert_eq!(snap["users"][1]["password_hash"], Value::Null);
    assert_eq!(snap["api_tokens"][1]["state"], "suspended");
    let restored = Realm::restore(&policy(), &snap, &key(), &RealmOptions::fast_for_tests()).unwrap();
    assert_eq!(restored.snapshot(), snap);
    // Byte for byte, too: the same JSON text.
    assert_eq!(restored.snapshot().to_string(), snap.to_string());
    // Through text and back.
    let text = serde_json::to_string(&snap).unwrap();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        Realm::restore(&policy(), &parsed, &key(), &RealmOptions::fast_for_tests())
            .unwrap()
            .snapshot(),
        snap
    );
}

#[test]
fn restore_refuses_broken_snapshots_without_panicking() {
    let realm = Realm::new(&policy(), &key(), &RealmOptions::fast_for_tests()).unwrap();
    realm
        .create_user(
            None,
            "root",
            Some("pw"),
            &UserOptions {
                id: Some("u-root".into()),
            },
            Some(5),
        )
        .unwrap();
    let admin = realm
        .authenticate(&realm.login("root", "pw", Some(6)).unwrap().token, Some(6))
        .unwrap();
    realm
        .create_api_token(Some(&admin), "u-root", None, &ApiTokenOptions::default(), Some(8))
        .unwrap();
    let good = realm.snapshot();
    let restore = |s: &Value| Realm::restore(&policy(), s, &key(), &RealmOptions::fast_for_tests());
    assert!(restore(&good).is_ok());
    let mut broken: Vec<Value> = vec![Value::Null, json!([]), json!("snapshot"), json!({})];
    let edits: Vec<(&str, Value)> = vec![
        ("/version", json!(3)),
        ("/version", json!(1)), // a version 1 snapshot has no `seq`
        ("/version", json!("1")),
        ("/seq", json!(-1)),
        ("/epoch", json!(-1)),
        ("/bootstrapped", json!(false)),
        ("/users/0/id", json!("a b")),
        ("/users/0/username", json!("")),
        (
            "/users/0/password_hash",
            json!("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"),
        ),
        ("/users/0/password_hash", json!(7)),
        ("/users/0/roles", json!("admin")),
        ("/users/0/extra", json!(1)),
        ("/api_tokens/0/hash", json!("ABC")),
        ("/api_tokens/0/owner", json!("ghost")),
        ("/api_tokens/0/state", json!("lost")),
        ("/api_tokens/0/id", json!("not base62!")),
        ("/sessions/0/user_id", json!("ghost")),
        ("/sessions/0/api_token_id", json!("nope")),
        ("/sessions/0/id", json!("")),
        ("/extra", json!(true)),
    ];
    for (pointer, value) in edits {
        let mut s = good.clone();
        match s.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let target = if parent.is_empty() {
                    Some(&mut s)
                } else {
                    s.pointer_mut(parent)
                };
                target
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .insert(key.to_string(), value);
            }
        }
        broken.push(s);
    }
    let mut twice = good.clone();
    let user = twice["users"][0].clone();
    twice["users"].as_array_mut().unwrap().push(user);
    broken.push(twice);
    let mut same_name = good.clone();
    let mut other = same_name["users"][0].clone();
    other["id"] = json!("u-2");
    other["username"] = json!("ROOT");
    same_name["users"].as_array_mut().unwrap().push(other);
    broken.push(same_name);
    for s in &broken {
        let err = restore(s).expect_err(&format!("accepted {s}"));
        assert_eq!(err.code, "invalid_argument", "{s}");
    }
}

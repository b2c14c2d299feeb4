//! # tessera
//!
//! One authorization engine for device clouds and robot or cluster APIs:
//! permission labels (`read_own_device`, `admin_device`, `!delete_token`), roles
//! with inheritance, per-instance grants, operations tables, and the tokens that
//! prove who is asking. The same core runs natively, in WebAssembly and in Python.
//!
//! Data flows one way: policy text → [`policy`] (parsed, checked) → compiled index
//! ([`rules`]) → [`Decision`]. Modules import downward only, in this order:
//!
//! 1. [`error`]; [`schema`] (JSON-shape checks), [`label`], [`request`],
//!    [`answers`], [`request_path`] (request paths as web frameworks read them);
//! 2. the section parsers: [`rules`] (labels compiled into the index),
//!    [`operation_table`] (the `operations` table) and `token::config`;
//! 3. [`policy`], which composes the sections into one [`CompiledPolicy`];
//! 4. [`roles`] (resolving a principal), then [`decide`] (decisions), then
//!    [`operations`] (deciding a call against the table) and [`analysis`]
//!    (questions about a whole policy, answered by deciding);
//! 5. [`engine`], and above it `token` and `realm`, which extend [`Engine`].
//!
//! "SPEC §N" in these docs and comments is section N of the contract,
//! `docs/SPEC.md` in the repository.
//!
//! ```
//! use serde_json::json;
//! use tessera::{Engine, Principal, Resource};
//!
//! let engine = Engine::new(&json!({
//!     "version": 1,
//!     "roles": {
//!         "user":  {"permissions": ["read_own_device"]},
//!         "admin": {"inherits": ["user"], "permissions": ["admin_device", "!delete_token"]}
//!     }
//! })).unwrap();
//!
//! let alice = Principal { id: Some("alice".into()), roles: vec!["user".into()], ..Default::default() };
//! let hers = Resource::new("device").with_id("d1").with_owner("alice");
//! let theirs = Resource::new("device").with_id("d2").with_owner("bob");
//!
//! assert!(engine.authorize(&alice, "read", &hers).unwrap().allowed);
//! assert!(!engine.authorize(&alice, "read", &theirs).unwrap().allowed);
//! ```

#![warn(missing_docs)]

pub mod analysis;
pub mod answers;
pub mod argument;
pub mod decide;
pub mod decision;
pub mod engine;
pub mod error;
pub mod label;
pub mod operation_table;
pub mod operations;
pub mod policy;
#[cfg(feature = "tokens")]
pub mod realm;
pub mod request;
pub mod request_path;
pub mod roles;
pub mod rules;
pub mod schema;
pub mod suggestion;
#[cfg(feature = "tokens")]
pub mod token;

pub use answers::Answers;
pub use decide::{Explanation, MatchedRule};
pub use decision::{Decision, Reason, Source, UnknownName};
pub use engine::{Engine, PreparedPrincipal};
pub use error::{Error, ErrorKind, Problem, Result};
pub use label::{parse_label, Effect, Label, Vocabulary};
pub use operations::OperationContext;
pub use policy::CompiledPolicy;
#[cfg(feature = "tokens")]
pub use realm::{Argon2Options, Realm, RealmOptions, User, UserOptions};
pub use request::{Credential, Principal, Resource};
pub use schema::{parse_policy_bytes, parse_policy_text};

// The README's Rust example is compiled and run as a doc test.
#[doc = include_str!("../../README.md")]
#[cfg(all(doctest, feature = "tokens"))]
pub struct ReadmeDoctests;

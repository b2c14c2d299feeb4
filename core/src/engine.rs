//! [`Engine`]: a loaded, compiled policy and every operation of SPEC §1–6 on it.

use crate::answers::Answers;
use crate::decide::{self, Explanation};
use crate::decision::Decision;
use crate::error::Result;
use crate::label::{self, Label};
use crate::operations::{self, OperationContext};
use crate::policy::CompiledPolicy;
use crate::request::{Principal, Resource};
use crate::roles::Resolved;
use crate::rules::ResourceRef;
use crate::schema::parse_policy_text;
#[cfg(feature = "tokens")]
use crate::token::jose::TokenState;
use arc_swap::ArcSwap;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Generations are unique across every engine of the process, so a principal
/// prepared by one engine is never mistaken for one prepared by another.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::AcqRel)
}

/// The process-wide counter behind policy generations: it moves whenever any
/// engine is created or has its policy replaced, and at no other time. While
/// it has not moved, every answer a prepared principal gave still stands, so
/// a cache of [`Engine::answers`] may be keyed on it; [`Engine::generation`]
/// is the finer key, one engine's alone. (The WebAssembly package reads this
/// counter straight from linear memory, without a call.)
///
/// ```
/// use std::sync::atomic::Ordering;
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {}})).unwrap();
/// let before = tessera::engine::generations().load(Ordering::Acquire);
/// engine.load(&json!({"version": 1, "roles": {}})).unwrap();
/// assert_ne!(tessera::engine::generations().load(Ordering::Acquire), before);
/// ```
pub fn generations() -> &'static AtomicU64 {
    &NEXT_GENERATION
}

/// A policy, loaded and compiled once, and the decisions made with it.
///
/// `Engine` is `Send + Sync`; share it behind an `Arc`. [`Engine::load`]
/// replaces the policy atomically: a failed load leaves the old one in force.
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {}})).unwrap();
/// let bad = engine.load(&json!({"version": 1, "roles": {"a": {"inherits": ["ghost"]}}}));
/// assert_eq!(bad.unwrap_err().problems[0].code, "unknown_role");
/// assert!(engine.policy().role_names().is_empty()); // still the first policy
/// ```
pub struct Engine {
    policy: ArcSwap<CompiledPolicy>,
    /// Bumped after every replacement: a prepared principal whose generation is
    /// current decides with its own policy, with one relaxed load instead of an
    /// `ArcSwap` guard on the hot path.
    generation: AtomicU64,
    #[cfg(feature = "tokens")]
    pub(crate) tokens: TokenState,
}

/// A principal resolved once against a policy: its labels parsed, its roles
/// expanded, its rules indexed by subject. Deciding with it allocates nothing.
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1,
///     "roles": {"viewer": {"permissions": ["read_device"]}}})).unwrap();
/// let p = tessera::Principal { roles: vec!["viewer".into()], ..Default::default() };
/// let prepared = engine.prepare(&p).unwrap();
/// let d = engine.authorize_prepared(&prepared, "read", &tessera::Resource::new("device"));
/// assert!(d.allowed);
/// ```
#[derive(Debug, Clone)]
pub struct PreparedPrincipal {
    pub(crate) policy: Arc<CompiledPolicy>,
    generation: u64,
    pub(crate) principal: Principal,
    pub(crate) resolved: Resolved,
}

impl PreparedPrincipal {
    /// The principal this was prepared from.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    /// The effective roles, in breadth-first order.
    pub fn effective_roles(&self) -> Vec<String> {
        self.resolved.effective_role_names(&self.policy)
    }
}

impl Engine {
    /// Loads and compiles a policy given as a JSON value.
    pub fn new(policy: &Value) -> Result<Engine> {
        let compiled = CompiledPolicy::compile(policy)?;
        Ok(Engine {
            policy: ArcSwap::from_pointee(compiled),
            generation: AtomicU64::new(next_generation()),
            #[cfg(feature = "tokens")]
            tokens: TokenState::default(),
        })
    }

    /// Loads a policy from JSON text; text that is not JSON is a policy error
    /// (`invalid_json`, see [`parse_policy_text`]).
    pub fn from_json(text: &str) -> Result<Engine> {
        Engine::new(&parse_policy_text(text)?)
    }

    /// Replaces the policy atomically; on error the old policy stays in force.
    pub fn load(&self, policy: &Value) -> Result<()> {
        let compiled = CompiledPolicy::compile(policy)?;
        self.policy.store(Arc::new(compiled));
        self.generation.store(next_generation(), Ordering::Release);
        Ok(())
    }

    /// [`Engine::load`] from JSON text, as [`Engine::from_json`] reads it.
    ///
    /// ```
    /// let engine = tessera::Engine::from_json(r#"{"version": 1}"#).unwrap();
    /// assert_eq!(engine.load_json("{").unwrap_err().problems[0].code, "invalid_json");
    /// engine.load_json(r#"{"version": 1, "roles": {"user": {}}}"#).unwrap();
    /// assert!(engine.policy().has_role("user"));
    /// ```
    pub fn load_json(&self, text: &str) -> Result<()> {
        self.load(&parse_policy_text(text)?)
    }

    /// This engine's policy generation: it changes on every successful
    /// [`Engine::load`] and at no other time (a failed load leaves it), and no
    /// two engines of the process share one. While it has not moved, every
    /// answer a prepared principal gave still stands (see [`crate::answers`]).
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1})).unwrap();
    /// let first = engine.generation();
    /// assert!(engine.load(&json!({"version": 2})).is_err());
    /// assert_eq!(engine.generation(), first);
    /// engine.load(&json!({"version": 1})).unwrap();
    /// assert_ne!(engine.generation(), first);
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Where [`Engine::generation`] lives, for a host that reads it in place:
    /// the WebAssembly package keeps each prepared principal's answers while
    /// its own engine's generation has not moved, whatever other engines do.
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// use serde_json::json;
    /// let a = tessera::Engine::new(&json!({"version": 1})).unwrap();
    /// let b = tessera::Engine::new(&json!({"version": 1})).unwrap();
    /// let before = a.generation_cell().load(Ordering::Acquire);
    /// b.load(&json!({"version": 1})).unwrap();
    /// assert_eq!(a.generation_cell().load(Ordering::Acquire), before);
    /// ```
    pub fn generation_cell(&self) -> &AtomicU64 {
        &self.generation
    }

    /// The policy in force now.
    pub fn policy(&self) -> Arc<CompiledPolicy> {
        self.policy.load_full()
    }

    /// Parses a label against this policy's actions and subjects.
    pub fn parse_label(&self, text: &str) -> Result<Label> {
        label::parse_label(text, Some(self.policy.load().vocabulary()))
    }

    /// Resolves a principal once for many decisions.
    pub fn prepare(&self, principal: &Principal) -> Result<PreparedPrincipal> {
        // Generation first: if a replacement lands in between, the prepared
        // principal holds the newer policy with an older generation, which only
        // sends it down the (still correct) slow path.
        let generation = self.generation.load(Ordering::Acquire);
        let policy = self.policy.load_full();
        let resolved = Resolved::new(&policy, principal)?;
        Ok(PreparedPrincipal {
            policy,
            generation,
            principal: principal.clone(),
            resolved,
        })
    }

    /// Decides whether `principal` may do `action` on `resource` (SPEC §4).
    ///
    /// Unknown actions or resource types deny with `invalid_request`; a principal
    /// holding a malformed label is an error.
    pub fn authorize(&self, principal: &Principal, action: &str, resource: &Resource) -> Result<Decision> {
        let policy = self.policy.load();
        let resolved = Resolved::new(&policy, principal)?;
        Ok(decide::decide(&policy, &resolved, principal, action, resource))
    }

    /// The hot path: a decision for a prepared principal, with no allocation
    /// unless the request is invalid. If the policy was replaced since
    /// `prepare`, the decision is made against the policy in force now.
    pub fn authorize_prepared(
        &self,
        prepared: &PreparedPrincipal,
        action: &str,
        resource: &Resource,
    ) -> Decision {
        self.authorize_parts_of(prepared, action, &ResourceRef::of(resource))
    }

    /// The hot path with string arguments: no [`Resource`] is built.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1,
    ///     "roles": {"user": {"permissions": ["update_own_device"]}}})).unwrap();
    /// let p = engine.prepare(&tessera::Principal { id: Some("u1".into()), roles: vec!["user".into()], ..Default::default() }).unwrap();
    /// assert!(engine.authorize_parts(&p, "update", "device", Some("d1"), Some("u1")).allowed);
    /// assert!(!engine.authorize_parts(&p, "update", "device", Some("d2"), Some("u2")).allowed);
    /// ```
    pub fn authorize_parts(
        &self,
        prepared: &PreparedPrincipal,
        action: &str,
        kind: &str,
        id: Option<&str>,
        owner: Option<&str>,
    ) -> Decision {
        self.authorize_parts_of(prepared, action, &ResourceRef::parts(kind, id, owner))
    }

    /// Only the yes/no of [`Engine::authorize_parts`], for the hottest checks
    /// (UI controls, per-message filters): it builds no [`Decision`] at all.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1,
    ///     "roles": {"viewer": {"permissions": ["read_device"]}}})).unwrap();
    /// let p = engine.prepare(&tessera::Principal { roles: vec!["viewer".into()], ..Default::default() }).unwrap();
    /// assert!(engine.is_allowed(&p, "read", "device", None, None));
    /// assert!(!engine.is_allowed(&p, "update", "device", None, None));
    /// ```
    pub fn is_allowed(
        &self,
        prepared: &PreparedPrincipal,
        action: &str,
        kind: &str,
        id: Option<&str>,
        owner: Option<&str>,
    ) -> bool {
        self.is_allowed_of(prepared, action, &ResourceRef::parts(kind, id, owner))
    }

    /// [`Engine::is_allowed`] for a whole [`Resource`], its `owners` list
    /// included: the yes/no of [`Engine::authorize_prepared`], without a
    /// [`Decision`].
    ///
    /// ```
    /// let engine = tessera::Engine::from_json(r#"{"version": 1,
    ///     "grants": [{"principal": "u1", "permissions": ["update_own_device"]}]}"#).unwrap();
    /// let p = engine.prepare(&tessera::Principal { id: Some("u1".into()), ..Default::default() }).unwrap();
    /// let mut shared = tessera::Resource::new("device").with_id("d1");
    /// shared.owners = vec!["u2".into(), "u1".into()];
    /// assert!(engine.is_allowed_resource(&p, "update", &shared));
    /// shared.owners.pop(); // u2's alone now
    /// assert!(!engine.is_allowed_resource(&p, "update", &shared));
    /// ```
    pub fn is_allowed_resource(
        &self,
        prepared: &PreparedPrincipal,
        action: &str,
        resource: &Resource,
    ) -> bool {
        self.is_allowed_of(prepared, action, &ResourceRef::of(resource))
    }

    #[inline]
    fn is_allowed_of(&self, prepared: &PreparedPrincipal, action: &str, resource: &ResourceRef<'_>) -> bool {
        self.with_resolved(prepared, |policy, resolved| {
            decide::verdict(policy, resolved, &prepared.principal, action, resource).allowed()
        })
        .unwrap_or(false)
    }

    /// What [`Engine::is_allowed`] answers for `action` on `kind`, for every
    /// resource at once (see [`Answers`]). A caller may keep them, keyed by
    /// action and type, while [`generations`] has not moved: the WebAssembly
    /// package answers its hot checks so, without calling into the module.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1,
    ///     "roles": {"user": {"permissions": ["update_own_device", "update_device:d9"]}}})).unwrap();
    /// let alice = tessera::Principal { id: Some("alice".into()), roles: vec!["user".into()], ..Default::default() };
    /// let p = engine.prepare(&alice).unwrap();
    /// let a = engine.answers(&p, "update", "device");
    /// for (id, owner) in [(Some("d1"), Some("alice")), (Some("d1"), Some("bob")), (Some("d9"), Some("bob"))] {
    ///     assert_eq!(a.pick(id, owner, Some("alice")), engine.is_allowed(&p, "update", "device", id, owner));
    /// }
    /// ```
    pub fn answers(&self, prepared: &PreparedPrincipal, action: &str, kind: &str) -> Answers {
        self.with_resolved(prepared, |policy, resolved| {
            decide::answers(policy, resolved, &prepared.principal, action, kind)
        })
        // A principal the replaced policy cannot resolve is refused everything.
        .unwrap_or_else(|_| Answers::refused())
    }

    /// [`Engine::is_allowed`] for many `(action, resource)` requests, all
    /// answered from one policy: a [`Engine::load`] that lands meanwhile
    /// applies to the whole batch or to none of it.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1,
    ///     "roles": {"viewer": {"permissions": ["read_device"]}}})).unwrap();
    /// let p = engine.prepare(&tessera::Principal { roles: vec!["viewer".into()], ..Default::default() }).unwrap();
    /// let d = tessera::Resource::new("device");
    /// assert_eq!(engine.is_allowed_batch(&p, [("read", &d), ("update", &d)]), vec![true, false]);
    /// ```
    pub fn is_allowed_batch<'r>(
        &self,
        prepared: &PreparedPrincipal,
        requests: impl IntoIterator<Item = (&'r str, &'r Resource)>,
    ) -> Vec<bool> {
        let requests: Vec<(&str, &Resource)> = requests.into_iter().collect();
        self.with_resolved(prepared, |policy, resolved| {
            requests
                .iter()
                .map(|&(action, r)| {
                    decide::verdict(policy, resolved, &prepared.principal, action, &ResourceRef::of(r))
                        .allowed()
                })
                .collect()
        })
        // A principal the replaced policy cannot resolve is refused everything.
        .unwrap_or_else(|_| vec![false; requests.len()])
    }

    fn authorize_parts_of(
        &self,
        prepared: &PreparedPrincipal,
        action: &str,
        resource: &ResourceRef<'_>,
    ) -> Decision {
        self.with_resolved(prepared, |policy, resolved| {
            decide::decide_ref(policy, resolved, &prepared.principal, action, resource)
        })
        .unwrap_or_else(|e| Decision::invalid(e.message))
    }

    /// Runs `f` with the policy in force and the principal resolved against it:
    /// the prepared resolution when the policy is the one it was prepared for,
    /// else a fresh one (the policy was replaced since `prepare`).
    fn with_resolved<T>(
        &self,
        prepared: &PreparedPrincipal,
        f: impl FnOnce(&CompiledPolicy, &Resolved) -> T,
    ) -> Result<T> {
        if self.generation.load(Ordering::Acquire) == prepared.generation {
            return Ok(f(&prepared.policy, &prepared.resolved));
        }
        let policy = self.policy.load();
        if Arc::ptr_eq(&policy, &prepared.policy) {
            return Ok(f(&policy, &prepared.resolved));
        }
        let resolved = Resolved::new(&policy, &prepared.principal)?;
        Ok(f(&policy, &resolved))
    }

    /// The decision plus effective roles, unknown roles, every matching rule
    /// and, for a denied request, what would allow it (SPEC §9; the same
    /// suggestions as [`Engine::suggest`]). Denied requests cost more than
    /// allowed ones: each suggestion is checked by deciding again.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {
    ///     "user": {"permissions": ["read_own_device"]}}})).unwrap();
    /// let alice = tessera::Principal { id: Some("alice".into()), roles: vec!["user".into()], ..Default::default() };
    /// let theirs = tessera::Resource::new("device").with_id("d2").with_owner("bob");
    /// let x = engine.explain(&alice, "read", &theirs).unwrap();
    /// assert!(!x.decision.allowed);
    /// assert_eq!(serde_json::to_value(&x.suggestions[0].edits).unwrap(),
    ///     json!([{"change": "add_label", "role": "user", "label": "read_device:d2"}]));
    /// ```
    pub fn explain(&self, principal: &Principal, action: &str, resource: &Resource) -> Result<Explanation> {
        let policy = self.policy.load();
        let resolved = Resolved::new(&policy, principal)?;
        let mut explanation = decide::explain(&policy, &resolved, principal, action, resource);
        explanation.suggestions =
            crate::analysis::suggestions(&policy, principal, action, resource, &explanation);
        Ok(explanation)
    }

    /// The actions `principal` may take on `resource`, in the policy's order.
    pub fn capabilities(&self, principal: &Principal, resource: &Resource) -> Result<Vec<String>> {
        let policy = self.policy.load();
        let resolved = Resolved::new(&policy, principal)?;
        Ok(decide::capabilities(&policy, &resolved, principal, resource))
    }

    /// Every role, group and grant that would allow `action` on `resource`
    /// (SPEC §9); see [`crate::analysis::WhoCan`]. An unknown action or type
    /// is an `invalid_request` error.
    pub fn who_can(&self, action: &str, resource: &Resource) -> Result<crate::analysis::WhoCan> {
        crate::analysis::who_can(&self.policy.load(), action, resource)
    }

    /// The effective permission table of a principal or a role (SPEC §9).
    pub fn permissions(&self, subject: &crate::analysis::Subject) -> Result<crate::analysis::Permissions> {
        crate::analysis::permissions(&self.policy.load(), subject)
    }

    /// What differs between the policy in force (A) and `other` (B) (SPEC §9);
    /// `other` failing to load is an error with path `policy_b`.
    pub fn diff(&self, other: &Value) -> Result<crate::analysis::Diff> {
        let b = CompiledPolicy::compile(other).map_err(|e| crate::error::Error {
            message: format!("policy_b: {}", e.message),
            ..e.with_path("policy_b")
        })?;
        Ok(crate::analysis::diff_policies(&self.policy.load(), &b))
    }

    /// The smallest changes that would allow a denied request, each verified
    /// by deciding again (SPEC §9); see [`crate::analysis::Suggestions`].
    pub fn suggest(
        &self,
        principal: &Principal,
        action: &str,
        resource: &Resource,
    ) -> Result<crate::analysis::Suggestions> {
        crate::analysis::suggest(&self.policy.load(), principal, action, resource)
    }

    /// Roles, inheritance, groups and denies, for drawing (SPEC §9).
    pub fn role_graph(&self) -> crate::analysis::RoleGraph {
        crate::analysis::role_graph(&self.policy.load())
    }

    /// Decides a call of an operation from the policy's `operations` table (SPEC §5).
    pub fn authorize_operation(
        &self,
        principal: Option<&Principal>,
        operation: &str,
        context: &OperationContext,
    ) -> Result<Decision> {
        let policy = self.policy.load();
        operations::authorize_operation(&policy, principal, operation, context)
    }
}

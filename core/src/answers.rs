//! [`Answers`]: what a prepared principal's checks answer for one action on
//! one resource type, for every resource at once, and the packed form in
//! which the WebAssembly package caches them in JS.
//!
//! # The contract of a cache outside the core
//!
//! A host that keeps answers instead of calling [`crate::Engine::is_allowed`]
//! each time (the npm package does, in JS) follows these rules, and answers
//! exactly as the core would:
//!
//! 1. Ask [`crate::Engine::answers`] once per (action, resource type) and keep
//!    its [`Answers::packed`] form (or the [`Answers`] themselves).
//! 2. Answer a check on a resource with `id` and one `owner` (no `owners`
//!    list: a resource with several owners goes to the core) as
//!    [`Answers::pick`] does, with `me` the prepared principal's id.
//! 3. Drop every kept answer when the engine's generation
//!    ([`crate::Engine::generation`]) has moved: a new policy was loaded.
//!    (The process-wide [`crate::engine::generations`], which moves whenever
//!    any engine's generation does, is a coarser test that also serves.)

use serde_json::Value;

/// Everything a prepared principal's [`crate::Engine::is_allowed`] answers for
/// one action on one resource type, for every resource at once: the answer
/// depends on the resource only through whether it is type-level (neither id
/// nor owner), whether the principal owns it, and whether rules name its id.
/// See [`crate::Engine::answers`].
///
/// ```
/// let answers = tessera::Answers {
///     type_level: false, owned: true, other: false,
///     by_id: vec![("d9".into(), true, true)],
/// };
/// assert!(answers.pick(Some("d1"), Some("alice"), Some("alice"))); // alice owns it
/// assert!(!answers.pick(Some("d1"), Some("bob"), Some("alice"))); // bob's
/// assert!(answers.pick(Some("d9"), Some("bob"), Some("alice"))); // d9 is named
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// For a resource with neither id nor owner.
    pub type_level: bool,
    /// For a resource the principal owns, whose id no rule names.
    pub owned: bool,
    /// For any other resource whose id no rule names.
    pub other: bool,
    /// The ids that rules name, each with its answers when owned and not.
    pub by_id: Vec<(String, bool, bool)>,
}

impl Answers {
    /// Every answer `false`: an unknown action or type, or a principal the
    /// policy cannot resolve.
    pub(crate) fn refused() -> Answers {
        Answers {
            type_level: false,
            owned: false,
            other: false,
            by_id: Vec::new(),
        }
    }

    /// The answer for a resource with this `id` and `owner`, asked by a
    /// principal whose id is `me`: what `is_allowed` says.
    pub fn pick(&self, id: Option<&str>, owner: Option<&str>, me: Option<&str>) -> bool {
        if id.is_none() && owner.is_none() {
            return self.type_level;
        }
        let owned = me.is_some() && owner == me;
        let (when_owned, otherwise) = id
            .and_then(|id| self.by_id.iter().find(|(named, ..)| named == id))
            .map_or((self.owned, self.other), |&(_, o, n)| (o, n));
        if owned {
            when_owned
        } else {
            otherwise
        }
    }

    /// The packed form of these answers, the contract between the core and
    /// any cache outside it (the npm package decodes it in JS): JSON text
    /// `[bits, [id, bits], ...]`, where the first `bits` holds bit 0
    /// `type_level`, bit 1 `owned` and bit 2 `other`, and each `[id, bits]`
    /// is one entry of `by_id` with bit 1 its answer when owned and bit 2
    /// otherwise (bit 0 unused, 0). Entries keep the order of `by_id`; ids
    /// are unique. Decoding it and answering as [`Answers::pick`] does gives
    /// exactly `pick`'s answers.
    ///
    /// ```
    /// let answers = tessera::Answers {
    ///     type_level: true, owned: true, other: false,
    ///     by_id: vec![("d9".into(), false, true)],
    /// };
    /// assert_eq!(answers.packed(), r#"[3,["d9",4]]"#);
    /// ```
    pub fn packed(&self) -> String {
        let bits = |type_level: bool, owned: bool, other: bool| {
            u8::from(type_level) | u8::from(owned) << 1 | u8::from(other) << 2
        };
        let mut packed = Vec::with_capacity(1 + self.by_id.len());
        packed.push(Value::from(bits(self.type_level, self.owned, self.other)));
        for (id, owned, other) in &self.by_id {
            packed.push(Value::from(vec![
                Value::from(id.as_str()),
                Value::from(bits(false, *owned, *other)),
            ]));
        }
        Value::Array(packed).to_string()
    }
}

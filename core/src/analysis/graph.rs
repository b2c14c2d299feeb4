//! The role graph, for drawing: each role with what it inherits, its allows
//! and its denies; each group with the roles it maps to.

use super::index::Index;
use crate::policy::CompiledPolicy;
use serde::Serialize;

/// One role of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleNode {
    /// The role's name.
    pub name: String,
    /// The roles it inherits, as written.
    pub inherits: Vec<String>,
    /// Its allow labels, as written.
    pub allows: Vec<String>,
    /// Its deny labels, as written.
    pub denies: Vec<String>,
}

/// One group of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupNode {
    /// The group's name.
    pub name: String,
    /// The roles it maps to.
    pub roles: Vec<String>,
}

/// Roles and groups in document order.
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1,
///     "roles": {"user": {}, "admin": {"inherits": ["user"], "permissions": ["admin_device", "!delete_token"]}},
///     "groups": {"administrators": ["admin"]}})).unwrap();
/// let g = engine.role_graph();
/// assert_eq!(g.roles[1].inherits, ["user"]);
/// assert_eq!(g.roles[1].denies, ["!delete_token"]);
/// assert_eq!(g.groups[0].roles, ["admin"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleGraph {
    /// Every role.
    pub roles: Vec<RoleNode>,
    /// Every group.
    pub groups: Vec<GroupNode>,
}

pub(crate) fn role_graph(policy: &CompiledPolicy) -> RoleGraph {
    let index = Index::new(policy);
    let name = |r: &usize| index.roles[*r].name.to_string();
    RoleGraph {
        roles: index
            .roles
            .iter()
            .map(|r| RoleNode {
                name: r.name.to_string(),
                inherits: r.parents.iter().map(name).collect(),
                allows: r
                    .facts
                    .iter()
                    .filter(|f| !f.deny)
                    .map(|f| f.text.to_string())
                    .collect(),
                denies: r
                    .facts
                    .iter()
                    .filter(|f| f.deny)
                    .map(|f| f.text.to_string())
                    .collect(),
            })
            .collect(),
        groups: index
            .groups
            .iter()
            .map(|(g, roles)| GroupNode {
                name: g.to_string(),
                roles: roles.iter().map(name).collect(),
            })
            .collect(),
    }
}

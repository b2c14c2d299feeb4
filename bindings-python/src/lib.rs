//! Binding crate; see the README.

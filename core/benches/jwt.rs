//! Token verification benchmarks (filled in below).
fn main() {}

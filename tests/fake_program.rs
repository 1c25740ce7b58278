//! The fake program the executor tests drive (built as an example, see Cargo.toml).
fn main() {}

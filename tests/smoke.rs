//! The `smoke` test target, run without the libtest harness.
fn main() {}

//! The `smoke-runner` binary: parse, run, map to an exit code.

fn main() {}

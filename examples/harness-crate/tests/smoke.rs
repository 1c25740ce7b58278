//! `cargo test --test smoke`: tests/suites/*.toml run against the `greet` binary.

fn main() {
    smoke_runner::Harness::new()
        .suites("tests/suites")
        .fixtures("tests/fixtures")
        .command(env!("CARGO_BIN_EXE_greet"))
        .run_main()
}

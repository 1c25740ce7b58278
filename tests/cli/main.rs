//! Integration tests of the `smoke-runner` binary.

//! The harness (`smoke_runner::Harness`, used by `tests/smoke.rs`) driven the way
//! `cargo nextest` drives a test binary: list with `--list --format terse`, then one process
//! per test with `--exact NAME --nocapture`. Every test must pass alone, its suite's earlier
//! steps running first as setup.

use std::path::PathBuf;
use std::process::Command;

/// This repository's `smoke` test binary, built if needed and found through cargo.
pub fn smoke_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "test",
            "--test",
            "smoke",
            "--no-run",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo test --no-run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("\"name\":\"smoke\"") && line.contains("\"test\""))
        .find_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            value["executable"].as_str().map(PathBuf::from)
        })
        .expect("cargo names the smoke test binary")
}

/// The binary as nextest runs it: from the crate root, with `CARGO_MANIFEST_DIR` set and a
/// scratch `TMPDIR`.
pub fn nextest_style(
    binary: &PathBuf,
    tmp: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(binary)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"))
        .env("NEXTEST", "1")
        .env("TMPDIR", tmp)
        .env("PLANDEX_ENV_FILE", "/dev/null")
        .env_remove("PLANDEX_CMD")
        .env_remove("PLANDEX_TIMEOUT")
        .output()
        .expect("run the smoke binary")
}

#[test]
fn every_test_passes_alone_in_its_own_process_as_under_nextest() {
    let binary = smoke_binary();
    let tmp = tempfile::tempdir().unwrap();
    let list = nextest_style(&binary, tmp.path(), &["--list", "--format", "terse"]);
    assert_eq!(list.status.code(), Some(0));
    let listed = String::from_utf8(list.stdout).unwrap();
    let names: Vec<&str> = listed
        .lines()
        .map(|line| line.strip_suffix(": test").expect("`NAME: test` lines"))
        .collect();
    assert!(names.len() >= 20, "{listed}");
    let ignored = nextest_style(
        &binary,
        tmp.path(),
        &["--list", "--format", "terse", "--ignored"],
    );
    assert_eq!(ignored.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&ignored.stdout)
            .lines()
            .all(|line| line.ends_with(": test")),
        "{}",
        String::from_utf8_lossy(&ignored.stdout)
    );

    // The sequential suites, each step in its own process; two at a time, as on a small machine.
    let chosen: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| name.starts_with("git::") || name.starts_with("coreutils::"))
        .collect();
    assert!(chosen.len() >= 10, "{chosen:?}");
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(name) =
                    chosen.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let output =
                        nextest_style(&binary, tmp.path(), &["--exact", name, "--nocapture"]);
                    let out = String::from_utf8_lossy(&output.stdout);
                    let passed = output.status.code() == Some(0)
                        && out.contains(&format!("test {name} "))
                        && out.contains("test result: ok. 1 passed; 0 failed");
                    if !passed {
                        failures.lock().unwrap().push(format!(
                            "{name}: {:?}\n{out}{}",
                            output.status.code(),
                            String::from_utf8_lossy(&output.stderr)
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Passing runs leave no test dir behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

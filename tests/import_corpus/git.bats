#!/usr/bin/env bats
# git, checked the bats way: `run` a command, then look at `$status` and `$output`.
# Run from this folder: bats git.bats

@test "git prints its version" {
  run git --version
  [ "$status" -eq 0 ]
  [[ "$output" == *"git version"* ]]
}

@test "an unknown subcommand is refused" {
  run git frobnicate
  [ "$status" -eq 1 ]
  [[ "$output" == *"is not a git command"* ]]
}

@test "hash-object names the empty blob" {
  run git hash-object /dev/null
  [ "$status" -eq 0 ]
  [ "$output" = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" ]
}

@test "config reads a value from a file" {
  run git config --file "$BATS_TEST_DIRNAME/data/sample.gitconfig" user.name
  [ "$status" -eq 0 ]
  [ "$output" = "Ada Lovelace" ]
  run git config --file "$BATS_TEST_DIRNAME/data/sample.gitconfig" user.nickname
  [ "$status" -eq 1 ]
}

@test "a new repository has no commit yet" {
  cd "$BATS_TEST_TMPDIR"
  git init -q repo
  run git -C repo rev-parse --verify -q HEAD
  [ "$status" -ne 0 ]
  [ -z "$output" ]
}

@test "check-ref-format refuses a double dot" {
  run git check-ref-format "refs/heads/a..b"
  [ "$status" -eq 1 ]
}

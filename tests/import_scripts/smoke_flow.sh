#!/bin/bash
# The Plandex smoke flow as a shell script in the style of Plandex's test/smoke_test.sh:
# one function per area, called in order from main. Written for the import tests.
set -e
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$SCRIPT_DIR/test_utils.sh"

setup() {
    setup_test_dir "smoke-flow"
    cat > main.go <<'EOF'
package main

func main() {
}
EOF
    echo "# Smoke flow" > README.md
    mkdir -p cmd
    success "Test project ready"
}

test_plans() {
    log "=== Testing Plan Management ==="
    run_plandex_cmd "new -n smoke-flow-plan" "Create named plan"
    check_plandex_contains "current" "smoke-flow-plan" "Check current plan"
    check_plandex_contains "plans" "smoke-flow-plan" "List plans"
}

test_context() {
    log "=== Testing Context Management ==="
    run_plandex_cmd "load main.go" "Load single file"
    run_plandex_cmd "load -n 'keep it short'" "Load note"
    run_plandex_cmd "load . --tree" "Load tree"
    check_plandex_contains "ls" "main.go" "List context"
    check_plandex_contains "show main.go" "package main" "Show context file"
}

test_tasks() {
    log "=== Testing Task Execution ==="
    run_plandex_cmd "set-config skip-changes-menu true" "Skip changes menu"
    run_plandex_cmd_with_timeout "tell 'add a hello world function'" "Execute tell command"
    check_plandex_contains "diff --git" "+func" "Check diff"
    run_plandex_cmd "apply --auto-exec --debug 2 --skip-commit" "Apply changes"
    if ! grep -q "func helloWorld" main.go; then
        error "main.go was not changed"
    fi
    run_plandex_cmd_with_timeout "chat 'what changed?'" "Chat"
}

test_branches() {
    log "=== Testing Branches ==="
    run_plandex_cmd "checkout feature-branch -y" "Create branch"
    run_plandex_cmd_with_timeout "tell 'add a goodbye function'" "Tell on branch"
    run_plandex_cmd "apply --auto-exec --debug 2 --skip-commit" "Apply on branch"
    check_plandex_contains "branches" "feature-branch" "List branches"
    run_plandex_cmd "checkout main" "Back to main"
}

test_archive() {
    log "=== Testing Archive ==="
    run_plandex_cmd "archive smoke-flow-plan" "Archive plan"
    check_plandex_contains "plans --archived" "smoke-flow-plan" "List archived"
    run_plandex_cmd "unarchive smoke-flow-plan" "Unarchive plan"
    run_plandex_cmd "new -n second-flow-plan --cheap" "Second plan"
    run_plandex_cmd "cd smoke-flow-plan" "Switch back"
    check_plandex_contains "current" "smoke-flow-plan" "Current plan is back"
}

main() {
    log "=== Plandex Smoke Test Started at $(date) ==="
    setup
    trap cleanup_test_dir EXIT
    test_plans
    test_context
    test_tasks
    test_branches
    test_archive
    success "All smoke checks passed"
}

main "$@"

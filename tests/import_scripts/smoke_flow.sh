#!/bin/bash
# The Plandex smoke flow as a shell script in the style of Plandex's test/smoke_test.sh: a
# setup function, then one linear main function with a section per area. Written for the
# import tests.
set -e
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${SCRIPT_DIR}/test_utils.sh"

# Requests used by the flow
PROMPT_HELLO="add a hello world function to main.go"
PROMPT_TEST="add a test for the hello world function"
PROMPT_QUESTION="what does main.go do now?"
PROMPT_GOODBYE="add a goodbye function to main.go"

setup() {
    setup_test_dir "smoke-flow"
    mkdir -p cmd
    echo "package main" > main.go
    echo "func main() {}" >> main.go
    cat > README.md << EOF
# Flow project
Used by the smoke flow.
EOF
}

trap cleanup_test_dir EXIT

main() {
    log "=== Smoke flow started at $(date) ==="
    setup

    log "\n=== Testing Plan Management ==="
    run_plandex_cmd "new -n smoke-flow-plan" "Create named plan"
    run_plandex_cmd_output "current"
    check_plandex_contains "plans" "smoke-flow-plan" "List plans"

    log "\n=== Testing Context Management ==="
    run_plandex_cmd "load main.go" "Load single file"
    run_plandex_cmd "load -n 'keep it short'" "Load note"
    run_plandex_cmd "load . --tree" "Load tree"
    check_plandex_contains "ls" "main.go" "List context"
    run_plandex_cmd_output "show main.go"

    log "\n=== Testing Task Execution ==="
    run_plandex_cmd "set-config skip-changes-menu true" "Skip changes menu"
    run_plandex_cmd "tell '$PROMPT_HELLO'" "Execute tell command"
    check_plandex_contains "diff --git" "+func" "Check diff"
    run_plandex_cmd "apply --auto-exec --debug 2 --skip-commit" "Apply changes"
    check_file "main.go"
    if ! grep -q "func helloWorld" main.go; then
        error "main.go was not changed"
    fi

    log "\n=== Testing Chat ==="
    run_plandex_cmd_output "chat '$PROMPT_QUESTION'"

    log "\n=== Testing Continue and Build ==="
    run_plandex_cmd "tell '$PROMPT_TEST' --no-build" "Tell without building"
    run_plandex_cmd "build" "Build pending changes"
    run_plandex_cmd "apply --auto-exec --debug 2 --skip-commit" "Apply the test"

    log "\n=== Testing Branches ==="
    run_plandex_cmd "checkout feature-branch -y" "Create branch"
    run_plandex_cmd_with_timeout "tell '$PROMPT_GOODBYE'" "Tell on branch"
    run_plandex_cmd "apply --auto-exec --debug 2 --skip-commit" "Apply on branch"
    check_plandex_contains "branches" "feature-branch" "List branches"
    run_plandex_cmd "checkout main" "Back to main"

    log "\n=== Testing Version Control ==="
    run_plandex_cmd_output "convo"
    REWIND_STEPS=2
    info "Will rewind $REWIND_STEPS steps"
    run_plandex_cmd "rewind $REWIND_STEPS --revert" "Rewind $REWIND_STEPS steps"

    log "\n=== Testing Context Updates ==="
    echo "// changed outside the tool" >> main.go
    run_plandex_cmd "update" "Update context"

    log "\n=== Testing Archive ==="
    run_plandex_cmd "archive smoke-flow-plan" "Archive plan"
    check_plandex_contains "plans --archived" "smoke-flow-plan" "List archived"
    run_plandex_cmd "unarchive smoke-flow-plan" "Unarchive plan"
    run_plandex_cmd "new -n second-flow-plan --cheap" "Second plan"
    run_plandex_cmd "cd smoke-flow-plan" "Switch back"
    check_plandex_contains "current" "smoke-flow-plan" "Current plan is back"

    log "\n=== Smoke flow completed at $(date) ==="
}

main

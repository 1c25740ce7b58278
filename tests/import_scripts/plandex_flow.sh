#!/usr/bin/env bash
# A Plandex flow written with the test_utils.sh helpers, for the import tests: every helper
# and every shell construct `smoke-runner import` translates appears at least once.
set -e
source "$(dirname "$0")/test_utils.sh"

PLANDEX_CMD="${PLANDEX_CMD:-plandex-dev}"
PLANDEX_TIMEOUT=${PLANDEX_TIMEOUT:-300}
PLANDEX_ENV_FILE=${PLANDEX_ENV_FILE:-../.env.client-keys}

# Prompts used below
PROMPT_HELLO="add a hello world function to main.go"
PLAN_NAME=flow-plan
alias pdxd="$PLANDEX_CMD"

# Writes the Go project the flow works on
make_project() {
    cat > main.go <<'EOF'
package main

func main() {
}
EOF
    mkdir -p cmd
}

# A check of our own, with arguments
has_text() {
    grep -q "$1" "$2" || error "$2 does not contain $1"
}

setup() {
    setup_test_dir "imported-flow"
    make_project
    echo "# Flow project" > README.md
}

setup
trap cleanup_test_dir EXIT

log "=== Testing Plan Management ==="
run_plandex_cmd "new -n $PLAN_NAME" "Create the plan"
check_plandex_contains "current" "$PLAN_NAME" "The plan is current"
pdxd plans
PLAN_LIST=$(run_plandex_cmd_output "plans")
info "plans listed"

log "=== Testing Context ==="
run_plandex_cmd_with_timeout "load main.go" "Load main.go" 30
run_plandex_cmd_with_timeout "load -n 'prefer small functions'" "Load a note" "$PLANDEX_TIMEOUT"
check_file main.go

log "=== Testing Changes ==="
run_plandex_cmd "tell \"$PROMPT_HELLO\"" "Ask for a hello function"
run_cmd "$PLANDEX_CMD diff --git" "Show the diff"
run_cmd_with_timeout "$PLANDEX_CMD apply --auto-exec --skip-commit" "Apply the change" 60
run_cmd "grep -c func main.go" "Count functions"
has_text helloWorld main.go
if ! grep -q "func main" main.go; then
    error "main.go lost its main function"
fi
for f in main.go README.md; do
    check_file "$f"
done
FUNC_COUNT=$(grep -c '^func ' main.go)
[ "$FUNC_COUNT" -ge 2 ] || error "expected at least two functions"

log "=== Testing Failures ==="
expect_plandex_failure "cd no-such-plan" "Unknown plan fails"
expect_failure "$PLANDEX_CMD apply" "Nothing to apply fails"
PREV_KEY=$OPENROUTER_API_KEY
unset OPENROUTER_API_KEY OPENAI_API_KEY
expect_plandex_failure "tell 'add a goodbye function'" "Tell without a key fails"
export OPENROUTER_API_KEY=$PREV_KEY
run_plandex_cmd "tell 'add a goodbye function'" "Tell with the key works"
$PLANDEX_CMD archive no-such-plan || true

log "=== Testing Notes ==="
cat > notes.txt <<EOF
plan: $PLAN_NAME
EOF
cd "$TEST_DIR"
run_cmd "echo '// edited outside' >> main.go" "Edit main.go outside"
export FLOW_STAGE=cleanup

log "=== Testing Cleanup ==="
echo y | run_plandex_cmd "dp $PLAN_NAME" "Delete the plan"
pdxd new -n throwaway
pdxd dp throwaway <<< y
success "All flow checks passed"
exit 0

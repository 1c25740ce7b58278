#!/bin/bash
# Custom models in the style of Plandex's test/test_custom_models.sh: write a models file,
# import it, use its pack, and check the API key is needed. Written for the import tests.
set -e
source "$(dirname "$0")/test_utils.sh"

PACK_NAME="flow-compact"

setup_test_dir "custom-models-flow"
trap cleanup_test_dir EXIT

log "=== Testing Custom Models ==="
cat > custom-models.json <<'EOF'
{
  "models": [
    { "modelId": "flow/compact", "provider": "openrouter", "maxTokens": 32000 }
  ],
  "modelPacks": [
    { "name": "flow-compact", "planner": "flow/compact", "coder": "flow/compact", "builder": "flow/compact" }
  ]
}
EOF
check_file custom-models.json
run_plandex_cmd "new -n custom-flow-plan" "Create plan"
run_plandex_cmd "models" "Show models"
run_plandex_cmd "models custom --file custom-models.json --save" "Import custom models"
check_plandex_contains "models available --custom" "flow/compact" "Custom model listed"
run_plandex_cmd "set-model $PACK_NAME" "Use the custom pack"
check_plandex_contains "models" "$PACK_NAME" "Pack in use"

log "=== Testing API Key ==="
SAVED_KEY=$OPENROUTER_API_KEY
unset OPENROUTER_API_KEY OPENAI_API_KEY
expect_plandex_failure "tell 'add a hello world function'" "Tell fails without the key"
export OPENROUTER_API_KEY=$SAVED_KEY
run_plandex_cmd_with_timeout "tell 'add a hello world function'" "Tell works with the key" "$PLANDEX_TIMEOUT"
success "Custom models checks passed"

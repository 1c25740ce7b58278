#!/bin/bash
# Custom models in the style of Plandex's test/test_custom_models.sh: a function writes a
# models file, main imports it, uses its pack, and checks the API key is needed. Written for
# the import tests.
set -e
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${SCRIPT_DIR}/test_utils.sh"

setup() {
    setup_test_dir "custom-models-flow"
    echo "package main" > main.go
}

trap cleanup_test_dir EXIT

write_models_file() {
    cat > custom-models.json << 'EOF'
{
  "models": [
    {
      "modelId": "flow-compact",
      "publisher": "flow",
      "maxTokens": 32000,
      "providers": [{ "provider": "openrouter", "modelName": "qwen/qwen-2.5-coder-32b-instruct" }]
    }
  ],
  "modelPacks": [
    {
      "name": "flow-pack",
      "planner": { "modelId": "flow-compact" },
      "coder": "flow-compact",
      "builder": "flow-compact"
    }
  ]
}
EOF
}

main() {
    log "=== Custom models flow started at $(date) ==="
    setup

    echo "Using OpenRouter key: $OPENROUTER_API_KEY"

    run_plandex_cmd "new -n custom-flow-plan" "Create plan"
    run_plandex_cmd "models" "Show models"

    log "\n=== Testing Custom Models ==="
    write_models_file
    check_file custom-models.json
    run_plandex_cmd "models custom --file custom-models.json --save" "Import custom models"
    check_plandex_contains "models available --custom" "flow-compact" "Custom model listed"
    run_plandex_cmd "set-model flow-pack" "Use the custom pack"

    log "\n=== Testing API Key ==="
    PREV_KEY=$OPENROUTER_API_KEY
    unset OPENROUTER_API_KEY OPENAI_API_KEY
    expect_plandex_failure "tell 'write a hello world program'" "Tell fails without the key"
    export OPENROUTER_API_KEY=$PREV_KEY
    run_plandex_cmd "tell 'write a hello world program'" "Tell works with the key"

    log "\n=== Custom models flow completed at $(date) ==="
}

main

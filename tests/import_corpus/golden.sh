#!/usr/bin/env bash
# calc's output, compared with golden text written in the script.
. ./lib/golden.sh

calc=${1:-./calc}

run_test "$calc" table 3
check_output <<'EOF'
1 x 2 = 2
2 x 2 = 4
3 x 2 = 6
EOF

run_test "$calc" greet Grace
check_output <<'EOF'
hello, Grace
EOF

run_test "$calc" version
check_output <<'EOF'
calc 1.4.0
EOF

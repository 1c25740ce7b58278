#!/usr/bin/env bash
# head's output, compared with golden text written in the script.
. ./lib/golden.sh

run_test head -n 3 data/people.csv
check_output <<'EOF'
Ada,1815
Grace,1906
Lin,1959
EOF

run_test head -n 1 data/names.expected
check_output <<'EOF'
Ada
EOF

run_test head -c 9 data/people.csv
check_output <<'EOF'
Ada,1815
EOF

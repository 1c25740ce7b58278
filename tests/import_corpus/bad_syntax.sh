#!/usr/bin/env bash
# Never finished: the `if` has no `fi`.
if command -v git >/dev/null; then
    git version

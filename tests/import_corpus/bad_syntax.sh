#!/usr/bin/env bash
# Never finished: the `if` has no `fi`.
if [ -x ./calc ]; then
    ./calc version

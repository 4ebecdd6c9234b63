#!/bin/sh
# Copyright 2026 The handoff Authors.
#
# Runs a command limited to one CPU: the first this shell may use, which need
# not be CPU 0 inside a container's cpuset.
#
# Usage: on_one_cpu.sh COMMAND [ARGS...]
set -eu
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
exec taskset -c "$cpu" "$@"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs one e2e case inside L1 with the helpers of lib.sh. l1-init.sh starts
# it as the leader of its own process group; whatever way the case ends
# (pass, fail, a signal), the lkvm processes of that group, the guests it
# started, are killed, so that one failure stays one failure.
. /host/lib.sh
trap 'kill_guests' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
. "/host/cases/$1.sh"

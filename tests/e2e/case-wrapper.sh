#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs one e2e case inside L1 with the helpers of lib.sh.
. /host/lib.sh
. "/host/cases/$1.sh"

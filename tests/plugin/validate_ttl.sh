#!/bin/sh
# SPDX-License-Identifier: MIT
# Validates the built bundle's ttl against the LV2 spec files with sord_validate; passes only
# when its "Found N errors" line says 0 (sord_validate can exit 0 while printing errors).
bundle=$1
command -v sord_validate >/dev/null || { echo "sord_validate not found (package sordi)"; exit 1; }
specs=$(ls /usr/lib/lv2/*.lv2/*.ttl 2>/dev/null)
out=$(sord_validate $specs "$bundle"/*.ttl 2>&1)
echo "$out" | grep -v "^$" | tail -20
line=$(echo "$out" | grep -o "Found [0-9]* errors")
echo "sord_validate: $line"
case "$line" in
  "Found 0 errors") echo "1 passed, 0 failed"; exit 0 ;;
  *) echo "0 passed, 1 failed"; exit 1 ;;
esac

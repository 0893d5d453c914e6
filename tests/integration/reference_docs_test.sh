#!/usr/bin/env bash
# docs/reference.md is what `sluice plugins --markdown` generates from the
# schema tables of the built plugins.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
"$SLUICE_BIN" plugins --markdown >reference.md
diff -u "$SLUICE_SOURCE_DIR/docs/reference.md" reference.md >diff.txt ||
  fail "docs/reference.md is out of date; regenerate it with
  $SLUICE_BIN plugins --markdown > docs/reference.md
$(cat diff.txt)"
echo "ok: docs/reference.md is up to date"

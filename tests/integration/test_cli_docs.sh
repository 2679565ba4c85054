#!/usr/bin/env bash
# test_cli_docs.sh: docs/cli.md is generated from the CLI's command table
# (`kizuna help --markdown`); fail when someone changes one without the other.
# To refresh: kizuna help --markdown > docs/cli.md
set -euo pipefail
: "${KIZUNA:?set KIZUNA to the kizuna binary}"
: "${KZ_SOURCE_DIR:?set KZ_SOURCE_DIR to the source tree}"
if ! diff -u "$KZ_SOURCE_DIR/docs/cli.md" <("$KIZUNA" help --markdown); then
    echo "FAIL: docs/cli.md is out of date; run: kizuna help --markdown > docs/cli.md" >&2
    exit 1
fi
# every command in the table has a section, and `kizuna help` lists the same commands
for name in $("$KIZUNA" help | sed -n 's/^  \([a-z]*\( [a-z]*\)\?\)  .*/\1/p' | sed 's/ *$//' | tr ' ' '_'); do
    grep -q "^### kizuna ${name//_/ }\$" "$KZ_SOURCE_DIR/docs/cli.md" || { echo "FAIL: no section for '${name//_/ }'" >&2; exit 1; }
done
echo "docs/cli.md matches the command table"

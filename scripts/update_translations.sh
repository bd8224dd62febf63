#!/usr/bin/env bash
# Refresh the translation source from the code, then compile it for the app.
#
#   bash scripts/update_translations.sh
#
# lupdate adds every new tr() text to lenet_gui/translations/*.ts (to the English one only the
# texts with a count, %n) as "unfinished" and drops the texts the code no longer has; translate
# the new ones (Qt Linguist: .venv/bin/pyside6-linguist, or by hand in the XML), then run this
# again so that lrelease writes the .qm the app loads.
# tests/ui/test_translation.py fails while a text has no translation or the .qm is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV_BIN:-.venv/bin}"
SOURCES=$(find lenet_gui -name '*.py' -not -path '*/core/*' | sort)
for ts in lenet_gui/translations/*.ts; do
    # The English catalogue holds only the texts with a count (%n): the source texts are
    # English already, but "%n epoch(s)" needs its singular and plural written out.
    only_plurals=()
    [[ "$ts" == *_en.ts ]] && only_plurals=(-pluralonly)
    # No line numbers: a change elsewhere in a file does not rewrite every entry below it.
    "$BIN/pyside6-lupdate" $SOURCES "${only_plurals[@]}" -no-obsolete -locations none -ts "$ts"
    "$BIN/pyside6-lrelease" "$ts" -qm "${ts%.ts}.qm"
done

#!/bin/sh
# make_seeds.sh <source-dir> <seed-dir>: assemble the fuzz seed corpus (see docs/fuzzing.md).
#
# Seeds use the target's input format: meltano.yml, then other files of the project each after a
# `#@file <path>` line. Sources: the examples of docs/diagnostics.md, the raw-string projects of
# the tests, examples/ when present, and ../shared/corpus/meltano-real when present (each project
# root with the files under its directory). Nothing here is committed: the seed directory is
# rebuilt from scratch each time.
set -eu
src=$1
out=$2
rm -rf "$out"
mkdir -p "$out"

# docs/diagnostics.md: every "`<path>`:" line followed by a fenced block is a file of the example
# of the current section; meltano.yml first.
awk -v out="$out" '
    function flush(   name) {
        if (section == "" || main == "") return
        name = out "/docs-" section ".yml"
        printf "%s", main > name
        if (others != "") printf "%s", others > name
        close(name)
    }
    /^## / { flush(); section = $2; main = ""; others = ""; path = ""; next }
    /^`[^`]+`:$/ { path = substr($0, 2, length($0) - 3); next }
    /^```/ {
        if (inblock) { inblock = 0; path = ""; next }
        if (path != "") { inblock = 1; if (path != "meltano.yml") others = others "#@file " path "\n" }
        next
    }
    inblock { if (path == "meltano.yml") main = main $0 "\n"; else others = others $0 "\n" }
    END { flush() }
' "$src/docs/diagnostics.md"

# The tests: every raw string literal R"(...)" that looks like a meltano.yml.
n=0
for f in "$src"/tests/support/*.hpp "$src"/tests/unit/meltano_*_test.cpp "$src"/tests/unit/yaml_test.cpp \
         "$src"/tests/e2e/*.cpp; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    awk -v out="$out" -v base="test-$n" '
        {
            line = $0
            while (line != "") {
                if (!inraw) {
                    at = index(line, "R\"(")
                    if (at == 0) break
                    inraw = 1; text = ""; line = substr(line, at + 3)
                } else {
                    at = index(line, ")\"")
                    if (at == 0) { text = text line "\n"; break }
                    text = text substr(line, 1, at - 1); inraw = 0; line = substr(line, at + 2)
                    if (text ~ /(plugins|environments|include_paths|name):/) {
                        count++; name = out "/" base "-" count ".yml"
                        printf "%s", text > name; close(name)
                    }
                }
            }
            if (inraw && line == "") text = text "\n"
        }
    ' "$f"
done

# Project roots found under a directory, each with the other files of its directory tree.
add_projects() {
    prefix=$1
    dir=$2
    [ -d "$dir" ] || return 0
    find "$dir" -type f \( -name meltano.yml -o -name ending-meltano.yml -o -name meltano.template.yml \) |
        sort | while IFS= read -r root; do
        n=$((n + 1))
        seed="$out/$prefix-$n.yml"
        project=$(dirname "$root")
        cat "$root" > "$seed"
        find "$project" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.lock' \) ! -path "$root" |
            sort | while IFS= read -r other; do
            case "$(basename "$other")" in
                meltano.yml|ending-meltano.yml|meltano.template.yml) continue ;;
            esac
            printf '\n#@file %s\n' "${other#"$project"/}" >> "$seed"
            cat "$other" >> "$seed"
        done
    done
}
add_projects example "$src/examples"
add_projects corpus "$src/../shared/corpus/meltano-real"

echo "$(ls "$out" | wc -l) seeds in $out"

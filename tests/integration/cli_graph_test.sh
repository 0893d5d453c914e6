#!/usr/bin/env bash
# `sluice graph`: every shipped pipeline as a Graphviz graph that `dot` renders,
# with each component and edge (the dead-letter one dashed) in the rendering;
# the same graph in Mermaid; bad files and options exit 2.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
command -v dot >/dev/null || fail "Graphviz's dot is not installed (scripts/install-deps.sh installs graphviz)"

# marketplace.yaml holds the steps of the other files in one daemon (the same pipeline names): it is
# a graph of its own.
singles=()
for f in "$SLUICE_SOURCE_DIR"/pipelines/*.yaml; do
  [ "$(basename "$f")" = marketplace.yaml ] || singles+=("$f")
done
"$SLUICE_BIN" graph "${singles[@]}" >shipped.dot 2>err.txt ||
  fail "graph of the shipped pipelines: exit $?; $(cat err.txt)"
dot -Tsvg shipped.dot -o shipped.svg 2>dot-err.txt || fail "dot refused the graph: $(cat dot-err.txt)"
"$SLUICE_BIN" graph "$SLUICE_SOURCE_DIR"/pipelines/marketplace.yaml >market.dot 2>err.txt ||
  fail "graph of the marketplace: exit $?; $(cat err.txt)"
dot -Tsvg market.dot -o market.svg 2>dot-err.txt || fail "dot refused the marketplace's graph: $(cat dot-err.txt)"
for f in "$SLUICE_SOURCE_DIR"/pipelines/*.yaml; do
  svg=shipped.svg
  [ "$(basename "$f")" = marketplace.yaml ] && svg=market.svg
  # Every pipeline of every file is a cluster of the rendering.
  for name in $(/usr/bin/python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["pipelines"]))' "$f"); do
    shown=$(printf '%s' "$name" | sed 's/-/\&#45;/g')  # dot writes - as &#45;
    grep -q ">pipeline $shown<" "$svg" || fail "pipeline $name of $(basename "$f") is not in the rendering"
  done
done
grep -q ">listen: 0.0.0.0:5000<" shipped.svg || fail "the http source's address is not shown"
grep -q ">topic: clicks<" shipped.svg || fail "the kafka sink's topic is not shown"

cat > shapes.yaml <<'YAML'
resources:
  kafka:
    type: kafka_embedded
    topics: [{name: views, partitions: 2}]
pipelines:
  counts:
    source: {type: kafka, brokers: embedded, topics: [views], group: "g \"quoted\""}
    transforms:
      - {type: filter, conditions: [{field: item_id, op: exists}]}
      - {type: aggregate, group_by: [item_id], aggregates: {views: count}}
    sinks:
      - {type: stdout}
      - {type: file, name: archive, path: out/<views>.log}
    dead_letter: {type: file, path: dead.jsonl}
YAML
"$SLUICE_BIN" graph shapes.yaml >shapes.dot 2>err.txt || fail "graph: exit $?; $(cat err.txt)"
dot -Tsvg shapes.dot -o shapes.svg 2>dot-err.txt || fail "dot refused the graph: $(cat dot-err.txt)"
# dot writes each edge's endpoints into its <title>, with - and > escaped.
edge() { grep -q "<title>$1&#45;&gt;$2</title>" shapes.svg || fail "no edge $1 -> $2 in the rendering"; }
edge counts.source.kafka counts.transform.filter
edge counts.transform.filter counts.transform.aggregate
edge counts.transform.aggregate counts.sink.stdout
edge counts.transform.aggregate counts.sink.archive
edge counts.sink.stdout counts.dead_letter.file
edge counts.sink.archive counts.dead_letter.file
[ "$(grep -c 'style=dashed' shapes.dot)" -eq 2 ] || fail "the two dead-letter edges are not dashed"
grep -q "kafka_embedded (resource)" shapes.dot || fail "the resource is not a node"
grep -q 'group: g \\"quoted\\"' shapes.dot || fail "a quote in a label is not escaped for dot"

"$SLUICE_BIN" graph --format mermaid shapes.yaml >shapes.mmd 2>err.txt || fail "mermaid: exit $?; $(cat err.txt)"
head -1 shapes.mmd | grep -qx "flowchart LR" || fail "mermaid output does not start with flowchart LR"
[ "$(grep -c -- ' --> ' shapes.mmd)" -eq 4 ] || fail "mermaid: expected 4 edges, got: $(cat shapes.mmd)"
[ "$(grep -c -- ' -. refused .-> ' shapes.mmd)" -eq 2 ] || fail "mermaid: expected 2 dead-letter edges"
grep -q '#lt;views#gt;' shapes.mmd || fail "mermaid: < and > in a label are not escaped"
grep -q 'n_counts_transform_aggregate --> n_counts_sink_archive' shapes.mmd || fail "mermaid: an edge is missing"

rc=0
"$SLUICE_BIN" graph --format svg shapes.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "dot or mermaid" err.txt || fail "--format svg: exit $rc; $(cat err.txt)"
rc=0
"$SLUICE_BIN" validate --format dot shapes.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "--format with validate: exit $rc, expected 2"
printf 'pipelines:\n  p:\n    source: {type: generate, count: 1\n' >broken.yaml
rc=0
"$SLUICE_BIN" graph broken.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "broken.yaml:" err.txt || fail "a broken file: exit $rc; $(cat err.txt)"
[ -s out.txt ] && fail "a broken file printed a graph"
echo "ok: sluice graph"

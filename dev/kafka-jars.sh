#!/usr/bin/env bash
# Resolves the test broker (Apache Kafka, pinned in tests/kafka/pom.xml) and its runtime
# dependencies from Maven Central into .cache/kafka-jars/ (git-ignored).
#
# The folder holds a stamp with the SHA-256 of tests/kafka/pom.xml: while it matches, this script
# returns at once without starting Maven. Set KAFKA_JARS_DIR to use another folder.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pom="$root/tests/kafka/pom.xml"
jars="${KAFKA_JARS_DIR:-$root/.cache/kafka-jars}"
stamp="$jars/.pom.sha256"

want="$(sha256sum "$pom" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

for tool in mvn java; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "kafka-jars: '$tool' is not on PATH (Java 17+ and Maven 3.8+ are needed)" >&2
        exit 1
    fi
done

parent="$(dirname "$jars")"
mkdir -p "$parent"
# One resolver at a time (parallel test runs share the cache).
exec 9>"$jars.lock"
flock 9
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

staging="$(mktemp -d "$parent/.kafka-jars.XXXXXX")"
log="$parent/kafka-jars.mvn.log"
trap 'rm -rf "$staging"' EXIT

echo "kafka-jars: resolving the test broker's jars with Maven into $jars ..." >&2
start=$SECONDS
if ! mvn -q -B -Dstyle.color=never -f "$pom" "-Dkafka.jars.dir=$staging" \
    dependency:copy-dependencies >"$log" 2>&1; then
    echo "kafka-jars: Maven failed; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
if ! compgen -G "$staging/kafka_2.13-*.jar" >/dev/null; then
    echo "kafka-jars: Maven succeeded but no kafka_2.13 jar was copied; see $log" >&2
    exit 1
fi
echo "$want" >"$staging/.pom.sha256"
rm -rf "$jars"
mv "$staging" "$jars"
trap - EXIT
echo "kafka-jars: $(ls "$jars" | wc -l) jars in $((SECONDS - start)) s" >&2

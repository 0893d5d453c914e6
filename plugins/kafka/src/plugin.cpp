// The Kafka plugin library: source `kafka`, sink `kafka`, resource `kafka_embedded`.
#include <sluice/sdk.hpp>

#include "embedded_cluster.hpp"
#include "kafka_sink.hpp"
#include "kafka_source.hpp"

namespace {

const char* const source_docs = R"(Consumes topics as a member of a consumer group, at-least-once: a message's
offset is stored only when its event, and every earlier event of its partition, has been
acknowledged by every sink (or dead-lettered). Partitions are paused while the pipeline is full.

```yaml
source:
  type: kafka
  brokers: ${KAFKA_BROKERS:-embedded}
  topics: [page-views]
  group: access-logger
```
Metadata: `meta.topic`, `meta.partition`, `meta.offset`, `meta.key`, `meta.header.<name>`, `meta.timestamp`.
See plugins/kafka/README.md.)";

const char* const sink_docs =
    R"(Produces events to Kafka. An event is Ok only once its delivery report says it
is stored (acks=all and idempotence by default); failed deliveries go to the core's retry and
dead-letter policy.

```yaml
sinks:
  - type: kafka
    brokers: embedded
    topic: clicks
    key: "{user_id}"
    headers: {source: "{meta.source}"}
```
See plugins/kafka/README.md.)";

const char* const embedded_docs = R"(An in-process Kafka cluster (librdkafka's mock cluster), shared by every
Kafka plugin of the daemon that says `brokers: embedded`. Its bootstrap address is logged at start
and shown on /status, so kcat can connect. Memory only (about 5 MB per partition), one machine:
for development and tests.

```yaml
resources:
  kafka:
    type: kafka_embedded
    brokers: 1
    topics: [{name: page-views, partitions: 16}]
```)";

}  // namespace

SLUICE_PLUGIN_LIBRARY(
    "kafka",
    sluice::describe<sluice::kafka::KafkaSource>(
        sluice::PluginKind::Source, "kafka", "Kafka consumer group member, at-least-once (commit after ack)",
        source_docs, &sluice::kafka::KafkaSource::schema),
    sluice::describe<sluice::kafka::KafkaSink>(sluice::PluginKind::Sink, "kafka",
                                               "Kafka producer; Ok only on delivery report", sink_docs,
                                               &sluice::kafka::KafkaSink::schema),
    sluice::describe<sluice::kafka::EmbeddedResource>(sluice::PluginKind::Resource, "kafka_embedded",
                                                      "In-process Kafka cluster for development and tests",
                                                      embedded_docs,
                                                      &sluice::kafka::EmbeddedResource::schema))

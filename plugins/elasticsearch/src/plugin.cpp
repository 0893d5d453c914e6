// The `elasticsearch` plugin family: sink `elasticsearch` (a server, or the embedded index).
#include <sluice/sdk.hpp>

#include "es_sink.hpp"

namespace {

const char* const sink_docs = R"(Writes events into Elasticsearch (7.x, 8.x) or OpenSearch (1.x, 2.x) with
the bulk API. An event is Ok only once the server says its item is stored. Items the server cannot
take now (429, 5xx, a node down, a request timed out) are sent again, only those, with exponential
backoff and full jitter, honouring `Retry-After`, for as long as it takes: the pipeline's queues
fill and the source pauses, nothing is dropped. Items it refuses for good (a mapping conflict, a
missing document) go to the dead-letter sink with the server's error type and reason. A 409 on
`create` or with external versioning means the document is already there: delivered.

`hosts: embedded` writes into the embedded search index named `index` instead: an on-disk Xapian
index under the daemon's data directory, shared by every plugin of the daemon that names it, for
one machine and development (no server needed). The same actions (but `script`) with the same
acknowledgements; each batch is committed (fsynced) before it is acknowledged.

```yaml
sinks:
  - type: elasticsearch
    hosts: ${ES_HOSTS:-http://127.0.0.1:9200}
    index: listing_index
    id: "{id}"
    action: upsert
```
Metrics: `sluice_elasticsearch_documents_total{outcome}`, `sluice_elasticsearch_requests_total{status}`,
`sluice_elasticsearch_bulk_seconds`, `sluice_elasticsearch_bytes_sent_total`.
See plugins/elasticsearch/README.md.

```yaml conformance
hosts: http://127.0.0.1:9
index: conformance
id: "{id}"
```)";

}  // namespace

SLUICE_PLUGIN_LIBRARY("elasticsearch",
                      sluice::describe<sluice::elasticsearch::ElasticsearchSink>(
                          sluice::PluginKind::Sink, "elasticsearch",
                          "Bulk writes to Elasticsearch / OpenSearch; Ok per item, retries only "
                          "what was refused",
                          sink_docs, &sluice::elasticsearch::ElasticsearchSink::schema))

// The `http` plugin family: source `http`.
#include <sluice/sdk.hpp>

#include "http_source.hpp"

namespace {

const char* const source_docs = R"(Turns HTTP requests into events. Routes are declared in YAML: method, path
with `{param}` segments, body mode, fields, query parameters and headers to copy into the event, and
the answer. By default a request is answered only once every sink has durably accepted its events
(`answer: ack`): 200 means stored. Errors: 400 (malformed JSON or wrong shape, nothing emitted), 401
(auth), 404, 405 (with Allow), 408 (slow client), 413 (body over `max_body`, checked while reading),
415 (not JSON), 503 with Retry-After (pipeline full, or no acknowledgement within `ack_timeout`).

```yaml
source:
  type: http
  listen: ${INGEST_LISTEN:-0.0.0.0:5000}
  routes:
    - {method: POST, path: /clicks}
    - method: GET
      path: /purchase/{item}
      query: [kind]
      headers: [Host, User-Agent, Accept]
      fields: {event_type: purchase}
      response: "Purchased!\n"
```
Metadata: `meta.topic` (the route's path), `meta.header.<name>` (every request header),
`meta.attr.<param>` (path parameters), `meta.attr.method`, `meta.attr.remote_addr` (client ip:port).
See plugins/http/README.md.

```yaml conformance
listen: 127.0.0.1:0
routes: [{method: POST, path: /conformance}]
```)";

}  // namespace

SLUICE_PLUGIN_LIBRARY("http", sluice::describe<sluice::http_source::HttpSource>(
                                  sluice::PluginKind::Source, "http",
                                  "HTTP ingest: routes from YAML, answer after delivery, limits and auth",
                                  source_docs, &sluice::http_source::HttpSource::schema))

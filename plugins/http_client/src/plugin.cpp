// The `http_client` plugin family: source `http_client`.
#include <sluice/sdk.hpp>

#include "http_client_source.hpp"

namespace {

const char* const source_docs = R"(Reads events from an HTTP server: one long-lived streamed response
(`mode: stream`, e.g. the X v2 filtered stream, or Server-Sent Events), or one request every
`interval` (`mode: poll`, with ETag / If-None-Match). A stream is cut into events by `framing`
(`ndjson`: one per line, `\r\n` or `\n`, blank keep-alive lines ignored; `sse`); a line cut by a
disconnect is never emitted. No byte for `stall_timeout` closes and reconnects. Reconnects by
error class, every number configurable: network errors and stalls linearly (+250 ms up to 16 s),
HTTP errors exponentially (5 s up to 320 s), 420/429 exponentially from 60 s and never sooner than
`Retry-After` / `x-rate-limit-reset`; 401/403 stop the source with the reason on /health. While the
pipeline is full the source stops reading (TCP slows the server down).

```yaml
source:
  type: http_client
  url: ${STREAM_URL:-http://127.0.0.1:8080/stream}   # any NDJSON stream
  stall_timeout: 90s
```
The X v2 filtered stream (`pipelines/tweets.yaml`):
```
source:
  type: http_client
  url: https://api.x.com/2/tweets/search/stream
  query: {tweet.fields: "created_at,author_id,lang"}
  auth: {type: bearer, token_env: TWITTER_BEARER_TOKEN}
```
Metadata: `meta.topic` (the URL's path), `meta.attr.sse_event`, `meta.attr.sse_id` (sse).
See plugins/http_client/README.md.)";

}  // namespace

SLUICE_PLUGIN_LIBRARY("http_client",
                      sluice::describe<sluice::http_client::HttpClientSource>(
                          sluice::PluginKind::Source, "http_client",
                          "HTTP client: long-lived streams (NDJSON, SSE) or polls, reconnected "
                          "by error class",
                          source_docs, &sluice::http_client::HttpClientSource::schema))

// The `srp` plugin family: source `srp`, the search result page.
#include <sluice/sdk.hpp>

#include "srp_source.hpp"

namespace {

const char* const source_docs =
    R"(The search result page (SRP) of seed 000, served on the core's HTTP servers:
pages rendered on the server from templates (a common header with the search box; home with the
newest and hottest listings; results with the query echoed, the total, highlighted titles and
snippets, visits, a sort switch relevant / hot / newest, "page N of M" and results per page; the
item page; no results; errors), the JSON API `/api/search?q=&sort=&page=&size=` on the same code
path, and `/api/item/{id}`. Every byte a user sends is escaped in the page; `from + size` stays
within 10,000 (a deeper page is brought back, with a notice); invalid UTF-8 is replaced. The
index answers on search threads, never on the HTTP event loops; when it fails the page says so
with a 503 and /health names the reason.

Its events are the item page views it serves, `{"user_id": ..., "item_id": ..., "ts": ms}` (the
visitor from `user_header`, else the `user_cookie` the pages set), handed to the pipeline without
making the page wait; when the pipeline is full a view is counted in
`sluice_srp_page_views_total{outcome="dropped"}` and logged.

```yaml
source:
  type: srp
  listen: ${SRP_LISTEN:-0.0.0.0:8080}
  hosts: ${ES_HOSTS:-embedded}
  index: listing_index
```
Metrics: `sluice_srp_responses_total{code}`, `sluice_srp_page_views_total{outcome}`,
`sluice_srp_backend_errors_total`, `sluice_srp_search_seconds`. See plugins/srp/README.md.

```yaml conformance
listen: 127.0.0.1:0
hosts: embedded
index: conformance
```)";

}  // namespace

SLUICE_PLUGIN_LIBRARY("srp",
                      sluice::describe<sluice::srp::SrpSource>(
                          sluice::PluginKind::Source, "srp",
                          "Search result page: server-rendered pages and JSON API over a search index; "
                          "item page views as events",
                          source_docs, &sluice::srp::SrpSource::schema))

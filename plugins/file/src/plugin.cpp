// The file plugin library: sink `file`.
#include <sluice/sdk.hpp>

#include "file_sink.hpp"

namespace {

const char* const sink_docs = R"(Appends one line per event to files named by a template, with buffered
writes (one write(2) per file per batch), an fsync policy, rotation by size or age, and reopen on
SIGHUP (for logrotate). An event is acknowledged only once its line is written as `fsync` promises.

```yaml
sinks:
  - type: file
    path: ${ACCESS_LOG:-./data/access.log}
    format: template
    template: "{user_id}\t{item_id}"
    fsync: batch
    max_size: 100MiB
    max_files: 7
```
See plugins/file/README.md.)";

}  // namespace

SLUICE_PLUGIN_LIBRARY("file",
                      sluice::describe<sluice::file::FileSink>(
                          sluice::PluginKind::Sink, "file",
                          "Line-per-event files (template, columns or JSON lines) with fsync and rotation",
                          sink_docs, &sluice::file::FileSink::schema))

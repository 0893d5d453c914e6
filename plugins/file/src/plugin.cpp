// The file plugin library: source `file` and sink `file`.
#include <sluice/sdk.hpp>

#include "file_sink.hpp"
#include "file_source.hpp"

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

const char* const source_docs = R"(Reads the lines of one file: to its end (a finite source), or following it
as `tail -F` does (`follow: true`: appended lines, truncation, rotation by rename). `format: lines`
makes each line {"message": line}, `format: ndjson` each line a JSON event, exactly as the stdin
source; invalid or overlong lines go to the dead-letter destination with the file and line number.
The acknowledged position (file identity and byte offset of the contiguous acknowledged prefix) is
stored under the data directory, so a restarted daemon resumes where the sinks left off.

```yaml
source:
  type: file
  path: ${APP_LOG:-./logs/app.log}
  format: ndjson
  follow: true
```
A shipped sample, read once (the source ends at the end of the file; a restart sends nothing again):
`{type: file, path: pipelines/data/sample-listings.jsonl, format: ndjson}`. A relative path is
relative to the working directory. See plugins/file/README.md.)";

}  // namespace

SLUICE_PLUGIN_LIBRARY(
    "file",
    sluice::describe<sluice::file::FileSink>(
        sluice::PluginKind::Sink, "file",
        "Line-per-event files (template, columns or JSON lines) with fsync and rotation", sink_docs,
        &sluice::file::FileSink::schema),
    sluice::describe<sluice::file::FileSource>(
        sluice::PluginKind::Source, "file",
        "Lines or NDJSON of a file, read to its end or followed (tail -F), with a checkpoint", source_docs,
        &sluice::file::FileSource::schema))

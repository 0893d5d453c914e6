// Pipeline files from outside (CI checkouts, a SIGHUP after an edit): the path
// `sluice validate`, `sluice run` and a reload take — ${ENV} interpolation,
// YAML with its bounds, structure, schema validation and the plugins'
// factory-side checks — must never crash, hang, take unbounded memory or
// throw, and every message it gives must be valid UTF-8 with a position.
//
// The plugins are the real ones (schemas and checks), compiled into this
// target instead of loaded as libraries: basic, file (source and sink), http, http_client, kafka, elasticsearch
// and the aggregate's check. Nothing is created; the checks touch nothing outside.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aggregate_settings.hpp"
#include "config/pipeline_config.hpp"
#include "es_sink.hpp"
#include "file_sink.hpp"
#include "file_source.hpp"
#include "http_client_source.hpp"
#include "http_source.hpp"
#include "kafka_sink.hpp"
#include "kafka_source.hpp"
#include "plugins.hpp"

namespace {

using sluice::PluginKind;

/** A descriptor that only validates: its schema and check, no factory. */
sluice::PluginDescriptor check_only(PluginKind kind, const char* name, const sluice::Schema& (*schema)(),
                                    sluice::Plugin* (*create)(sluice::PluginContext&, const sluice::Config&),
                                    sluice::ConfigCheck check) {
  return {sizeof(sluice::PluginDescriptor),
          kind,
          name,
          "",
          "",
          schema,
          create,
          [](sluice::Plugin* p) noexcept { delete p; },
          check};
}

const std::vector<sluice::PluginDescriptor>& descriptors() {
  namespace b = sluice_basic;
  static const std::vector<sluice::PluginDescriptor> all = {
      b::generate_descriptor(),
      b::stdin_descriptor(),
      b::stdout_descriptor(),
      b::null_descriptor(),
      b::filter_descriptor(),
      b::remap_descriptor(),
      sluice::describe<sluice::file::FileSink>(PluginKind::Sink, "file", "", "",
                                               &sluice::file::FileSink::schema),
      sluice::describe<sluice::file::FileSource>(PluginKind::Source, "file", "", "",
                                                 &sluice::file::FileSource::schema),
      sluice::describe<sluice::http_source::HttpSource>(PluginKind::Source, "http", "", "",
                                                        &sluice::http_source::HttpSource::schema),
      sluice::describe<sluice::http_client::HttpClientSource>(PluginKind::Source, "http_client", "", "",
                                                              &sluice::http_client::HttpClientSource::schema),
      sluice::describe<sluice::kafka::KafkaSource>(PluginKind::Source, "kafka", "", "",
                                                   &sluice::kafka::KafkaSource::schema),
      sluice::describe<sluice::kafka::KafkaSink>(PluginKind::Sink, "kafka", "", "",
                                                 &sluice::kafka::KafkaSink::schema),
      sluice::describe<sluice::elasticsearch::ElasticsearchSink>(
          PluginKind::Sink, "elasticsearch", "", "", &sluice::elasticsearch::ElasticsearchSink::schema),
      // Its schema and check; the fuzzer validates, it creates nothing.
      check_only(PluginKind::Transform, "aggregate", &sluice::aggregate::schema, nullptr,
                 &sluice::aggregate::check),
  };
  return all;
}

const sluice::core::PluginLoader& loader() {
  static const sluice::core::PluginLoader* l = [] {
    auto* p = new sluice::core::PluginLoader();
    for (const auto& d : descriptors()) p->add_builtin(&d);
    return p;
  }();
  return *l;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Variables the corpus interpolates: one set, one empty, one not UTF-8 (others stay unset).
  ::setenv("SLUICE_FUZZ_SET", "127.0.0.1:0", 1);
  ::setenv("SLUICE_FUZZ_EMPTY", "", 1);
  ::setenv("SLUICE_FUZZ_LATIN1", "caf\xE9", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  sluice::core::Diagnostics diags;
  auto set = sluice::core::load_config_text(text, "fuzz.yaml", loader(), diags);
  if (set.has_value() == !diags.empty()) std::abort();  // a verdict, and only one
  for (const auto& d : diags.items()) {
    const std::string line = d.format();
    if (!sluice::valid_utf8(line)) std::abort();
    (void)nlohmann::json(line).dump();
  }
  if (set) {
    // What /status shows of a loaded config must be printable JSON.
    nlohmann::json status = nlohmann::json::array();
    for (const auto& p : set->pipelines) {
      status.push_back({{"name", p.name}, {"source", p.source.id}, {"fingerprint", p.fingerprint}});
      for (const auto& s : p.sinks) status.back()["sinks"].push_back(s.id);
    }
    for (const auto& r : set->resources) status.push_back(r.component.id);
    (void)status.dump();
  }
  return 0;
}

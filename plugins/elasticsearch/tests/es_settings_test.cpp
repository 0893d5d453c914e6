// The sink's cross-field rules, through the real loader and validation (what `sluice validate` says).
#include <sluice/testing.hpp>

#include <gtest/gtest.h>

namespace {

/** The diagnostics of starting a pipeline whose sink has @p options ("" when it starts). */
std::string diagnostics(const std::string& options) {
  sluice::testing::Harness h({SLUICE_TEST_PLUGIN_DIR});
  const std::string yaml =
      "pipelines:\n  p:\n    source: {type: inject}\n    sinks:\n      - type: elasticsearch\n" +
      std::string(options.find("hosts:") == std::string::npos ? "        hosts: http://127.0.0.1:9\n" : "") +
      options;
  try {
    h.start(yaml);
  } catch (const std::exception& e) {
    return e.what();
  }
  h.stop(std::chrono::milliseconds(100));
  return "";
}

void expect_refused(const std::string& options, const std::string& message) {
  const std::string d = diagnostics(options);
  EXPECT_NE(d.find(message), std::string::npos) << "options:\n" << options << "diagnostics:\n" << d;
}

}  // namespace

TEST(ElasticsearchSettings, CrossFieldRules) {
  expect_refused("        index: i\n        action: update\n", "action update needs `id`");
  expect_refused("        index: i\n        action: increment\n        id: '{id}'\n",
                 "action increment needs `increment`");
  expect_refused(
      "        index: i\n        id: '{id}'\n        action: increment\n        increment: {field: a.b}\n",
      "top-level field name");
  expect_refused(
      "        index: i\n        id: '{id}'\n        action: increment\n        increment: {field: n, "
      "guard_key: "
      "'{p}'}\n",
      "guard_key and guard_sequence go together");
  expect_refused("        index: i\n        version: meta.offset\n", "external versioning needs `id`");
  expect_refused("        index: i\n        id: '{id}'\n        action: upsert\n        version: v\n",
                 "the update API refuses it");
  expect_refused("        index: i\n        id: '{id}'\n        action: index\n        create_only: [visits]\n",
                 "create_only is for action upsert");
  expect_refused("        index: i\n        id: '{id}'\n        action: script\n",
                 "action script needs `script`");
  expect_refused(
      "        index: i\n        id: '{id}'\n        action: script\n        script: {source: x, id: y}\n",
      "give exactly one of source, id");
  expect_refused("        index: i\n        pipeline: p\n        action: delete\n        id: '{id}'\n",
                 "ingest pipeline runs on index and create only");
  expect_refused("        index: 'logs-{day}'\n        create_index: {mappings: {properties: {}}}\n",
                 "create_index needs a literal `index`");
  expect_refused("        index: i\n        auth: {type: basic, token: x}\n", "type basic needs `username`");
  expect_refused("        index: i\n        auth: {type: bearer}\n",
                 "give exactly one of token, token_env, token_file");
  expect_refused("        index: i\n        tls_certificate: c.pem\n",
                 "tls_certificate and tls_private_key go together");
  expect_refused("        index: i\n        hosts: [ftp://x]\n", "expected an http:// or https:// URL");
  expect_refused("        index: i\n        hosts: ['http://u:p@x:9200']\n", "put credentials under `auth`");
}

TEST(ElasticsearchSettings, AValidConfigStarts) {
  EXPECT_EQ(diagnostics("        index: listings\n        id: '{id}'\n        action: upsert\n"
                        "        create_index: {mappings: {properties: {title: {type: text}}}}\n"),
            "");
}

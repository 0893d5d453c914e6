// sluice_index_dump [--check|--count] PATH: prints an embedded search index as one JSON object,
// {"count": N, "check_errors": E, "docs": {"<id>": <document>, ...}}, for the integration
// tests. Opens the index read-only (no lock: it works beside the daemon that writes it; a
// revision discarded while it reads is read again). With --check (only on an index no
// process writes) it runs Xapian's consistency check over it first; with --count it prints
// the number of documents only (cheap enough to poll beside a busy writer).
#include <cstring>
#include <iostream>
#include <sstream>

#include <xapian.h>
#include <nlohmann/json.hpp>

#if defined(__SANITIZE_ADDRESS__)
// libxapian 1.4.22's Database::check() deletes one of its own objects through a base of another
// size (ASan: new-delete-type-mismatch inside libxapian.so, not in sluice): not ours to fix, so
// this test tool, and only it, does not report that one kind of error.
extern "C" const char* __asan_default_options() {
  return "new_delete_type_mismatch=0";
}
#endif

int main(int argc, char** argv) {
  const bool check = argc == 3 && std::strcmp(argv[1], "--check") == 0;
  const bool count_only = argc == 3 && std::strcmp(argv[1], "--count") == 0;
  if (argc != 2 && !check && !count_only) {
    std::cerr << "usage: sluice_index_dump [--check|--count] PATH\n";
    return 2;
  }
  const char* path = argv[argc - 1];
  try {
    std::size_t errors = 0;
    if (check) {
      std::ostringstream check_out;
      errors = Xapian::Database::check(path, 0, &check_out);
    }
    for (int attempt = 1;; ++attempt) {
      try {
        Xapian::Database db(path);
        if (count_only) {
          std::cout << db.get_doccount() << "\n";
          return 0;
        }
        nlohmann::json out = {
            {"count", db.get_doccount()}, {"check_errors", errors}, {"docs", nlohmann::json::object()}};
        for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
          Xapian::Document d = db.get_document(*it);
          out["docs"][d.get_value(2)] = nlohmann::json::parse(d.get_data());
        }
        std::cout << out.dump() << "\n";
        return errors == 0 ? 0 : 1;
      } catch (const Xapian::DatabaseModifiedError&) {
        if (attempt == 20) throw;
      }
    }
  } catch (const Xapian::Error& e) {
    std::cerr << "sluice_index_dump: " << path << ": " << e.get_description() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "sluice_index_dump: " << path << ": " << e.what() << "\n";
    return 1;
  }
}

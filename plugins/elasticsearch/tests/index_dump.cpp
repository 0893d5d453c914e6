// sluice_index_dump PATH: prints an embedded search index as one JSON object,
// {"count": N, "check_errors": E, "docs": {"<id>": <document>, ...}}, for the
// integration tests. Opens the index read-only (no lock: it works beside the
// daemon that writes it) and runs Xapian's consistency check over it first.
#include <iostream>
#include <sstream>

#include <xapian.h>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sluice_index_dump PATH\n";
    return 2;
  }
  try {
    std::ostringstream check_out;
    const std::size_t errors = Xapian::Database::check(argv[1], Xapian::DBCHECK_SHOW_STATS, &check_out);
    Xapian::Database db(argv[1]);
    nlohmann::json out = {
        {"count", db.get_doccount()}, {"check_errors", errors}, {"docs", nlohmann::json::object()}};
    for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
      Xapian::Document d = db.get_document(*it);
      out["docs"][d.get_value(2)] = nlohmann::json::parse(d.get_data());
    }
    std::cout << out.dump() << "\n";
    return errors == 0 ? 0 : 1;
  } catch (const Xapian::Error& e) {
    std::cerr << "sluice_index_dump: " << argv[1] << ": " << e.get_description() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "sluice_index_dump: " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
}

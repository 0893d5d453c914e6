// The search page's web files (see assets.hpp).
#include "assets.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace sluice::srp {
namespace {

namespace fs = std::filesystem;

/** The templates every page needs: a web_root may replace them, not remove them. */
const char* const kPages[] = {"layout", "home", "results", "no_results", "item", "error"};

std::string content_type_of(const std::string& name) {
  const auto ext = fs::path(name).extension().string();
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool compressible(const std::string& content_type) {
  return content_type.rfind("text/", 0) == 0 || content_type == "image/svg+xml";
}

/** FNV-1a, 64 bits, as hex: an ETag needs to change with the content, not to resist forgery. */
std::string content_hash(std::string_view body) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  std::ostringstream out;
  out << std::hex << h;
  return out.str();
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string gzip(std::string_view body) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(body.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate failed");
  out.resize(written);
  return out;
}

bool accepts_gzip(std::string_view value) {
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(start, comma - start);
    start = comma + 1;
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string_view::npos) continue;
    item.remove_prefix(b);
    const std::size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    if (!iequals(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    const auto q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view qv = params.substr(q + 2);
    // q=0, q=0.0, q=0.000 refuse it; anything else accepts.
    bool zero = !qv.empty() && qv[0] == '0';
    for (std::size_t i = 1; zero && i < qv.size() && qv[i] != ' ' && qv[i] != ';'; ++i)
      zero = qv[i] == '.' || qv[i] == '0';
    return !zero;
  }
  return false;
}

std::shared_ptr<const WebFiles> WebFiles::load(const std::string& web_root, Logger& log) {
  std::map<std::string, std::string> files;
  for (const auto& [path, content] : builtin_web_files()) files[std::string(path)] = std::string(content);
  if (!web_root.empty()) {
    std::error_code ec;
    if (!fs::is_directory(web_root, ec))
      throw std::runtime_error("web_root " + web_root + " is not a directory");
    std::vector<std::string> replaced;
    for (const char* dir : {"templates", "static"}) {
      const fs::path d = fs::path(web_root) / dir;
      if (!fs::is_directory(d, ec)) continue;
      for (const auto& entry : fs::directory_iterator(d, ec)) {
        if (!entry.is_regular_file()) continue;
        const std::string rel = std::string(dir) + "/" + entry.path().filename().string();
        files[rel] = read_whole(entry.path());
        replaced.push_back(rel);
      }
    }
    std::string list;
    for (const auto& r : replaced) list += (list.empty() ? "" : ", ") + r;
    log.info("web_root ", web_root, ": ", replaced.size(), " file(s) replace the built-in ones",
             replaced.empty() ? "" : ": ", list);
  }
  auto web = std::make_shared<WebFiles>();
  for (const auto& [rel, content] : files) {
    if (rel.rfind("templates/", 0) == 0 && rel.size() > 15 && rel.substr(rel.size() - 5) == ".html") {
      std::string error;
      const std::string name = rel.substr(10, rel.size() - 15);
      auto t = PageTemplate::parse(content, rel, error);
      if (!t) throw std::runtime_error("template " + error);
      web->pages_.emplace(name, std::move(*t));
    } else if (rel.rfind("static/", 0) == 0) {
      Asset a;
      a.content_type = content_type_of(rel);
      a.body = content;
      a.version = content_hash(content);
      a.etag = "\"" + a.version + "\"";
      if (compressible(a.content_type) && content.size() > 256) a.gzipped = gzip(content);
      web->assets_.emplace(rel.substr(7), std::move(a));
    }
  }
  for (const char* p : kPages)
    if (!web->pages_.count(p))
      throw std::runtime_error(std::string("template templates/") + p + ".html is missing");
  return web;
}

const PageTemplate* WebFiles::page(const std::string& name) const {
  auto it = pages_.find(name);
  return it == pages_.end() ? nullptr : &it->second;
}

const Asset* WebFiles::asset(const std::string& name) const {
  auto it = assets_.find(name);
  return it == assets_.end() ? nullptr : &it->second;
}

std::string WebFiles::asset_url(const std::string& name) const {
  const Asset* a = asset(name);
  return "/static/" + name + (a ? "?v=" + a->version : "");
}

}  // namespace sluice::srp

#pragma once
// How the embedded index lays a document out in Xapian (terms, values, metadata), and
// Lucene's one-byte field length: shared by its writes (embedded_index.cpp) and its
// searches (embedded_search.cpp). Internal to libsluice-search.
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <xapian.h>

#include <sluice/event.hpp>

namespace sluice::elasticsearch::embedded {

inline constexpr Xapian::valueno kVisitsSlot = 0;
inline constexpr Xapian::valueno kSeqSlot = 1;
inline constexpr Xapian::valueno kIdSlot = 2;
inline constexpr Xapian::valueno kLengthSlot[2] = {3, 4};  // words in the title, in the description
inline constexpr const char* kFieldStatsKey = "sluice.field_stats";
inline constexpr const char* kFieldNames[2] = {"title", "description"};
inline constexpr const char* kFieldPrefixes[2] = {"S", "XD"};
inline constexpr std::size_t kMaxTermBytes = 240;       // Xapian's glass backend refuses terms over 245 bytes
inline constexpr std::size_t kMaxResultWindow = 10000;  // as ES index.max_result_window

/** The term of @p word in the field of @p prefix, cut to what Xapian takes (never inside a UTF-8 sequence).
 */
inline std::string term(const char* prefix, const std::string& word) {
  std::string t = prefix + word;
  if (t.size() > kMaxTermBytes) {
    t.resize(kMaxTermBytes);
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
    if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
  }
  return t;
}

inline std::string id_term(const std::string& id) {
  return "Q" + id;
}

// Lucene stores a field's length in one byte (SmallFloat.intToByte4): exact below 24, then four
// significant bits. BM25 reads the rounded length back, so the embedded index rounds it the same way.
inline int int4_of(std::uint64_t i) {
  const int bits = 64 - std::countl_zero(i);
  if (bits < 4) return static_cast<int>(i);
  const int shift = bits - 4;
  return (static_cast<int>(i >> shift) & 0x07) | ((shift + 1) << 3);
}
inline std::uint64_t long_of_int4(int i) {
  const std::uint64_t bits = static_cast<std::uint64_t>(i & 0x07);
  const int shift = (i >> 3) - 1;
  return shift == -1 ? bits : (bits | 0x08) << shift;
}
inline constexpr int kFreeLengths = 24;  // 255 - int4_of(INT32_MAX)
inline int length_byte(std::uint64_t length) {
  return length < kFreeLengths ? static_cast<int>(length) : kFreeLengths + int4_of(length - kFreeLengths);
}
inline double length_of_byte(int b) {
  return static_cast<double>(b < kFreeLengths ? static_cast<std::uint64_t>(b)
                                              : kFreeLengths + long_of_int4(b - kFreeLengths));
}

/** Runs @p f, turning Xapian's errors (which are no std::exception) into std::runtime_error. */
template <typename F>
auto xapian_call(const std::string& name, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Xapian::Error& e) {
    throw std::runtime_error("embedded search index " + name + ": " + e.get_type() + ": " + e.get_msg());
  }
}

}  // namespace sluice::elasticsearch::embedded

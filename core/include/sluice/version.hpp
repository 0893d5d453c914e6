#pragma once
/**
 * @file version.hpp
 * @brief sluice version, plugin ABI version and the build id a plugin must match.
 */
#include <cstdint>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

/** Plugin ABI version. Bumped whenever any SDK type changes layout or meaning. */
#define SLUICE_ABI_VERSION 5u

#define SLUICE_STR_(x) #x
#define SLUICE_STR(x) SLUICE_STR_(x)

#if defined(__SANITIZE_ADDRESS__)
#define SLUICE_BUILD_SAN "+asan"
#elif defined(__SANITIZE_THREAD__)
#define SLUICE_BUILD_SAN "+tsan"
#else
#define SLUICE_BUILD_SAN ""
#endif

/**
 * Build id: compiler, C++ standard library, language standard and sluice
 * version. Plugins and host exchange C++ objects, so both sides must come
 * from the same toolchain; the loader compares this string before any call.
 */
#define SLUICE_BUILD_ID                                                                  \
  "sluice " SLUICE_VERSION "; gcc " __VERSION__ "; libstdc++ " SLUICE_STR(_GLIBCXX_RELEASE) \
      "; cxx11abi " SLUICE_STR(_GLIBCXX_USE_CXX11_ABI) "; std " SLUICE_STR(__cplusplus) SLUICE_BUILD_SAN

namespace sluice {
/** The sluice version string of the host or plugin being compiled. */
inline constexpr const char* version = SLUICE_VERSION;
/** The ABI version compiled into this translation unit. */
inline constexpr std::uint32_t abi_version = SLUICE_ABI_VERSION;
/** The build id compiled into this translation unit. */
inline constexpr const char* build_id = SLUICE_BUILD_ID;
}  // namespace sluice

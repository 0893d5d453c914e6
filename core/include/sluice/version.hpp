#pragma once
/**
 * @file version.hpp
 * @brief sluice version, plugin ABI version and the build id a plugin must match.
 */
#include <cstdint>

#include <Poco/Version.h>
#include <nlohmann/json_fwd.hpp>

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

/** yaml-cpp has no version macro: the build defines it from the package it found (CMake). */
#ifndef SLUICE_YAML_CPP_VERSION
#define SLUICE_YAML_CPP_VERSION "unknown"
#endif

/**
 * Build id: compiler, C++ standard library, language standard, sluice
 * version, and the versions of the libraries whose types cross the plugin
 * boundary (nlohmann/json, yaml-cpp, Poco). Plugins and host exchange C++
 * objects, so both sides must come from the same toolchain and headers; the
 * loader compares this string before any call.
 */
#define SLUICE_BUILD_ID \
  "sluice " SLUICE_VERSION "; gcc " __VERSION__ "; libstdc++ " SLUICE_STR(_GLIBCXX_RELEASE)             \
      "; cxx11abi " SLUICE_STR(_GLIBCXX_USE_CXX11_ABI) "; std " SLUICE_STR(__cplusplus) "; nlohmann " \
          SLUICE_STR(NLOHMANN_JSON_VERSION_MAJOR) "." SLUICE_STR(NLOHMANN_JSON_VERSION_MINOR) "."      \
          SLUICE_STR(NLOHMANN_JSON_VERSION_PATCH) "; yaml-cpp " SLUICE_YAML_CPP_VERSION "; Poco "      \
          SLUICE_STR(POCO_VERSION) SLUICE_BUILD_SAN

namespace sluice {
/** The sluice version string of the host or plugin being compiled. */
inline constexpr const char* version = SLUICE_VERSION;
/** The ABI version compiled into this translation unit. */
inline constexpr std::uint32_t abi_version = SLUICE_ABI_VERSION;
/** The build id compiled into this translation unit. */
inline constexpr const char* build_id = SLUICE_BUILD_ID;
}  // namespace sluice

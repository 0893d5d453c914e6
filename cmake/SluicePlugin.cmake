# sluice_add_plugin(<family>
#     SOURCES <files...>
#     [LIBRARIES <libs...>]
#     [TESTS <gtest sources...>] [TEST_LIBRARIES <libs...>])
#
# Builds plugin family <family> as a loadable module `sluice-<family>.so` in
# ${SLUICE_PLUGIN_OUTPUT_DIR}, linked only against the SDK (sluice::sdk) and
# the given libraries, installed into lib/sluice/plugins. The same function
# serves in-tree and out-of-tree plugins (out of tree: find_package(Sluice)
# provides it, sluice::sdk and sluice::testing; see tests/sdk/example-plugin).
# TESTS become a GoogleTest executable `test_plugin_<family>` registered
# with ctest under the labels `plugin` and `<family>`; its
# SLUICE_TEST_PLUGIN_DIR names the directory the plugin is built in. Out of
# tree, TESTS also registers `conformance.<family>`: sluice-conformance runs
# the checks of sluice/conformance.hpp on the built library (in this tree,
# tests/unit/conformance_test.cpp runs them over every plugin at once).
function(sluice_add_plugin family)
  cmake_parse_arguments(P "" "" "SOURCES;LIBRARIES;TESTS;TEST_LIBRARIES" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "sluice_add_plugin(${family}): SOURCES is required")
  endif()
  set(target sluice_plugin_${family})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE sluice::sdk ${P_LIBRARIES})
  set_target_properties(${target} PROPERTIES
      PREFIX ""
      OUTPUT_NAME "sluice-${family}"
      LIBRARY_OUTPUT_DIRECTORY ${SLUICE_PLUGIN_OUTPUT_DIR}
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN OFF
      INSTALL_RPATH "$ORIGIN/../..")  # lib/sluice/plugins -> lib/libsluice-core.so
  if(COMMAND sluice_target_warnings)
    sluice_target_warnings(${target})
  endif()
  set_property(GLOBAL APPEND PROPERTY SLUICE_PLUGIN_TARGETS ${target})
  install(TARGETS ${target} LIBRARY DESTINATION lib/sluice/plugins)
  if(P_TESTS AND SLUICE_BUILD_TESTS)
    if(NOT TARGET GTest::gtest_main)
      find_package(GTest REQUIRED)
    endif()
    include(GoogleTest)
    set(test_target test_plugin_${family})
    add_executable(${test_target} ${P_TESTS})
    target_link_libraries(${test_target} PRIVATE sluice::sdk sluice::testing ${P_TEST_LIBRARIES} GTest::gtest_main)
    target_compile_definitions(${test_target} PRIVATE
        SLUICE_TEST_PLUGIN_DIR="${SLUICE_PLUGIN_OUTPUT_DIR}"
        SLUICE_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
    add_dependencies(${test_target} ${target})
    if(COMMAND sluice_target_warnings)
      sluice_target_warnings(${test_target})
    endif()
    gtest_discover_tests(${test_target} PROPERTIES LABELS "plugin;${family}" DISCOVERY_TIMEOUT 60)
    get_target_property(_sdk_imported sluice::sdk IMPORTED)
    if(_sdk_imported)
      add_test(NAME conformance.${family} COMMAND sluice::conformance $<TARGET_FILE:${target}>)
      set_tests_properties(conformance.${family} PROPERTIES LABELS "plugin;${family};conformance")
    endif()
  endif()
endfunction()

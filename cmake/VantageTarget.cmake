# Shared compile settings for every Vantage target, applied per target (never globally)
# so that third-party code pulled in by find_package keeps its own flags.
function(vantage_target_settings target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wno-missing-field-initializers)
  if(VANTAGE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(VANTAGE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# vantage_library(name SOURCES ... DEPS ...): one static library per stage folder.
function(vantage_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  vantage_target_settings(${name})
endfunction()

# vantage_test(name SOURCES ... DEPS ...): a gtest binary registered with ctest.
function(vantage_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE VANTAGE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             VANTAGE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  vantage_target_settings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ENVIRONMENT
                       "VANTAGE_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# vantage_benchmark(name SOURCES ... DEPS ...): a Google Benchmark binary (not a test).
function(vantage_benchmark name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  target_compile_definitions(${name} PRIVATE VANTAGE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  vantage_target_settings(${name})
endfunction()

# vantage_fuzzer(name SOURCES ... DEPS ...): a libFuzzer target, built only with clang.
function(vantage_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  # One umbrella target, so scripts/fuzz.sh builds the fuzzers and nothing else.
  if(NOT TARGET fuzzers)
    add_custom_target(fuzzers)
  endif()
  add_dependencies(fuzzers ${name})
endfunction()

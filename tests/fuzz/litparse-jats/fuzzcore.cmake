# fuzzcore.cmake — the litparse parsers compiled with libFuzzer coverage and ASan/UBSan, shared by
# the tests/fuzz/litparse-{jats,medline,tei,atom} targets (included by each; defined once).
if(NOT TARGET litparse_fuzzcore)
  pkg_check_modules(LP_FUZZ_CORE_UTF8PROC REQUIRED IMPORTED_TARGET GLOBAL libutf8proc)
  pkg_check_modules(LP_FUZZ_CORE_ISAL REQUIRED IMPORTED_TARGET GLOBAL libisal)
  set(_lp "${PROJECT_SOURCE_DIR}/plugins/litparse")
  set(_lp_fuzz_sources)
  foreach(_f util.c source.c xml.c xmlscan.c entities.c doc.c flat.c parse.c jats.c medline.c tei.c atom.c bibdoc.c delim.c text.c
             bibtex.c latex.c sentences.c)
    if(EXISTS "${_lp}/${_f}")
      list(APPEND _lp_fuzz_sources "${_lp}/${_f}")
    endif()
  endforeach()
  add_library(litparse_fuzzcore STATIC ${_lp_fuzz_sources})
  target_include_directories(litparse_fuzzcore PUBLIC "${_lp}")
  target_compile_definitions(litparse_fuzzcore PRIVATE _GNU_SOURCE)
  target_compile_options(litparse_fuzzcore PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  target_link_libraries(litparse_fuzzcore PUBLIC sciloop::sdk PkgConfig::LIBXML2 PkgConfig::JANSSON
                        PkgConfig::LP_FUZZ_CORE_ISAL PkgConfig::LP_FUZZ_CORE_UTF8PROC Threads::Threads)
endif()

# litparse_add_fuzzer(<format>): fuzz_litparse_<format> from fuzz_<format>.c, with a ctest test
# (label fuzz) that runs it for 30 s from the committed seeds, writing new inputs to the build tree.
function(litparse_add_fuzzer fmt)
  set(t fuzz_litparse_${fmt})
  add_executable(${t} fuzz_${fmt}.c "${PROJECT_SOURCE_DIR}/tests/fuzz/litparse-jats/fuzz_common.c")
  target_include_directories(${t} PRIVATE "${PROJECT_SOURCE_DIR}/tests/fuzz/litparse-jats")
  target_compile_options(${t} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${t} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${t} PRIVATE litparse_fuzzcore)
  set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
  file(MAKE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/corpus-work")
  add_test(NAME ${t}
    COMMAND ${t} -max_total_time=30 -rss_limit_mb=2048 -max_len=131072
            "${CMAKE_CURRENT_BINARY_DIR}/corpus-work" "${CMAKE_CURRENT_SOURCE_DIR}/seeds"
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  set_tests_properties(${t} PROPERTIES LABELS fuzz TIMEOUT 120)
endfunction()

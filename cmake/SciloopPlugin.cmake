# SciloopPlugin.cmake — sciloop_add_plugin(): how every built-in plugin is built and installed.
#
#   sciloop_add_plugin(<name> SOURCES a.c b.c [LIBRARIES lib...])
#
# builds <name>.so as a MODULE (hidden symbols, only the entry point exported) into the build
# tree's plugin folder, links it against the SDK runtime, and installs it into the plugin dir.
function(sciloop_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY "${SCILOOP_PLUGIN_OUTPUT_DIR}")
  target_link_libraries(${name} PRIVATE sciloop::sdk ${P_LIBRARIES})
  if(NOT SCILOOP_SANITIZE AND NOT SCILOOP_FUZZ)
    # Refuse undefined symbols at link time rather than at dlopen time. (Sanitizer runtimes
    # come from the host executable, so sanitized plugins leave those symbols undefined.)
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${SCILOOP_PLUGIN_INSTALL_DIR})
endfunction()

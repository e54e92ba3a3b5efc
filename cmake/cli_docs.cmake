# probe-agent(1), probe-report(1) and the bash completion of both, generated
# at build time from the tools' own --help (scripts/cli_docs.py), so the
# option text lives in one place (agent/core/options.cc, report/report_options.cc)
# and the man pages cannot drift from it.
# Debian's python3 (stdlib only), whatever python3 comes first in PATH.
find_program(PROBE_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PROBE_PYTHON3)
  find_program(PROBE_PYTHON3 python3 REQUIRED)
endif()
set(PROBE_DOCS_DIR ${CMAKE_BINARY_DIR}/docs)
set(PROBE_DOCS_SCRIPT ${PROJECT_SOURCE_DIR}/scripts/cli_docs.py)
set(PROBE_MAN_PAGES)
foreach(tool probe-agent probe-report)
  add_custom_command(OUTPUT ${PROBE_DOCS_DIR}/${tool}.1
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROBE_DOCS_DIR}
    COMMAND ${PROBE_PYTHON3} ${PROBE_DOCS_SCRIPT} man $<TARGET_FILE:${tool}> ${tool}
            ${PROJECT_VERSION} ${PROBE_DOCS_DIR}/${tool}.1
    DEPENDS ${tool} ${PROBE_DOCS_SCRIPT}
    COMMENT "Generating ${tool}.1 from ${tool} --help")
  list(APPEND PROBE_MAN_PAGES ${PROBE_DOCS_DIR}/${tool}.1)
endforeach()
set(PROBE_COMPLETION ${PROBE_DOCS_DIR}/probe.bash-completion)
add_custom_command(OUTPUT ${PROBE_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROBE_DOCS_DIR}
  COMMAND ${PROBE_PYTHON3} ${PROBE_DOCS_SCRIPT} completion ${PROBE_COMPLETION}
          $<TARGET_FILE:probe-agent> $<TARGET_FILE:probe-report>
  DEPENDS probe-agent probe-report ${PROBE_DOCS_SCRIPT}
  COMMENT "Generating bash completion from --help")
add_custom_target(probe_docs ALL DEPENDS ${PROBE_MAN_PAGES} ${PROBE_COMPLETION})

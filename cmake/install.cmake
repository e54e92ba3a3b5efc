# Install layout (make install: PREFIX=/usr/local; cmake --install BUILD --prefix P):
#   bin/probe-agent, bin/probe-report
#   lib/probe/libprobe_preload.so       where an installed probe-agent looks for the shim
#                                       (bin/../lib/probe: literal lib/, not the multiarch libdir)
#   include/probe.h                      markers for C/C++, with share/pkgconfig/probe.pc
#   share/man/man1/probe-{agent,report}.1, share/bash-completion/completions/probe-{agent,report}
#   python: probe_trace.py, probe_frames.py, probe_markers.py and the generated probe_pb2.py in the
#   dist-packages directory Debian's python3 reads for that prefix
#   share/doc/probe/                     README, FORMAT.md, probe.proto
#   lib/systemd/system/probe-agent.service  the agent as a service (packaging/)
# Nothing installed refers back to the build or source tree.
include(GNUInstallDirs)
# Installing (and cpack) takes what the build made and does not run the
# build again first: make install and make deb build before they install.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS probe-agent probe-report RUNTIME DESTINATION bin)
install(TARGETS probe_preload LIBRARY DESTINATION lib/probe)
install(FILES ${PROJECT_SOURCE_DIR}/preload/probe.h DESTINATION include)

configure_file(${CMAKE_CURRENT_LIST_DIR}/probe.pc.in ${CMAKE_BINARY_DIR}/probe.pc.in.configured @ONLY)
# The prefix is known only at install time (cmake --install --prefix), so
# probe.pc is written then.
install(CODE "
  file(READ \"${CMAKE_BINARY_DIR}/probe.pc.in.configured\" pc)
  string(REPLACE \"%PREFIX%\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/probe.pc\" \"\${pc}\")
  file(INSTALL \"${CMAKE_BINARY_DIR}/probe.pc\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/share/pkgconfig\")")

install(FILES ${PROBE_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROBE_COMPLETION} DESTINATION share/bash-completion/completions RENAME probe-agent)
install(FILES ${PROBE_COMPLETION} DESTINATION share/bash-completion/completions RENAME probe-report)
# The agent as a service (--rotate): its ExecStart names /usr/bin/probe-agent,
# the package's path.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/probe-agent.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/proto/FORMAT.md
              ${PROJECT_SOURCE_DIR}/proto/probe.proto DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/preload/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME PRELOAD.md)

# Debian's python3 reads /usr/lib/python3/dist-packages for the system prefix
# and /usr/local/lib/python3.X/dist-packages (and other prefixes' likewise)
# for the rest: chosen at install time, when the prefix is known.
execute_process(COMMAND /usr/bin/python3 -c "import sys; print('%d.%d' % sys.version_info[:2])"
                OUTPUT_VARIABLE PROBE_PY_VERSION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT PROBE_PY_VERSION)
  set(PROBE_PY_VERSION 3)
endif()
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(pydir \"\${CMAKE_INSTALL_PREFIX}/lib/python3/dist-packages\")
  else()
    set(pydir \"\${CMAKE_INSTALL_PREFIX}/lib/python${PROBE_PY_VERSION}/dist-packages\")
  endif()
  file(INSTALL \"${PROJECT_SOURCE_DIR}/python/probe_trace.py\"
               \"${PROJECT_SOURCE_DIR}/python/probe_frames.py\"
               \"${PROJECT_SOURCE_DIR}/preload/python/probe_markers.py\"
               \"${CMAKE_BINARY_DIR}/python/probe_pb2.py\"
       DESTINATION \"\${pydir}\")")

# A Debian package: cpack -G DEB in the build directory, or make deb.
set(CPACK_PACKAGE_NAME probe)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "probe maintainers <probe@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "eBPF profiling agent for process lifetimes, wait latency and wakeups")
set(CPACK_PACKAGE_DESCRIPTION
    "probe-agent records process lifetimes, select/poll/epoll/eventfd latency, scheduler
 wakeups and (with its LD_PRELOAD shim) user-space calls and markers into a
 protobuf record file; probe-report summarises and exports it.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# Debian 12 (bookworm) names of the shared libraries the binaries link.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libbpf1 (>= 1:1.1), libprotobuf32, libelf1, zlib1g, libfmt9, libcurl4, libc6 (>= 2.34), libstdc++6, libgcc-s1")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-protobuf")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-pandas, bash-completion")
# Stripped in the package (the build tree keeps the debug info); xz as Debian does.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_GENERATOR DEB)
include(CPack)

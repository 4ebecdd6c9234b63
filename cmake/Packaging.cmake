# Packaging.cmake: install rules and the Debian package (CPack DEB).
#
# Included at the end of the top-level CMakeLists.txt, after server/ and
# client/ have defined their targets:
#
#   cmake --build build && (cd build && cpack -G DEB)   # -> handoff_<ver>_<arch>.deb
#   DESTDIR=/tmp/stage cmake --install build            # what the package holds
#
# Layout, with the package's prefix /usr:
#   /usr/bin/handoffd, /usr/bin/handoff
#   /usr/lib/systemd/system/handoffd.service       (deploy/systemd/)
#   /etc/handoff/handoffd.conf                     (deploy/config/, a conffile)
#   /usr/share/doc/handoff/                        (README.md, docs/PERF.md)
#
# /etc/handoff is an absolute destination on purpose: Debian keeps
# configuration in /etc whatever the prefix, and dpkg keeps a local edit of a
# conffile across upgrades. The unit is installed with ExecStart pointing at
# the bin directory of the prefix actually installed to.
#
# The package's Depends are computed by dpkg-shlibdeps (package dpkg-dev)
# from the binaries, so they name the Debian runtime libraries
# (libgrpc++1.51, libprotobuf32, libabsl20220623, ...) and nothing else.

include(GNUInstallDirs)

set(HANDOFF_SOURCE_ROOT ${CMAKE_CURRENT_LIST_DIR}/..)
set(HANDOFF_SYSCONFDIR /etc/handoff CACHE PATH
    "Where the package installs handoffd.conf (absolute)")
set(HANDOFF_SYSTEMD_UNITDIR ${CMAKE_INSTALL_LIBDIR}/systemd/system CACHE STRING
    "Where the systemd unit goes, relative to the install prefix")
# GNUInstallDirs makes LIBDIR lib/x86_64-linux-gnu on Debian for a /usr prefix;
# systemd looks in <prefix>/lib/systemd/system.
if(HANDOFF_SYSTEMD_UNITDIR MATCHES "^lib/[^/]+-linux-gnu/systemd/system$")
  set(HANDOFF_SYSTEMD_UNITDIR lib/systemd/system CACHE STRING
      "Where the systemd unit goes, relative to the install prefix" FORCE)
endif()

set(_handoff_programs)
foreach(_t handoffd handoff)
  if(TARGET ${_t})
    install(TARGETS ${_t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
            COMPONENT handoff)
    list(APPEND _handoff_programs ${_t})
  else()
    message(STATUS "Packaging: target ${_t} not defined; not installed")
  endif()
endforeach()

# The unit names /usr/bin/handoffd; rewrite that at install time to the bin
# directory of the prefix being installed to (cpack installs with /usr).
install(CODE "
  set(_unit_src \"${HANDOFF_SOURCE_ROOT}/deploy/systemd/handoffd.service\")
  file(READ \"\${_unit_src}\" _unit)
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_BINDIR}\")
    set(_bindir \"${CMAKE_INSTALL_BINDIR}\")
  else()
    set(_bindir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  endif()
  string(REPLACE \"ExecStart=/usr/bin/handoffd\" \"ExecStart=\${_bindir}/handoffd\" _unit \"\${_unit}\")
  string(REPLACE \"EnvironmentFile=/etc/handoff/\" \"EnvironmentFile=${HANDOFF_SYSCONFDIR}/\" _unit \"\${_unit}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/packaging/handoffd.service\" \"\${_unit}\")
" COMPONENT handoff)
install(FILES ${CMAKE_BINARY_DIR}/packaging/handoffd.service
        DESTINATION ${HANDOFF_SYSTEMD_UNITDIR} COMPONENT handoff)

install(FILES ${HANDOFF_SOURCE_ROOT}/deploy/config/handoffd.conf
        DESTINATION ${HANDOFF_SYSCONFDIR} COMPONENT handoff)

set(_handoff_docs)
foreach(_doc README.md docs/PERF.md)
  if(EXISTS ${HANDOFF_SOURCE_ROOT}/${_doc})
    list(APPEND _handoff_docs ${HANDOFF_SOURCE_ROOT}/${_doc})
  endif()
endforeach()
if(_handoff_docs)
  install(FILES ${_handoff_docs} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/handoff
          COMPONENT handoff)
endif()

# --- CPack: one Debian package, "handoff" ----------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME handoff)
set(CPACK_PACKAGE_VENDOR "handoff")
set(CPACK_PACKAGE_CONTACT "handoff maintainers <handoff@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "gRPC gateway that hands each call to an idle worker (handoffd, handoff CLI)")
set(CPACK_PACKAGE_DESCRIPTION
    "handoffd is a gRPC gateway: every call becomes a job handed through a
chan<chan<Job>> dispatcher to an idle worker, with the caller's deadline as
its cancellation. It serves grpc.health.v1, server reflection and Prometheus
metrics, and drains on SIGTERM. The handoff CLI calls it, checks its health
and load-tests it with ghz-compatible flags.")
if(NOT CPACK_PACKAGE_VERSION)
  set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
endif()
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # handoff_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
# /etc files are conffiles: dpkg keeps the administrator's edits on upgrade.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles
     "${HANDOFF_SYSCONFDIR}/handoffd.conf\n")
# Maintainer scripts: systemd reloads the unit on install and removal, an
# upgrade restarts a running handoffd on the new binary, a removal stops it
# first, and a purge drops the links that enabled it (deploy/debian/).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)

# The interface's packaging: man pages and bash completions generated at
# build time from the programs' descriptions (deploy/manual/), their install
# rules, and `cpack -G DEB` (deploy/test-deb.sh installs the package in a
# fresh Debian 12 root and tries it).
add_executable(coroner-generate-manual ${CMAKE_CURRENT_LIST_DIR}/generate_manual.cpp)
target_link_libraries(coroner-generate-manual PRIVATE coroner_frontends coroner_capture_lib)

set(CORONER_MANUAL_DIR ${CMAKE_BINARY_DIR}/generated-manual)
set(CORONER_MANUAL_FILES
  ${CORONER_MANUAL_DIR}/coroner.1 ${CORONER_MANUAL_DIR}/coroner-capture.8
  ${CORONER_MANUAL_DIR}/coroner.bash ${CORONER_MANUAL_DIR}/coroner-capture.bash)
add_custom_command(OUTPUT ${CORONER_MANUAL_FILES}
  COMMAND coroner-generate-manual ${CORONER_MANUAL_DIR}
  DEPENDS coroner-generate-manual
  COMMENT "Man pages and bash completions from the command descriptions")
add_custom_target(coroner-manual ALL DEPENDS ${CORONER_MANUAL_FILES})

install(FILES ${CORONER_MANUAL_DIR}/coroner.1 DESTINATION share/man/man1)
install(FILES ${CORONER_MANUAL_DIR}/coroner-capture.8 DESTINATION share/man/man8)
install(FILES ${CORONER_MANUAL_DIR}/coroner.bash DESTINATION share/bash-completion/completions RENAME coroner)
install(FILES ${CORONER_MANUAL_DIR}/coroner-capture.bash DESTINATION share/bash-completion/completions
  RENAME coroner-capture)

# The fleet jobs' scripts (deploy/fleet, docs/fleet.md), for the container
# image and the Slurm script.
install(PROGRAMS ${CMAKE_SOURCE_DIR}/deploy/fleet/triage-and-ingest.sh ${CMAKE_SOURCE_DIR}/deploy/fleet/indexed-triage.sh
  ${CMAKE_SOURCE_DIR}/deploy/fleet/parallel-triage.sh ${CMAKE_SOURCE_DIR}/deploy/fleet/slurm-array.sh
  DESTINATION share/coroner/fleet)

# cpack (and `make install`) must not build every target first: the test
# binaries are not installed.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

# The .deb: installed under /usr (coroner finds its sample relative to its
# own executable). Dependencies are the Debian packages of the shared
# libraries the programs link, found by dpkg-shlibdeps (LLVM is static).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME coroner)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Linux crash dump capture (makedumpfile-compatible) and analysis (crash's commands)")
set(CPACK_PACKAGE_DESCRIPTION
  "coroner-capture writes filtered, compressed kdump dumps with makedumpfile's options; coroner opens\n"
  "them with the kernel's debug info and answers crash's commands in a crash> shell, from scripts or as JSON.")
set(CPACK_PACKAGE_CONTACT "coroner maintainers <coroner@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION debug)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Opened at their first use (symbols/shared_library.hpp), so not in any
# program's NEEDED list for dpkg-shlibdeps to find: `dis` and debuginfod.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcapstone4, libdebuginfod1")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "crash, makedumpfile, kdump-tools")
include(CPack)

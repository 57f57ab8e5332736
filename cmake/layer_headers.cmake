# Include directories that enforce the layers. Every header is included by
# its path from the repository root ("analyzer/program.hpp"), but no library
# gets the root itself: each gets a staging tree in the build directory,
# layer_include/<library>/, that holds symbolic links to its own headers at
# their repository paths, as its PUBLIC include directory. A library so sees
# its own headers and those of the libraries it links, and an include of a
# higher layer's header fails to compile ("No such file or directory").
#
#   coroner_layer_headers(<library> <path>... [EXCLUDE <path>...])
#
# A <path> is relative to the repository root: a folder (linked whole, so
# headers added to it later need no CMake edit), or a file pattern
# ("analyzer/*.hpp", for folders that several libraries share); patterns are
# globbed with CONFIGURE_DEPENDS, so a new matching header re-runs CMake,
# which links it. EXCLUDE names files a pattern must leave to another
# library.
function(coroner_layer_headers library)
  cmake_parse_arguments(L "" "" "EXCLUDE" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/layer_include/${library})
  file(REMOVE_RECURSE ${root})
  foreach(entry IN LISTS L_UNPARSED_ARGUMENTS)
    if(entry MATCHES "[*?]")
      file(GLOB paths CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/${entry})
      list(REMOVE_ITEM paths ${L_EXCLUDE})
    elseif(EXISTS ${CMAKE_SOURCE_DIR}/${entry})
      set(paths ${entry})
    else()
      message(FATAL_ERROR "coroner_layer_headers(${library}): no ${entry} in the source tree")
    endif()
    foreach(path IN LISTS paths)
      get_filename_component(parent ${root}/${path} DIRECTORY)
      file(MAKE_DIRECTORY ${parent})
      file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${path} ${root}/${path} SYMBOLIC)
    endforeach()
  endforeach()
  target_include_directories(${library} PUBLIC ${root})
endfunction()

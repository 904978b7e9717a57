cmake_minimum_required(VERSION 3.20)  # IN_LIST, and the policies of the project

# Refuses an #include "..." that points up the layer stack, naming file and line.
#
#   cmake -DSOURCE_ROOT=<dir holding core/, routing/, ...> -P check_layers.cmake
#
# The layers, each with what it may include besides itself. This list is the order the README's
# Layout section documents and gateway/CMakeLists.txt links; change all three together.
set(uses_core     "")
set(uses_routing  "core")
set(uses_config   "routing;core")
set(uses_observe  "config;routing;core")
set(uses_io       "core")
set(uses_upstream "io;observe;config;routing;core")
set(uses_pipeline "upstream;io;observe;config;routing;core")
set(uses_server   "pipeline;upstream;io;observe;config;routing;core")
set(layers core routing config observe io upstream pipeline server)
# gateway/version.hpp is generated from the project's version: constants, no dependencies.
set(everywhere gateway)

if(NOT SOURCE_ROOT)
  message(FATAL_ERROR "check_layers: pass -DSOURCE_ROOT=<dir>")
endif()

set(problems "")
set(unknown_directories "")
string(REPLACE ";" ", " known_layers "${layers}")
file(GLOB_RECURSE sources RELATIVE ${SOURCE_ROOT} ${SOURCE_ROOT}/*.hpp ${SOURCE_ROOT}/*.cpp)
list(SORT sources)
foreach(source IN LISTS sources)
  string(REGEX MATCH "^[^/]+" layer "${source}")
  if(NOT layer IN_LIST layers)
    if(source MATCHES "/" AND NOT layer IN_LIST unknown_directories)
      list(APPEND unknown_directories ${layer})
      string(APPEND problems
        "${source}: '${layer}/' is no layer (known: ${known_layers}); add it to this list first\n")
    endif()
    continue()
  endif()
  file(STRINGS ${SOURCE_ROOT}/${source} lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      continue()
    endif()
    set(target "${CMAKE_MATCH_1}")
    string(REGEX MATCH "^[^/]+" target_layer "${target}")
    if(target_layer STREQUAL layer OR target_layer IN_LIST uses_${layer}
       OR target_layer IN_LIST everywhere)
      continue()
    endif()
    if(uses_${layer} STREQUAL "")
      set(allowed "nothing but itself")
    else()
      string(REPLACE ";" ", " allowed "${uses_${layer}}")
    endif()
    string(APPEND problems
      "${source}:${number}: ${layer} may not include \"${target}\" (${layer} uses only: ${allowed})\n")
  endforeach()
endforeach()

if(problems)
  message("${problems}")
  message(FATAL_ERROR "check_layers: includes that point up the stack (see above)")
endif()

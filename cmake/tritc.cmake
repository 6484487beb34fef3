# tritc.cmake: compile neural-network models with tritc inside a CMake build.
#
#   include(path/to/tritc/cmake/tritc.cmake)       # or: find_package(tritc) (tritcConfig.cmake, beside this file)
#   tritc_add_model(digits MODEL models/digits.onnx TARGET cortex-m4 [PREFIX digits] [OPTIONS --kernel t5 ...])
#   target_link_libraries(firmware PRIVATE digits)  # then #include "model.h" and call <prefix>_run()
#
# tritc_add_model(<lib> MODEL <file or folder> [TARGET <tritc target>] [PREFIX <C prefix>] [OPTIONS <args>...])
# runs `tritc compile` on the model into ${CMAKE_CURRENT_BINARY_DIR}/tritc/<lib> and adds the static
# library <lib> built from what it writes (the folder's own CMakeLists.txt: C99, -ffp-contract=off,
# the target's defines, weights.S for a large model's weights.bin). TARGET defaults to host. OPTIONS
# go to tritc compile as they are (tritc compile --help lists them).
#
# When tritc runs: while CMake configures, so that the library's list of sources is the one tritc
# wrote (it depends on the model: the runtime files its layers call). The model's files are
# configure dependencies (CMAKE_CONFIGURE_DEPENDS), so the next build re-configures by itself when
# the model changes, and tritc runs again when the model's contents, the options or tritc's version
# changed (a stamp beside the output holds the command and the model's SHA-256); otherwise the
# generated folder is left alone and nothing is rebuilt.
#
# tritc itself: TRITC_COMMAND (a list: the program and its first arguments), by default node with this
# package's bin/tritc.js.

cmake_minimum_required(VERSION 3.13)
include_guard(GLOBAL)

get_filename_component(TRITC_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
file(READ "${TRITC_ROOT}/package.json" _tritc_package)
string(REGEX MATCH "\"version\": *\"([^\"]+)\"" _tritc_match "${_tritc_package}")
set(TRITC_VERSION "${CMAKE_MATCH_1}")
unset(_tritc_package)
unset(_tritc_match)

if(NOT TRITC_COMMAND)
  find_program(TRITC_NODE node)
  if(NOT TRITC_NODE)
    message(FATAL_ERROR "tritc: node (Node.js 20 or later) was not found on PATH; install it, or set TRITC_COMMAND to the tritc program")
  endif()
  set(TRITC_COMMAND "${TRITC_NODE}" "${TRITC_ROOT}/bin/tritc.js" CACHE STRING "tritc: the program and its first arguments")
endif()

function(tritc_add_model lib)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "MODEL;TARGET;PREFIX" "OPTIONS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tritc_add_model(${lib}): unexpected arguments ${ARG_UNPARSED_ARGUMENTS}; expected MODEL <file> [TARGET <target>] [PREFIX <name>] [OPTIONS <tritc compile options>...]")
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "tritc_add_model(${lib}): MODEL <file or folder> is required")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET host)
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "tritc_add_model(${lib}): the model ${model} does not exist")
  endif()
  if(IS_DIRECTORY "${model}")
    file(GLOB_RECURSE model_files LIST_DIRECTORIES false "${model}/*")
    list(FILTER model_files EXCLUDE REGEX "/\\.[^/]*$")
  else()
    set(model_files "${model}")
  endif()

  set(out "${CMAKE_CURRENT_BINARY_DIR}/tritc/${lib}")
  set(command ${TRITC_COMMAND} compile "${model}" --target "${ARG_TARGET}" -o "${out}")
  if(ARG_PREFIX)
    list(APPEND command --prefix "${ARG_PREFIX}")
  endif()
  list(APPEND command ${ARG_OPTIONS})

  # The stamp: tritc's version, the command and the model's contents.
  set(key "tritc ${TRITC_VERSION}\n${command}\n")
  foreach(f IN LISTS model_files)
    file(SHA256 "${f}" hash)
    string(APPEND key "${hash} ${f}\n")
  endforeach()
  set(stamp "${out}.stamp")
  set(old_key "")
  if(EXISTS "${stamp}")
    file(READ "${stamp}" old_key)
  endif()
  if(NOT old_key STREQUAL key OR NOT EXISTS "${out}/CMakeLists.txt")
    message(STATUS "tritc: compiling ${ARG_MODEL} for ${ARG_TARGET} into ${out}")
    file(REMOVE "${stamp}")
    execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "tritc_add_model(${lib}): tritc compile failed:\n${stderr}${stdout}")
    endif()
    file(WRITE "${stamp}" "${key}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${model_files} "${TRITC_ROOT}/package.json")

  set(TRITC_MODEL_TARGET "${lib}")
  add_subdirectory("${out}" "${CMAKE_CURRENT_BINARY_DIR}/tritc/${lib}-build")
endfunction()

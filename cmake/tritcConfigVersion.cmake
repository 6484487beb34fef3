# find_package(tritc <version>): tritc's version from its package.json; compatible when it is not
# older than the version asked for and has the same major version (CMake's SameMajorVersion rule).
file(READ "${CMAKE_CURRENT_LIST_DIR}/../package.json" _tritc_package)
string(REGEX MATCH "\"version\": *\"([^\"]+)\"" _tritc_match "${_tritc_package}")
set(PACKAGE_VERSION "${CMAKE_MATCH_1}")
set(PACKAGE_VERSION_COMPATIBLE TRUE)
if(PACKAGE_FIND_VERSION)
  string(REGEX MATCH "^[0-9]+" _tritc_major "${PACKAGE_VERSION}")
  if(PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION OR NOT _tritc_major EQUAL PACKAGE_FIND_VERSION_MAJOR)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  elseif(PACKAGE_VERSION VERSION_EQUAL PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()

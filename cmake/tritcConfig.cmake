# find_package(tritc): tritc's CMake module (tritc.cmake, which defines tritc_add_model()).
# Point CMake here with -Dtritc_DIR=<tritc>/cmake, or put the tritc package folder in CMAKE_PREFIX_PATH.
include("${CMAKE_CURRENT_LIST_DIR}/tritc.cmake")
set(tritc_VERSION "${TRITC_VERSION}")

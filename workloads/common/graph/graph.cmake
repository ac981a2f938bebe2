# The graph generators and CSR builder shared by pagerank and sssp. Included
# by each of their CMakeLists.txt; the guard makes the first one define it.
include_guard(GLOBAL)
find_package(OpenMP REQUIRED COMPONENTS CXX)
add_library(workload_graph STATIC
  ${CMAKE_CURRENT_LIST_DIR}/edge_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/graph_spec.cc
  ${CMAKE_CURRENT_LIST_DIR}/rmat_sampler.cc)
target_link_libraries(workload_graph PUBLIC workload_common OpenMP::OpenMP_CXX)
# The graph code is header templates run billions of times: unoptimized, a
# Debug (sanitizer) build of pagerank or sssp runs 20x slower, and its tests
# with it. Optimizing keeps the sanitizers' checks and the debug info.
target_compile_options(workload_graph PUBLIC $<$<CONFIG:Debug>:-O2>)

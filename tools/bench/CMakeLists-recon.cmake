# bench_recon: reconciliation benchmark on two in-memory sets (docs/protocol.md).
# Include from tools/bench/CMakeLists.txt: include(${CMAKE_CURRENT_LIST_DIR}/CMakeLists-recon.cmake)
add_executable(bench_recon ${CMAKE_CURRENT_LIST_DIR}/bench_recon.c)
target_link_libraries(bench_recon PRIVATE kz_protocol)

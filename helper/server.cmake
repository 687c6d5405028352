# SPDX-License-Identifier: MIT
# The render helper: cn_client (client library, used by the CLI and the plugin), cn_server
# (server, store, scheduler; no engine) and continuo-helper (with the real engine).
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)

file(GLOB CN_CLIENT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/client/*.c)
add_library(cn_client STATIC ${CN_CLIENT_SOURCES})
target_include_directories(cn_client PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/client)
target_link_libraries(cn_client PUBLIC cn_proto cn_audio PkgConfig::ZMQ m)
set_target_properties(cn_client PROPERTIES POSITION_INDEPENDENT_CODE ON)

file(GLOB CN_SERVER_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/server*.c
     ${CMAKE_CURRENT_SOURCE_DIR}/store*.c ${CMAKE_CURRENT_SOURCE_DIR}/jobs*.c)
list(REMOVE_ITEM CN_SERVER_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/jobs_engine.c)
add_library(cn_server STATIC ${CN_SERVER_SOURCES})
target_include_directories(cn_server PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}
                           ${CMAKE_CURRENT_SOURCE_DIR}/engine)
target_link_libraries(cn_server PUBLIC cn_client cn_proto PkgConfig::CJSON PkgConfig::ZMQ
                      Threads::Threads m)

# The daemon needs the engine's implementation; until helper/engine/engine.c exists the
# target is left out (the server, store and client still build and are tested).
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/engine/engine.c)
  add_executable(continuo-helper main.c jobs_engine.c)
  target_link_libraries(continuo-helper PRIVATE cn_server cn_engine)
  install(TARGETS continuo-helper DESTINATION bin)
else()
  message(STATUS "continuo: helper/engine/engine.c not there yet; continuo-helper not built")
endif()

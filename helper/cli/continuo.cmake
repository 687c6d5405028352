# SPDX-License-Identifier: MIT
# The `continuo` command-line client (helper/cli/*.c over cn_client).
file(GLOB CN_CLI_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cli/*.c)
add_executable(continuo ${CN_CLI_SOURCES})
target_link_libraries(continuo PRIVATE cn_client)
install(TARGETS continuo DESTINATION bin)

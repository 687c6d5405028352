# SPDX-License-Identifier: MIT
# continuo.lv2 in Ardour 7's headless Lua tool (ardour7-lua, Debian package ardour): a session
# saved with the plugin, reopened, state checked. Skipped (77) where ardour7-lua is missing.
if(NOT TARGET continuo_lv2)
  return()
endif()
add_test(NAME plugin_ardour COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/plugin/ardour_session.sh
         ${CMAKE_BINARY_DIR})
set_tests_properties(plugin_ardour PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS plugin
                     RESOURCE_LOCK ardour)

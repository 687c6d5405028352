# SPDX-License-Identifier: MIT
# Converter tests: tests/convert/test_convert.py (stdlib unittest) against the built continuo-convert.
add_test(NAME convert COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/convert/test_convert.py)
set_tests_properties(convert PROPERTIES ENVIRONMENT
  "CN_SOURCE_DIR=${CMAKE_SOURCE_DIR};CN_BINARY_DIR=${CMAKE_BINARY_DIR}")

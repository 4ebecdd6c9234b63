# Writes each C++ example of README.md to OUT_DIR/<name>.inc, where
# readme_examples_test.cc includes it, so that an example that no longer
# compiles, or no longer does what README says, fails the build or a test.
#
#   cmake -DREADME=README.md -DOUT_DIR=dir "-DNAMES=a;b" -P extract_snippets.cmake
#
# An example is a ```cpp block whose line before is `<!-- snippet: NAME -->`
# (an HTML comment, which Markdown does not show). A ```cpp block without one
# is an error: every C++ example in README is compiled. So is a name in NAMES
# that README does not have, or one README has that NAMES does not list.
# Each file starts with a #line directive, so that a compiler error points at
# README's own line.
#
# Written with CMake's string commands, not a list: C++ is full of the
# semicolons CMake's lists split on.

cmake_minimum_required(VERSION 3.25)

if(NOT README OR NOT OUT_DIR)
  message(FATAL_ERROR "extract_snippets.cmake: set README and OUT_DIR")
endif()

file(READ "${README}" rest)
file(MAKE_DIRECTORY "${OUT_DIR}")
set(fence_open "\n```cpp\n")
string(LENGTH "${fence_open}" fence_open_length)
set(line 1)  # README's line at the start of `rest`
set(found "")

while(TRUE)
  string(FIND "${rest}" "${fence_open}" at)
  if(at EQUAL -1)
    break()
  endif()
  string(SUBSTRING "${rest}" 0 ${at} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines n)
  math(EXPR fence_line "${line} + ${n} + 1")

  # The marker is the last line before the fence.
  string(FIND "${before}" "\n" marker_start REVERSE)
  math(EXPR marker_start "${marker_start} + 1")
  string(SUBSTRING "${before}" ${marker_start} -1 marker)
  if(NOT marker MATCHES "^<!-- snippet: ([a-z0-9_]+) -->$")
    message(FATAL_ERROR
      "${README}:${fence_line}: a ```cpp block needs a line "
      "`<!-- snippet: NAME -->` before it, and a test in "
      "tests/docs/readme_examples_test.cc that includes NAME.inc")
  endif()
  set(name "${CMAKE_MATCH_1}")
  if(name IN_LIST found)
    message(FATAL_ERROR "${README}:${fence_line}: snippet '${name}' twice")
  endif()
  list(APPEND found "${name}")

  math(EXPR body_start "${at} + ${fence_open_length}")
  string(SUBSTRING "${rest}" ${body_start} -1 rest)
  string(FIND "${rest}" "\n```" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${README}:${fence_line}: ```cpp block never closed")
  endif()
  math(EXPR body_length "${end} + 1")
  string(SUBSTRING "${rest}" 0 ${body_length} body)
  math(EXPR body_line "${fence_line} + 1")
  file(WRITE "${OUT_DIR}/${name}.inc"
       "#line ${body_line} \"${README}\"\n${body}")

  string(SUBSTRING "${rest}" ${body_length} -1 rest)
  string(REGEX MATCHALL "\n" newlines "${body}")
  list(LENGTH newlines n)
  math(EXPR line "${body_line} + ${n}")
endwhile()

foreach(name IN LISTS NAMES)
  if(NOT name IN_LIST found)
    message(FATAL_ERROR
      "${README}: no snippet '${name}' (no `<!-- snippet: ${name} -->` line)")
  endif()
endforeach()
foreach(name IN LISTS found)
  if(NOT name IN_LIST NAMES)
    message(FATAL_ERROR
      "${README}: snippet '${name}' is tested nowhere: add it to "
      "tests/docs/CMakeLists.txt and include it in readme_examples_test.cc")
  endif()
endforeach()

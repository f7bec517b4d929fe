# Copies the C++ block that follows the "compiled and run as a test" marker in
# README.md to OUTPUT, so that the README's example is built and run by the
# tests. Usage: cmake -DREADME=... -DOUTPUT=... -P extract.cmake
file(READ "${README}" text)
string(FIND "${text}" "compiled and run as a test" marker)
if(marker EQUAL -1)
  message(FATAL_ERROR "README.md has no example marked as compiled and run as a test")
endif()
string(SUBSTRING "${text}" ${marker} -1 text)
string(FIND "${text}" "```cpp\n" start)
string(SUBSTRING "${text}" ${start} -1 text)
string(LENGTH "```cpp\n" fence)
string(SUBSTRING "${text}" ${fence} -1 text)
string(FIND "${text}" "```" end)
string(SUBSTRING "${text}" 0 ${end} code)
file(WRITE "${OUTPUT}.new" "// Extracted from README.md by tests/readme/extract.cmake.\n${code}")
file(COPY_FILE "${OUTPUT}.new" "${OUTPUT}" ONLY_IF_DIFFERENT)

# Writes OUT: a C++ file defining sentinel::openapi_document() with the bytes of IN.
file(READ ${IN} CONTENT HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${CONTENT}")
file(WRITE ${OUT} "// Generated from docs/openapi.json by embed_openapi.cmake; do not edit.\n#include <string_view>\nnamespace sentinel {\nnamespace { const unsigned char kBytes[] = {${BYTES} 0}; }\nstd::string_view openapi_document() { return {reinterpret_cast<const char*>(kBytes), sizeof kBytes - 1}; }\n}  // namespace sentinel\n")

# EmbedFile.cmake — turn a text file into a C array (cmake -DIN=file -DOUT=file.c -P EmbedFile.cmake).
file(READ "${IN}" _hex HEX)
string(LENGTH "${_hex}" _len)
math(EXPR _n "${_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
file(WRITE "${OUT}" "/* generated from ${IN}; do not edit */\n#include <stddef.h>\nconst char sli_workflow_xsd[] = {${_bytes} 0};\nconst size_t sli_workflow_xsd_len = ${_n};\n")

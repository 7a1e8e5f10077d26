# Which allocator each binary runs with (CMakeLists.txt, "Allocator"): mimalloc announces itself
# on standard error when MIMALLOC_VERBOSE is set, so a binary that really allocates with it says
# so, and one that does not stays silent. The pre-push hook must stay with the C library's
# allocator (start-up cost); validate and env use mimalloc when the build linked it.
# cmake -DBIN_DIR=... -DLINKED=ON|OFF -DMIMALLOC_BINARIES="a;b" -P allocator.cmake
cmake_minimum_required(VERSION 3.18)
set(ENV{MIMALLOC_VERBOSE} 1)
set(failures "")
foreach(name git-dataops-hooks ${MIMALLOC_BINARIES})
  execute_process(COMMAND ${BIN_DIR}/${name} -h RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(APPEND failures "${name} -h exited with ${rc}\n")
  endif()
  string(FIND "${err}" "mimalloc:" at)
  set(expected OFF)
  if(LINKED AND name IN_LIST MIMALLOC_BINARIES)
    set(expected ON)
  endif()
  if(expected AND at EQUAL -1)
    string(APPEND failures "${name} does not allocate with mimalloc, which the build linked\n")
  elseif(NOT expected AND NOT at EQUAL -1)
    string(APPEND failures "${name} allocates with mimalloc, which it must not\n")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "${failures}")
endif()

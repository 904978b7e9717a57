# The layer scan must pass a tree whose includes point down and refuse one with an upward
# include, naming the file and line. Run with -DSCANNER=... -DWORK_DIR=...
file(REMOVE_RECURSE ${WORK_DIR})
file(WRITE ${WORK_DIR}/core/text.hpp "#pragma once\n")
file(WRITE ${WORK_DIR}/pipeline/stage.hpp "#pragma once\n#include \"upstream/pool.hpp\"\n")
file(WRITE ${WORK_DIR}/upstream/pool.hpp "#pragma once\n#include <vector>\n#include \"io/stream.hpp\"\n")
file(WRITE ${WORK_DIR}/io/stream.hpp "#pragma once\n#include \"core/text.hpp\"\n")

execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_ROOT=${WORK_DIR} -P ${SCANNER}
                RESULT_VARIABLE clean_rc OUTPUT_VARIABLE clean_out ERROR_VARIABLE clean_out)
if(NOT clean_rc EQUAL 0)
  message(FATAL_ERROR "a tree with only downward includes was refused:\n${clean_out}")
endif()

# io sits below upstream and pipeline: line 3 points up.
file(WRITE ${WORK_DIR}/io/stream.cpp
  "#include \"io/stream.hpp\"\n#include <string>\n#include \"pipeline/stage.hpp\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_ROOT=${WORK_DIR} -P ${SCANNER}
                RESULT_VARIABLE upward_rc OUTPUT_VARIABLE upward_out ERROR_VARIABLE upward_out)
if(upward_rc EQUAL 0)
  message(FATAL_ERROR "an upward include (io -> pipeline) was not refused:\n${upward_out}")
endif()
string(FIND "${upward_out}" "io/stream.cpp:3: io may not include \"pipeline/stage.hpp\"" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the refusal does not name io/stream.cpp:3 and the include:\n${upward_out}")
endif()
message(STATUS "refused as expected:\n${upward_out}")

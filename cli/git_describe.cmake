# Run at every build (cmake -P): writes probe_git_describe.h with the source
# tree's `git describe`, empty when not built from git, and touches it only
# when that changed, so a rebuild recompiles nothing otherwise.
set(describe "")
# Only the source tree's own git (a .git directory, or a worktree's .git
# file), never a repository that merely contains an unpacked tarball.
if(EXISTS "${SRC}/.git")
  execute_process(COMMAND git -C "${SRC}" describe --tags --always --dirty
                  OUTPUT_VARIABLE describe ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    set(describe "")
  endif()
endif()
file(WRITE "${OUT}.tmp" "#define PROBE_GIT_DESCRIBE \"${describe}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")

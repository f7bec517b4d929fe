# Compiler settings that apply to rill's own targets only (PRIVATE), never to
# the targets of a project that embeds rill.

# rill_apply_warnings(target): the warning set rill's code is kept clean under.
function(rill_apply_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
    -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 at -O3 reports impossible overlaps and null pointers inside
    # std::string's inlined code (GCC bugs 105329, 105580); these warnings
    # say nothing about rill's code there.
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-null-dereference)
  endif()
  if(RILL_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# rill_apply_sanitizers(target): instruments a target with RILL_SANITIZE.
function(rill_apply_sanitizers target)
  if(RILL_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${RILL_SANITIZE}
      -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${RILL_SANITIZE})
    if(RILL_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC warns that TSan does not model atomic_thread_fence. rill's fences
      # order atomics only (the consumer wake-up protocol), which TSan sees.
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
endfunction()

# rill_setup_target(target): warnings and sanitizers for one of rill's targets.
function(rill_setup_target target)
  rill_apply_warnings(${target})
  rill_apply_sanitizers(${target})
endfunction()

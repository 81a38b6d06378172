# One interface target carries the project's warning and sanitizer flags; every
# library and executable links it, so the policy lives in one place.
add_library(gpu_agent_settings INTERFACE)
target_compile_options(gpu_agent_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
if(GPU_AGENT_WERROR)
  target_compile_options(gpu_agent_settings INTERFACE -Werror)
endif()
if(GPU_AGENT_SANITIZE)
  target_compile_options(gpu_agent_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(gpu_agent_settings INTERFACE -fsanitize=address,undefined)
endif()

# gpu_agent_version.h: GPU_AGENT_VERSION from the VERSION file. Only the
# targets that print the version add GPU_AGENT_GENERATED_DIR to their include
# path (the others' compile lines, and so their ccache entries, stay the same).
set(GPU_AGENT_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
configure_file(${PROJECT_SOURCE_DIR}/cmake/gpu_agent_version.h.in
               ${GPU_AGENT_GENERATED_DIR}/gpu_agent_version.h @ONLY)

if(GPU_AGENT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "GPU_AGENT_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14, or scripts/fuzz.sh")
  endif()
  # Coverage for libFuzzer in every object; the fuzz targets add -fsanitize=fuzzer (its main).
  # UBSan stays recoverable so tests/fuzz/ubsan.supp can silence third-party
  # reports; scripts/fuzz.sh sets halt_on_error=1, so anything else still stops the run.
  target_compile_options(gpu_agent_settings INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(gpu_agent_settings INTERFACE -fsanitize=address,undefined)
endif()

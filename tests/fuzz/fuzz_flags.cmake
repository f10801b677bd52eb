# Flags of the fuzz build (-DVAXLEDGER_FUZZ=ON, clang only): every library is compiled with
# libFuzzer's coverage instrumentation, AddressSanitizer and UndefinedBehaviorSanitizer (any
# undefined behaviour aborts), optimised a little, with assertions on and line tables for stack
# traces. The fuzz executables add -fsanitize=fuzzer when linking (tests/fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "VAXLEDGER_FUZZ needs clang (CXX=clang++): libFuzzer is part of clang")
endif()
set(CMAKE_CXX_FLAGS_RELEASE "-O1 -gline-tables-only")
set(VX_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=all)
add_compile_options(${VX_SANITIZERS} -fsanitize=fuzzer-no-link -fno-omit-frame-pointer)
add_link_options(${VX_SANITIZERS})

# Runs one libFuzzer target for ctest (tests/fuzz/CMakeLists.txt), with ved's limits: a
# 5 s timeout per input and 1 GiB of memory; a crash, sanitizer report, timeout or
# out-of-memory fails the test. libFuzzer prints the input that failed.
#   MODE=replay   each file in REGRESSIONS once (inputs that crashed before and were fixed)
#   MODE=explore  SECONDS of fuzzing from CORPUS and REGRESSIONS; new inputs go to WORK
#
#   cmake -DMODE=replay -DFUZZER=build-checked/tests/fuzz/fuzz_npy \
#         -DREGRESSIONS=tests/fuzz/regressions/fuzz_npy -P tests/fuzz/run_fuzzer.cmake
# libhdf5 sizes metadata buffers from a file's headers before checking them against the
# file's end, so a corrupt header can make it malloc gigabytes (or 2^64 bytes) that it
# never touches. Such mallocs return NULL here and HDF5 reports an error; ved's own
# allocations over 1 GiB still abort (operator new reports out-of-memory, Eigen throws
# std::bad_alloc, which no target catches).
set(ENV{ASAN_OPTIONS} "detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024")
set(ENV{UBSAN_OPTIONS} "halt_on_error=1:print_stacktrace=1")
# Leaks inside libhdf5 on corrupt files are HDF5's (tests/lsan.supp says which).
get_filename_component(supp "${CMAKE_CURRENT_LIST_DIR}/../lsan.supp" ABSOLUTE)
set(ENV{LSAN_OPTIONS} "suppressions=${supp}:print_suppressions=0")
# `make test-fuzz FUZZ_SECONDS=600` sets the fuzzing time through the environment.
if(DEFINED ENV{VED_FUZZ_SECONDS})
  set(SECONDS $ENV{VED_FUZZ_SECONDS})
endif()
set(limits -timeout=5 -rss_limit_mb=1024 -malloc_limit_mb=1024)

if(MODE STREQUAL "replay")
  # Strict: a kept input that crashes inside libhdf5 fails too (fuzz_util.hpp); only
  # exploring skips HDF5's own faults.
  set(ENV{VED_FUZZ_STRICT} 1)
  file(GLOB inputs LIST_DIRECTORIES false "${REGRESSIONS}/*")
  if(NOT inputs)
    message(STATUS "${REGRESSIONS}: no regression inputs")
    return()
  endif()
  list(LENGTH inputs n)
  # Inputs on which libhdf5 itself reads out of bounds under AddressSanitizer before ved
  # can check anything (docs/reliability.md): listed, with the reason, in
  # libhdf5_faults.txt beside the inputs. They replay without strict mode (a fault inside
  # libhdf5 is skipped; one in ved's code still fails), the others strictly.
  set(known "")
  if(EXISTS ${REGRESSIONS}/../libhdf5_faults.txt)
    file(STRINGS ${REGRESSIONS}/../libhdf5_faults.txt lines REGEX "^[^#]")
    get_filename_component(target_name ${REGRESSIONS} NAME)
    foreach(line ${lines})
      string(REGEX MATCH "^${target_name}/([^ ]+)" m "${line}")
      if(m)
        list(APPEND known ${REGRESSIONS}/${CMAKE_MATCH_1})
      endif()
    endforeach()
  endif()
  set(strict_inputs ${inputs})
  if(known)
    list(REMOVE_ITEM strict_inputs ${known})
    set(ENV{VED_FUZZ_STRICT} 0)
    execute_process(COMMAND ${FUZZER} ${limits} ${known} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${FUZZER}: a known-libhdf5-fault input failed outside libhdf5 (exit ${rc})")
    endif()
    set(ENV{VED_FUZZ_STRICT} 1)
  endif()
  if(strict_inputs)
    execute_process(COMMAND ${FUZZER} ${limits} ${strict_inputs} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${FUZZER}: a regression input failed (exit ${rc})")
    endif()
  endif()
  message(STATUS "${FUZZER}: ${n} regression inputs handled")
elseif(MODE STREQUAL "explore")
  file(MAKE_DIRECTORY ${WORK})
  set(dirs ${WORK} ${CORPUS})
  if(IS_DIRECTORY ${REGRESSIONS})
    list(APPEND dirs ${REGRESSIONS})
  endif()
  execute_process(COMMAND ${FUZZER} ${limits} -max_total_time=${SECONDS} -print_final_stats=1
                          -artifact_prefix=${ARTIFACTS} ${dirs}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER}: found a failing input (exit ${rc}); it was saved as ${ARTIFACTS}*")
  endif()
else()
  message(FATAL_ERROR "MODE must be replay or explore")
endif()

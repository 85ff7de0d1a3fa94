#pragma once
// Force-included into fuzz_config (tests/fuzz/CMakeLists.txt): toml++'s internal
// assertions off, the rest of the build's assertions on.
#define TOML_ASSERT(expr) static_cast<void>(0)

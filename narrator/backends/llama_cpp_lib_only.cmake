# Read by CMake when llama-cpp-python's build enters the vendored llama.cpp project (the Makefile passes it as
# CMAKE_PROJECT_llama.cpp_INCLUDE). The Python binding loads only libllama and libggml; llama-cpp-python forces
# llama.cpp's "common" library on (argument parsing, chat parsers, an HTTP client for downloads), which nothing
# here loads and which is the slowest part of a fresh machine's setup. A normal variable set here shadows that
# forced cache entry inside the llama.cpp directory, so common and its HTTP library are neither built nor installed.
set(LLAMA_BUILD_COMMON OFF)

// The main() of every rill test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

// Unit tests of the placement library: pure code only, no network.
#define BOOST_TEST_MODULE placement
#include <boost/test/unit_test.hpp>

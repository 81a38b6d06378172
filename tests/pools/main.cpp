#define BOOST_TEST_MODULE pools
#include <boost/test/unit_test.hpp>

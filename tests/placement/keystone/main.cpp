#define BOOST_TEST_MODULE keystone_integration
#include <boost/test/unit_test.hpp>

#define BOOST_TEST_MODULE doctor
#include <boost/test/unit_test.hpp>

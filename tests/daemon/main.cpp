#define BOOST_TEST_MODULE report_integration
#include <boost/test/unit_test.hpp>

#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include <cstdlib>

// Without --config the binary reads $GPU_AGENT_CONFIG, else
// /etc/gpu-agent/gpu-agent.conf: a file that never exists here (CTest sets the
// same), so a package installed on this machine does not change the results.
struct NoDefaultConfig {
  NoDefaultConfig() { ::setenv("GPU_AGENT_CONFIG", "/nonexistent/gpu-agent-tests/gpu-agent.conf", 0); }
};
BOOST_TEST_GLOBAL_FIXTURE(NoDefaultConfig);

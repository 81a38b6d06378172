// for_each_index: every index once, on as many threads as asked, and an
// exception from one index reaches the caller after all threads stopped.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "parallel.h"

using namespace gpu_agent;

BOOST_AUTO_TEST_SUITE(parallel)

BOOST_AUTO_TEST_CASE(every_index_once_on_up_to_the_threads_asked) {
  for (unsigned threads : {1u, 2u, 4u}) {
    std::vector<std::atomic<int>> hits(1000);
    std::mutex lock;
    std::set<std::thread::id> ids;
    for_each_index(hits.size(), threads, [&](size_t i) {
      ++hits[i];
      std::lock_guard<std::mutex> hold(lock);
      ids.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < hits.size(); ++i) BOOST_TEST(hits[i] == 1, "index " << i << ", " << threads << " threads");
    BOOST_TEST(ids.size() <= threads);
    if (threads == 1) BOOST_TEST((ids == std::set<std::thread::id>{std::this_thread::get_id()}));  // no thread started
  }
}

BOOST_AUTO_TEST_CASE(nothing_to_do_starts_no_thread) {
  int calls = 0;
  for_each_index(0, 4, [&](size_t) { ++calls; });
  BOOST_TEST(calls == 0);
  for_each_index(1, 4, [&](size_t i) { calls += static_cast<int>(i) + 1; });
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(an_exception_reaches_the_caller) {
  std::atomic<int> done{0};
  BOOST_CHECK_THROW(for_each_index(100, 3,
                                   [&](size_t i) {
                                     if (i == 10) throw std::runtime_error("index 10");
                                     ++done;
                                   }),
                    std::runtime_error);
  BOOST_TEST(done < 100);
}

BOOST_AUTO_TEST_CASE(read_threads_is_between_one_and_four) {
  BOOST_TEST(read_threads() >= 1u);
  BOOST_TEST(read_threads() <= 4u);
}

BOOST_AUTO_TEST_SUITE_END()

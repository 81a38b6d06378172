// Files are replaced whole or not at all: the new content, or the old file
// and no temp file left behind.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <string>

#include "atomic_file.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent;
using gpu_agent::testing::TempDir;

BOOST_AUTO_TEST_SUITE(atomic_file)

BOOST_AUTO_TEST_CASE(writes_then_replaces_whole) {
  TempDir dir;
  const std::string path = dir.path() + "/out.conf";
  BOOST_TEST_REQUIRE(write_file_atomically(path, "first\n").ok());
  BOOST_TEST(gpu_agent::testing::read_text_file(path) == "first\n");
  BOOST_TEST_REQUIRE(write_file_atomically(path, "second\n").ok());
  BOOST_TEST(gpu_agent::testing::read_text_file(path) == "second\n");
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_the_old_file_and_no_temp) {
  TempDir dir;
  const std::string path = dir.path() + "/out.conf";
  BOOST_TEST_REQUIRE(write_file_atomically(path, "old\n").ok());
  // A directory where the file should go: the rename fails after the temp file was written.
  const std::string blocked = dir.path() + "/blocked";
  BOOST_TEST_REQUIRE(::mkdir(blocked.c_str(), 0755) == 0);
  BOOST_TEST_REQUIRE(::mkdir((blocked + "/x").c_str(), 0755) == 0);
  auto r = write_file_atomically(blocked, "new\n");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find(blocked) != std::string::npos, r.error().message);
  BOOST_TEST((r.error().kind == ErrorKind::io));
  struct stat st {};
  BOOST_TEST(::stat((blocked + ".tmp." + std::to_string(::getpid())).c_str(), &st) != 0);
  // A missing directory: not_found, naming the temp path.
  auto missing = write_file_atomically(dir.path() + "/no/such/file", "x");
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST((missing.error().kind == ErrorKind::not_found));
  BOOST_TEST(gpu_agent::testing::read_text_file(path) == "old\n");
}

BOOST_AUTO_TEST_CASE(an_explicit_mode_wins_over_the_umask) {
  TempDir dir;
  const std::string path = dir.path() + "/gpu_agent.prom";
  const mode_t old = ::umask(0077);
  const bool written = write_file_atomically(path, "x 1\n", 0644).ok();
  const bool defaulted = write_file_atomically(path + ".2", "x 1\n").ok();
  ::umask(old);
  BOOST_TEST_REQUIRE(written);
  BOOST_TEST_REQUIRE(defaulted);
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0644u);
  BOOST_TEST_REQUIRE(::stat((path + ".2").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);  // 0644 less the umask
}

BOOST_AUTO_TEST_SUITE_END()

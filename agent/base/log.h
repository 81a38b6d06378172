#pragma once
// One line per event on stderr (journald adds its own timestamps, but a
// foreground run and the tests read these): "LEVEL message". Callers never
// pass secrets; the HTTP client redacts tokens in its own traces.
#include <ostream>
#include <string>

namespace gpu_agent {

class Log {
 public:
  enum class Level { debug, info, warning, error };
  explicit Log(std::ostream& out, Level min = Level::info) : out_(out), min_(min) {}
  void debug(const std::string& m) { write(Level::debug, m); }
  void info(const std::string& m) { write(Level::info, m); }
  void warning(const std::string& m) { write(Level::warning, m); }
  void error(const std::string& m) { write(Level::error, m); }
  void set_level(Level l) { min_ = l; }
  bool enabled(Level l) const { return l >= min_; }

 private:
  void write(Level l, const std::string& m);
  std::ostream& out_;
  Level min_;
};

}  // namespace gpu_agent

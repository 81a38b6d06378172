#include "log.h"

#include <ctime>

namespace gpu_agent {

void Log::write(Level l, const std::string& m) {
  if (l < min_) return;
  static constexpr const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out_ << ts << " " << names[static_cast<int>(l)] << " " << m << "\n";
  out_.flush();
}

}  // namespace gpu_agent

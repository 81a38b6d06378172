#pragma once
// Files that are never seen half-written: nova reading a snippet, the daemon
// reading its state after a power loss, a bug report's capture.
#include <string>

#include "result.h"

namespace gpu_agent {

// Writes TEXT to PATH through PATH.tmp.PID: write, fsync, rename over PATH,
// fsync the directory. Readers see all of the new file or the old one; on
// failure the temp file is removed and PATH is untouched. Errors are
// ErrorKind::io (or not_found for a missing directory) naming the path.
Result<bool> write_file_atomically(const std::string& path, const std::string& text);

}  // namespace gpu_agent

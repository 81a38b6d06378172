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
// The same, and the file gets exactly MODE (e.g. 0644), whatever the umask:
// a file another user reads (node_exporter's textfile collector, `gpu-agent
// status` run by an operator) under a daemon with UMask=0077. MODE 0 is the
// two-argument form.
Result<bool> write_file_atomically(const std::string& path, const std::string& text, unsigned mode);

}  // namespace gpu_agent

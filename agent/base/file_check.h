#pragma once
// Files the operator names (the config, nova.conf, a cafile, state.json) are
// checked before they are read: a directory, FIFO, socket or device would
// otherwise read as empty (or block), and an empty file would parse as "all
// defaults". The errors name the path and what it is.
#include <string>

#include "result.h"

namespace gpu_agent {

// What is at PATH, in words: "a directory", "a FIFO", "a socket", "a
// character device", "a block device", "a regular file", or "" when stat fails.
std::string file_type_words(const std::string& path);

// PATH is a regular file (symlinks followed) that this process may read.
// Errors: not_found (missing), io (unreadable: says which user and how to fix),
// bad_input ("PATH is a directory, not a file").
// WHAT names the file's role in messages ("config file", "cafile").
Result<bool> check_readable_file(const std::string& path, const std::string& what);

// The text of a file checked as above, for small files (configs, state).
// With allow_empty = false an empty file is an error naming it.
Result<std::string> read_checked_file(const std::string& path, const std::string& what, bool allow_empty);

}  // namespace gpu_agent

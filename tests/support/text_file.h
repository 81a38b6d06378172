#pragma once
// Whole-file reads and writes for fixtures and golden files, and the one
// switch that turns golden comparisons into rewrites.
#include <string>

namespace gpu_agent::testing {

std::string read_text_file(const std::string& path);  // throws std::runtime_error when unreadable
void write_text_file(const std::string& path, const std::string& text);
bool file_exists(const std::string& path);

// GPU_AGENT_REGENERATE=1: tests rewrite golden files and committed fixtures instead of comparing.
bool regenerate_requested();

// Empty when equal, else the first line that differs, both versions shown.
std::string first_difference(const std::string& expected, const std::string& actual);

// Compare `actual` with the golden file; when regenerating, write it instead.
// Returns an empty string when they match, else what differs (first differing line).
std::string check_golden(const std::string& path, const std::string& actual);

}  // namespace gpu_agent::testing

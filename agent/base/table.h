#pragma once
// The one way a text table is laid out (gpu-agent inventory's GPU, mdev type
// and vGPU type tables):
//
//   TextTable t({{"ADDRESS", 12}, {"ID", 9}, {"NAME"}});
//   t.add_row({"0000:41:00.0", "10de:2235", "NVIDIA Corporation GA102GL [A40]"});
//   out << t.render();
//
//   ADDRESS       ID         NAME
//   0000:41:00.0  10de:2235  NVIDIA Corporation GA102GL [A40]
//
// A column is as wide as its widest cell (header included), and at least its
// min_width; columns are separated by `gap` spaces. Width counts characters,
// not bytes: a UTF-8 sequence is one column (an invalid byte is one too).
// No line ends in padding (the last column is not padded, nor are empty
// cells at the end of a row). Every line, header included, starts with
// `indent` and ends with "\n".
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gpu_agent {

class TextTable {
 public:
  enum class Align { left, right };
  struct Column {
    std::string header;  // empty in every column: no header line
    size_t min_width = 0;
    Align align = Align::left;
  };

  explicit TextTable(std::vector<Column> columns, std::string indent = "", size_t gap = 2);

  // Fewer cells than columns: the rest are empty. More: a programming error
  // (the extra cells are dropped).
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The header line (when a column has a header) and one line per row.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::string indent_;
  size_t gap_;
  std::vector<std::vector<std::string>> rows_;
};

// Terminal columns of UTF-8 text: one per character (each invalid byte counts one).
size_t text_width(std::string_view s);

}  // namespace gpu_agent

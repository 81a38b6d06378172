#include "table.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "parse.h"

namespace gpu_agent {

size_t text_width(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size(); ++width) {
    const size_t n = utf8_sequence(s, i);
    i += n ? n : 1;
  }
  return width;
}

TextTable::TextTable(std::vector<Column> columns, std::string indent, size_t gap)
    : columns_(std::move(columns)), indent_(std::move(indent)), gap_(gap) {}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::render() const {
  const bool header = std::any_of(columns_.begin(), columns_.end(), [](const Column& c) { return !c.header.empty(); });
  std::vector<size_t> widths;
  for (size_t c = 0; c < columns_.size(); ++c) {
    size_t w = std::max(columns_[c].min_width, header ? text_width(columns_[c].header) : 0);
    for (const auto& row : rows_) w = std::max(w, text_width(row[c]));
    widths.push_back(w);
  }
  std::string out;
  const auto line = [&](auto cell_of) {
    out += indent_;
    size_t end = out.size();  // after the last cell with text: the padding after it goes
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_of(c);
      const size_t fill = widths[c] - text_width(cell);
      if (columns_[c].align == Align::right) out.append(fill, ' ');
      out += cell;
      if (!cell.empty()) end = out.size();
      if (columns_[c].align == Align::left) out.append(fill, ' ');
      out.append(gap_, ' ');
    }
    out.resize(end);
    out += '\n';
  };
  if (header) line([&](size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_) line([&](size_t c) -> const std::string& { return row[c]; });
  return out;
}

}  // namespace gpu_agent

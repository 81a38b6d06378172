// TextTable: widths from the cells (header included) with a minimum, left and
// right alignment, characters not bytes, no padding at the end of a line.
#include <boost/test/unit_test.hpp>

#include <string>

#include "table.h"

using namespace gpu_agent;

BOOST_AUTO_TEST_SUITE(table)

BOOST_AUTO_TEST_CASE(widths_come_from_the_widest_cell) {
  TextTable t({{"ADDRESS"}, {"ID"}, {"NAME"}});
  t.add_row({"0000:41:00.0", "10de:2235", "NVIDIA A40"});
  t.add_row({"0000:c1:00.0", "1", "x"});
  BOOST_TEST(t.render() ==
             "ADDRESS       ID         NAME\n"
             "0000:41:00.0  10de:2235  NVIDIA A40\n"
             "0000:c1:00.0  1          x\n");
}

BOOST_AUTO_TEST_CASE(min_width_holds_until_a_cell_is_wider) {
  TextTable t({{"A", 6}, {"B", 3}, {"C"}});
  t.add_row({"ab", "much wider", "end"});
  BOOST_TEST(t.render() ==
             "A       B           C\n"
             "ab      much wider  end\n");
}

BOOST_AUTO_TEST_CASE(header_is_counted_and_left_out_when_there_is_none) {
  TextTable with({{"LONG HEADER"}, {"X"}});
  with.add_row({"a", "b"});
  BOOST_TEST(with.render() == "LONG HEADER  X\na            b\n");
  TextTable without({{}, {}}, "    ", 1);
  without.add_row({"a", "b"});
  without.add_row({"ccc", "d"});
  BOOST_TEST(without.render() == "    a   b\n    ccc d\n");
}

BOOST_AUTO_TEST_CASE(right_alignment) {
  TextTable t({{"NAME"}, {"COUNT", 0, TextTable::Align::right}, {"MIB", 0, TextTable::Align::right}});
  t.add_row({"a40", "2", "49152"});
  t.add_row({"t4", "16", "0"});
  BOOST_TEST(t.render() ==
             "NAME  COUNT    MIB\n"
             "a40       2  49152\n"
             "t4       16      0\n");
}

BOOST_AUTO_TEST_CASE(empty_cells_and_short_rows) {
  TextTable t({{"A"}, {"B"}, {"C"}});
  t.add_row({"", "", ""});
  t.add_row({"x"});  // B and C empty
  t.add_row({"", "yy", "z"});
  BOOST_TEST(t.render() ==
             "A  B   C\n"
             "\n"  // no padding after the last cell with text
             "x\n"
             "   yy  z\n");
  BOOST_TEST(TextTable({{"A"}}).render() == "A\n");
  BOOST_TEST(TextTable({TextTable::Column{}}).render() == "");  // no header, no rows
}

BOOST_AUTO_TEST_CASE(utf8_cells_count_characters_not_bytes) {
  TextTable t({{"NAME"}, {"X"}});
  t.add_row(
      {"Gr\xc3\xbc\xc3\x9f"
       "e",
       "1"});                           // Grüße: 5 characters, 7 bytes
  t.add_row({"\xe2\x9c\x97 no", "2"});  // ✗ no: 4 characters, 6 bytes
  t.add_row({"ab\xff", "3"});           // an invalid byte counts one
  BOOST_TEST(t.render() ==
             "NAME   X\n"
             "Gr\xc3\xbc\xc3\x9f"
             "e  1\n"
             "\xe2\x9c\x97 no   2\n"
             "ab\xff    3\n");
  BOOST_TEST(text_width("Gr\xc3\xbc\xc3\x9f"
                        "e") == 5u);
  BOOST_TEST(text_width("\xf0\x9f\x98\x80") == 1u);
  BOOST_TEST(text_width("\xe2\x82") == 2u);
  BOOST_TEST(text_width("") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

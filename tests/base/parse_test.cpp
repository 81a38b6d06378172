// The pure parsers, table-driven, with the strings the kernel and NVIDIA's
// driver really write (trailing newline and all), plus empty, whitespace and
// garbage cases.
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "fixture.h"
#include "parse.h"

using namespace gpu_agent;

namespace {
// Shown in failure messages: "0xzz12\n" reads better as '0xzz12\n'.
std::string show(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\n' ? std::string("\\n") : c == '\t' ? std::string("\\t") : std::string(1, c);
  return out + "'";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(parse)

BOOST_AUTO_TEST_CASE(pci_address_table) {
  struct Row {
    std::string text;
    std::optional<PciAddress> want;
  };
  const std::vector<Row> rows{
      {"0000:3b:00.0", PciAddress{0, 0x3b, 0, 0}},
      {"0000:3b:00.0\n", PciAddress{0, 0x3b, 0, 0}},        // as read from a file
      {"  0000:3B:1f.7 \n", PciAddress{0, 0x3b, 0x1f, 7}},  // upper case, spaces
      {"0000:c1:04.3", PciAddress{0, 0xc1, 4, 3}},          // an A40 VF
      {"10000:e1:00.0", PciAddress{0x10000, 0xe1, 0, 0}},   // Intel VMD domains are wider
      {"", std::nullopt},
      {" \n", std::nullopt},
      {"3b:00.0", std::nullopt},                               // no domain
      {"0000:3b:00", std::nullopt},                            // no function
      {"0000:3b:20.0", std::nullopt},                          // slot > 0x1f
      {"0000:3b:00.8", std::nullopt},                          // function > 7
      {"0000:3g:00.0", std::nullopt},                          // not hex
      {"0000:3b:00.0.1", std::nullopt},                        // trailing junk
      {"0000:13b:00.0", std::nullopt},                         // bus wider than 2 digits
      {"pci0000:00", std::nullopt},                            // a root bus directory, not a device
      {"0000::00.0", std::nullopt},                            // empty bus
      {"4b6e2f0a-7c1d-4e8b-9a3f-1d2c5e6f7a80", std::nullopt},  // an mdev UUID beside the PCI dirs
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("input " << show(r.text)) {
      auto got = parse_pci_address(r.text);
      BOOST_TEST(got.ok() == r.want.has_value());
      if (got && r.want) BOOST_TEST((*got == *r.want));
      if (!got) {  // the message quotes the text and says what was expected
        BOOST_TEST(got.error().message.find("DDDD:BB:SS.F") != std::string::npos);
        BOOST_TEST(got.error().message.find(std::string(trim_space(r.text).substr(0, 8))) != std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(pci_address_to_string_round_trips) {
  for (const char* s : {"0000:00:00.0", "0000:0a:1f.7", "0000:ff:00.1", "10000:e1:00.0"}) {
    BOOST_TEST_CONTEXT(s) {
      auto a = parse_pci_address(s);
      BOOST_TEST_REQUIRE(a.ok());
      BOOST_TEST(a->to_string() == s);
    }
  }
  auto pf = *parse_pci_address("0000:01:00.0"), audio = *parse_pci_address("0000:01:00.1"),
       other = *parse_pci_address("0000:01:01.0");
  BOOST_TEST(pf.same_card(audio));
  BOOST_TEST(!pf.same_card(other));
  BOOST_TEST((pf < audio));
}

BOOST_AUTO_TEST_CASE(hex_table) {
  struct Row {
    std::string text;
    int digits;
    std::optional<uint32_t> want;
  };
  const std::vector<Row> rows{
      {"0x10de\n", 4, 0x10de},
      {"0x030200\n", 6, 0x030200},
      {"0xa1\n", 2, 0xa1},
      {"10DE", 4, 0x10de},
      {"0X2330", 4, 0x2330},
      {"  0x0000 \n", 4, 0},
      {"0x0\n", 2, 0},
      {"", 4, std::nullopt},
      {" \n", 4, std::nullopt},
      {"0x", 4, std::nullopt},
      {"0x\n", 4, std::nullopt},
      {"0xzz12\n", 4, std::nullopt},
      {"0x10de0", 4, std::nullopt},  // wider than a 16-bit id
      {"0x0302000", 6, std::nullopt},
      {"0x-1", 4, std::nullopt},
      {"0x10 de", 4, std::nullopt},
      {"-1\n", 4, std::nullopt},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("input " << show(r.text) << " digits " << r.digits) {
      auto got = parse_hex(r.text, r.digits);
      BOOST_TEST(got.ok() == r.want.has_value());
      if (got && r.want) BOOST_TEST(*got == *r.want);
    }
  }
  // the message quotes what was there, so a log line is enough to see the garbage
  BOOST_TEST(parse_hex("0xzz12\n", 4).error().message.find("0xzz12") != std::string::npos);
  BOOST_TEST(parse_hex("", 4).error().message.find("empty") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(int_table) {
  struct Row {
    std::string text;
    std::optional<int64_t> want;
  };
  const std::vector<Row> rows{
      {"-1\n", -1},
      {"0\n", 0},
      {"1\n", 1},
      {"  42 \n", 42},
      {"32\n", 32},
      {"9223372036854775807", INT64_MAX},
      {"", std::nullopt},
      {"\n", std::nullopt},
      {"node0\n", std::nullopt},
      {"0x1\n", std::nullopt},
      {"1.5", std::nullopt},
      {"1 2", std::nullopt},
      {"+1", std::nullopt},
      {"9223372036854775808", std::nullopt},  // out of range, not wrapped
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("input " << show(r.text)) {
      auto got = parse_int(r.text);
      BOOST_TEST(got.ok() == r.want.has_value());
      if (got && r.want) BOOST_TEST(*got == *r.want);
    }
  }
}

BOOST_AUTO_TEST_CASE(seconds_table) {
  struct Row {
    std::string text;
    std::optional<double> want;
  };
  const std::vector<Row> rows{
      {"60", 60.0},
      {"0.5", 0.5},
      {"1e2", 100.0},
      {"86400", 86400.0},
      {"0.001", 0.001},
      {"", std::nullopt},
      {"soon", std::nullopt},
      {"5s", std::nullopt},
      {"86401", std::nullopt},
      {"0.0001", std::nullopt},
      {"nan", std::nullopt},
      {"inf", std::nullopt},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("input " << show(r.text)) {
      auto got = parse_seconds(r.text, 0.001, 86400);
      BOOST_TEST(got.ok() == r.want.has_value());
      if (got && r.want) BOOST_TEST(*got == *r.want);
    }
  }
  BOOST_TEST(parse_seconds("soon", 1, 86400).error().message == "'soon' is not a number from 1 to 86400");
}

BOOST_AUTO_TEST_CASE(trim_space_strips_sysfs_padding) {
  BOOST_TEST(trim_space("vfio-pci\n") == "vfio-pci");
  BOOST_TEST(trim_space(" \t\r\n") == "");
  BOOST_TEST(trim_space("") == "");
  BOOST_TEST(trim_space("a b") == "a b");
  BOOST_TEST(trim_space(std::string_view("x\0", 2)) == "x");  // some attributes carry a NUL
}

BOOST_AUTO_TEST_CASE(mdev_description_real_strings) {
  struct Row {
    std::string text;
    std::optional<int64_t> heads, frl, fb, max;
    std::optional<std::string> res;
  };
  const std::vector<Row> rows{
      // Tesla T4, time-sliced (mdev_supported_types on the PF)
      {"num_heads=4, frl_config=60, framebuffer=16384M, max_resolution=7680x4320, max_instance=1\n", 4, 60, 16384, 1,
       "7680x4320"},
      {"num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=16\n", 4, 45, 1024, 16,
       "5120x2880"},
      // A40 on a VF
      {"num_heads=4, frl_config=60, framebuffer=24576M, max_resolution=7680x4320, max_instance=2\n", 4, 60, 24576, 2,
       "7680x4320"},
      // A-series: one head, low resolution
      {"num_heads=1, frl_config=60, framebuffer=49152M, max_resolution=1280x1024, max_instance=1\n", 1, 60, 49152, 1,
       "1280x1024"},
      // G and bare units
      {"framebuffer=1G", std::nullopt, std::nullopt, 1024, std::nullopt, std::nullopt},
      {"framebuffer=2g, max_instance=8", std::nullopt, std::nullopt, 2048, 8, std::nullopt},
      {"framebuffer=2048", std::nullopt, std::nullopt, 2048, std::nullopt, std::nullopt},
      {"framebuffer=512m", std::nullopt, std::nullopt, 512, std::nullopt, std::nullopt},
      // spacing, free text and unknown keys are tolerated
      {" num_heads = 2 ,frl_config=45 ", 2, 45, std::nullopt, std::nullopt, std::nullopt},
      {"GRID vGPU, num_heads=2", 2, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {"encoder=1, max_instance=4", std::nullopt, std::nullopt, std::nullopt, 4, std::nullopt},
      {",,max_instance=3,,", std::nullopt, std::nullopt, std::nullopt, 3, std::nullopt},
      {"", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {" \n", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("input " << show(r.text)) {
      auto got = parse_mdev_description(r.text);
      BOOST_TEST_REQUIRE(got.ok());
      BOOST_TEST((got->num_heads == r.heads));
      BOOST_TEST((got->frl_config == r.frl));
      BOOST_TEST((got->framebuffer_mib == r.fb));
      BOOST_TEST((got->max_instance == r.max));
      BOOST_TEST((got->max_resolution == r.res));
    }
  }
}

BOOST_AUTO_TEST_CASE(mdev_description_garbage_names_the_key) {
  struct Row {
    std::string text, key;
  };
  const std::vector<Row> rows{
      {"num_heads=four, frl_config=60", "num_heads"},
      {"num_heads=4, frl_config=sixty", "frl_config"},
      {"framebuffer=lots", "framebuffer"},
      {"framebuffer=M", "framebuffer"},
      {"framebuffer=16384K", "framebuffer"},  // a unit the parser does not know is not guessed
      {"max_instance=", "max_instance"},
      {"max_instance=-", "max_instance"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("input " << show(r.text)) {
      auto got = parse_mdev_description(r.text);
      BOOST_TEST_REQUIRE(!got.ok());
      BOOST_TEST(got.error().message.find(r.key) != std::string::npos, got.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(creatable_vgpu_types) {
  const std::string h100 =
      "ID    : vGPU Name\n"
      "1041  : NVIDIA H100-1-10C\n"
      "1052  : NVIDIA H100-20C\n"
      "1054  : NVIDIA H100-80C\n";
  auto got = parse_creatable_vgpu_types(h100);
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST_REQUIRE(got->size() == 3u);
  BOOST_TEST((*got)[0].id == 1041);
  BOOST_TEST((*got)[0].name == "NVIDIA H100-1-10C");
  BOOST_TEST((*got)[1].id == 1052);
  BOOST_TEST((*got)[2].name == "NVIDIA H100-80C");

  // a VF whose type is already chosen lists only the header; empty and blank are empty
  for (const char* empty : {"ID    : vGPU Name\n", "", "\n", "  \n\n"}) {
    BOOST_TEST_CONTEXT(show(empty)) {
      auto e = parse_creatable_vgpu_types(empty);
      BOOST_TEST_REQUIRE(e.ok());
      BOOST_TEST(e->empty());
    }
  }
  // CRLF and no trailing newline
  auto crlf = parse_creatable_vgpu_types("ID    : vGPU Name\r\n1047  : NVIDIA H100-4C\r\n1048:NVIDIA H100-5C");
  BOOST_TEST_REQUIRE(crlf.ok());
  BOOST_TEST_REQUIRE(crlf->size() == 2u);
  BOOST_TEST((*crlf)[0].name == "NVIDIA H100-4C");
  BOOST_TEST((*crlf)[1].id == 1048);

  struct Bad {
    std::string text, says;
  };
  for (const auto& b : std::vector<Bad>{{"ID : vGPU Name\n1041  NVIDIA H100-1-10C\n", "expected 'ID : NAME'"},
                                        {"1041  : \n", "has no name"},
                                        {"12a4  : NVIDIA H100-4C\n", "bad vGPU type id"}}) {
    BOOST_TEST_CONTEXT(show(b.text)) {
      auto e = parse_creatable_vgpu_types(b.text);
      BOOST_TEST_REQUIRE(!e.ok());
      BOOST_TEST(e.error().message.find(b.says) != std::string::npos, e.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(short_vgpu_names) {
  const std::vector<std::pair<std::string, std::string>> rows{
      {"NVIDIA A40-24Q", "A40-24Q"},
      {"GRID T4-16Q", "T4-16Q"},
      {"NVIDIA H100-1-10C\n", "H100-1-10C"},
      {" GRID T4-1B ", "T4-1B"},
      {"A40-24Q", "A40-24Q"},
      {"NVIDIAA40-1Q", "NVIDIAA40-1Q"},
      {"Tesla V100-16Q", "Tesla V100-16Q"},
      {"", ""},
      {"NVIDIA ", "NVIDIA"},
  };
  for (const auto& [in, want] : rows) BOOST_TEST_CONTEXT(show(in)) {
      BOOST_TEST(short_vgpu_name(in) == want);
    }
}

BOOST_AUTO_TEST_CASE(escape_values) {
  const std::vector<std::pair<std::string, std::string>> rows{
      {"", ""},
      {"0x10de", "0x10de"},
      {"32.0 GT/s PCIe", "32.0 GT/s PCIe"},
      {"ID    : vGPU Name\n1041  : NVIDIA H100-1-10C", "ID    : vGPU Name\\n1041  : NVIDIA H100-1-10C"},
      {"a\\b", "a\\\\b"},
      {"tab\there", "tab\\there"},
      {std::string("\x01\x7f\xff", 3), "\\x01\\x7f\\xff"},
      {std::string("nul\0in", 6), "nul\\x00in"},
  };
  for (const auto& [raw, escaped] : rows) {
    BOOST_TEST_CONTEXT(show(escaped)) {
      BOOST_TEST(escape_value(raw) == escaped);
      auto back = unescape_value(escaped);
      BOOST_TEST_REQUIRE(back.ok());
      BOOST_TEST(*back == raw);
    }
  }
  // hex escapes accept either case on the way in
  BOOST_TEST(*unescape_value("\\xFF") == std::string("\xff"));
  for (const char* bad : {"abc\\", "\\q", "\\x1", "\\xzz", "\\x"}) {
    BOOST_TEST_CONTEXT(show(bad)) { BOOST_TEST(!unescape_value(bad).ok()); }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// SPF's parsers of outside input (mailauth/spf): TXT records published by
// anyone (RFC 7208 §4.6) and the macro strings inside them (§7). A record
// either parses or carries an error; macro expansion never grows without
// bound and a string that validates also expands.
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "mailauth/spf/macro.hpp"
#include "mailauth/spf/record.hpp"

using namespace postern;
namespace spf = postern::mailauth::spf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const spf::MacroUse use = in.flag() ? spf::MacroUse::explanation : spf::MacroUse::domain_spec;
  const std::string_view text = in.rest();

  std::string error;
  const auto record = spf::parse_record(text, error);
  FUZZ_CHECK(record.has_value() || !error.empty());

  spf::MacroValues values;
  values.sender = "strong-bad@email.example.com";
  values.local_part = "strong-bad";
  values.sender_domain = "email.example.com";
  values.domain = "email.example.com";
  values.helo = "mx.example.org";
  values.now = 1700000000;
  std::string macro_error;
  const bool valid = spf::valid_macro_string(text, use, macro_error);
  std::string expand_error;
  const auto expanded = spf::expand_macros(text, values, use, expand_error);
  if (valid) FUZZ_CHECK(expanded.has_value());
  if (expanded) FUZZ_CHECK(expanded->size() <= 64 * (text.size() + 1) + 1024);
  return 0;
}

// RDATA decoding (dns/rdata.hpp, dns/mx_records.hpp): the bytes of TXT,
// PTR and MX answers, which anyone who controls a zone can choose. A TXT
// record decodes to exactly its character-strings (one length octet each,
// nothing lost or invented); a name decodes to lowercase printable labels
// that encode back to the same wire bytes (lowercased); an MX is its
// preference followed by such a name.
#include <cstdint>
#include <span>
#include <string>

#include "dns/mx_records.hpp"
#include "dns/rdata.hpp"
#include "fuzz_input.hpp"

using namespace postern;

namespace {

std::string wire_name(const std::string& name) {
  std::string out;
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out += static_cast<char>(dot - start);
    out += name.substr(start, dot - start);
    start = dot + 1;
  }
  out += '\0';
  return out;
}

std::string lowered(std::span<const unsigned char> bytes) {
  std::string out;
  for (const unsigned char c : bytes) {
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const unsigned char> rdata(data, size);

  if (const auto txt = dns::parse_txt_rdata(rdata)) {
    // Every octet is either a length octet or text: count the strings.
    std::size_t strings = 0;
    for (std::size_t i = 0; i < size; i += 1 + data[i]) ++strings;
    FUZZ_CHECK(txt->size() + strings == size);
  }

  if (const auto name = dns::parse_name_rdata(rdata)) {
    FUZZ_CHECK(name->size() <= 253);
    for (const char c : *name) {
      FUZZ_CHECK(c > 0x20 && c < 0x7f && !(c >= 'A' && c <= 'Z'));
    }
    FUZZ_CHECK(wire_name(*name) == lowered(rdata));
  }

  const auto mx = dns::parse_mx_rdata(rdata);
  if (size >= 2) {
    const auto host = dns::parse_name_rdata(rdata.subspan(2));
    FUZZ_CHECK(mx.has_value() == host.has_value());
    if (mx) {
      FUZZ_CHECK(mx->host == *host);
      FUZZ_CHECK(mx->preference == ((data[0] << 8) | data[1]));
    }
  } else {
    FUZZ_CHECK(!mx);
  }
  return 0;
}

#include "dns/idn.hpp"

#include <idn2.h>

#include <cstdlib>

namespace postern::dns {

std::optional<std::string> to_a_label(std::string_view domain) {
  bool ascii = true;
  for (char c : domain) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::string out;
  if (ascii) {
    out.assign(domain);
  } else {
    const std::string input(domain);
    char* converted = nullptr;
    const int rc =
        idn2_to_ascii_8z(input.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK || converted == nullptr) return std::nullopt;
    out = converted;
    idn2_free(converted);
  }
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace postern::dns

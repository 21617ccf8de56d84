#include "dns/rdata.hpp"

namespace postern::dns {

std::optional<std::string> parse_txt_rdata(std::span<const unsigned char> rdata) {
  std::string out;
  std::size_t i = 0;
  if (rdata.empty()) return std::nullopt;
  while (i < rdata.size()) {
    const std::size_t length = rdata[i++];
    if (i + length > rdata.size()) return std::nullopt;
    out.append(reinterpret_cast<const char*>(rdata.data() + i), length);
    i += length;
  }
  return out;
}

std::optional<std::string> parse_name_rdata(std::span<const unsigned char> rdata) {
  std::string name;
  std::size_t i = 0;
  while (i < rdata.size()) {
    const std::size_t length = rdata[i++];
    if (length == 0) {
      if (i != rdata.size() || name.size() > 253) return std::nullopt;
      return name;
    }
    if (length > 63 || i + length > rdata.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    for (std::size_t k = i; k < i + length; ++k) {
      const unsigned char c = rdata[k];
      if (c <= 0x20 || c >= 0x7f || c == '.') return std::nullopt;
      name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    i += length;
  }
  return std::nullopt;  // no root label
}

}  // namespace postern::dns

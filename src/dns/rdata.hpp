// RDATA of the record types mail authentication reads, decoded without any
// I/O (libunbound hands RDATA out in wire format, names uncompressed).
#pragma once

#include <optional>
#include <span>
#include <string>

namespace postern::dns {

// TXT (RFC 1035 §3.3.14): one or more <length><octets> character-strings,
// joined with nothing between them (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
// nullopt when a length runs past the end.
std::optional<std::string> parse_txt_rdata(std::span<const unsigned char> rdata);

// A domain name in wire format (PTR RDATA, RFC 1035 §3.3.12): lowercased,
// without the trailing dot. nullopt when malformed.
std::optional<std::string> parse_name_rdata(std::span<const unsigned char> rdata);

}  // namespace postern::dns

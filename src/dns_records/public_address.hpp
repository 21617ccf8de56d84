// Which addresses other mail servers can see: those the A/AAAA, SPF and PTR
// records must name. Pure.
#pragma once

#include <string>

namespace postern::dns_records {

// False for loopback, unspecified, private (RFC 1918), shared (RFC 6598),
// link-local, unique-local (RFC 4193), multicast and documentation
// (RFC 5737, RFC 3849) addresses, and for text that is not an address.
bool is_public_address(const std::string& address);

}  // namespace postern::dns_records

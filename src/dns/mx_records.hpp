// MX answers, without any I/O: the RDATA format and the delivery order.
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "dns/resolver.hpp"

namespace postern::dns {

// One MX RDATA as libunbound hands it out (RFC 1035 §3.3.9): a 16-bit
// preference, then the exchange as an uncompressed wire-format name. The
// host comes back lowercased without the trailing dot; the root name "."
// gives an empty host. nullopt when the data is malformed.
std::optional<MxHost> parse_mx_rdata(std::span<const unsigned char> rdata);

// Turns the MX records of `domain` into a result:
// - a single record "0 ." is a null MX (RFC 7505 §3): null_mx;
// - other records pointing at "." name no host and are dropped; if none is
//   left the domain has no usable mail host: no_data;
// - otherwise ok, in ascending preference with equal preferences shuffled
//   (RFC 5321 §5.1), so load spreads over equal hosts.
MxResult order_mx(std::vector<MxHost> records, const std::string& domain, std::mt19937& rng);

}  // namespace postern::dns

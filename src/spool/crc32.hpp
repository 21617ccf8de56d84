// CRC-32 (IEEE 802.3, the polynomial zlib and gzip use), so that every spool
// record can prove it was written completely. zlib is not linked, and the
// spool needs only this one function.
#pragma once

#include <cstdint>
#include <string_view>

namespace postern::spool {

// Continues a running CRC: crc32(b, crc32(a)) == crc32(a + b). Start with 0.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace postern::spool

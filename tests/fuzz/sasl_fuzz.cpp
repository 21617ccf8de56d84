// SASL decoding (sasl/sasl.hpp): strict base64 and the PLAIN response, as
// an AUTH command hands them over.
#include <cstdint>

#include "fuzz_input.hpp"
#include "sasl/sasl.hpp"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto decoded = sasl::base64_decode(text)) {
    // Strict decoding accepts only the canonical encoding.
    FUZZ_CHECK(sasl::base64_encode(*decoded) == text);
  }
  // Every byte string survives the round trip.
  const auto back = sasl::base64_decode(sasl::base64_encode(text));
  FUZZ_CHECK(back && *back == text);
  if (const auto plain = sasl::decode_plain(text)) {
    FUZZ_CHECK(plain->authcid.find('\0') == std::string::npos);
    FUZZ_CHECK(plain->password.find('\0') == std::string::npos);
  }
  return 0;
}

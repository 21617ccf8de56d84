// What reaches the address book from outside: RCPT addresses decoded as SRS
// (any server may send them) and resolved, and the aliases file parser.
#include <chrono>
#include <cstdint>

#include "addresses/address_book.hpp"
#include "addresses/srs.hpp"
#include "fuzz_input.hpp"

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000));
  addresses::BookSettings s;
  s.local_domains = {"example.com"};
  s.srs.secrets = {"fuzz-secret"};
  s.srs.domain = "example.com";
  // Only what we signed decodes; what decodes names an address.
  const auto d = addresses::srs_reverse(s.srs, text, now);
  if (d.status == addresses::SrsStatus::ok) FUZZ_CHECK(d.original.find('@') != std::string::npos);
  if (const auto fwd = addresses::srs_forward(s.srs, std::string(text) + "@origin.example", now)) {
    const auto back = addresses::srs_reverse(s.srs, fwd->substr(0, fwd->rfind('@')), now);
    FUZZ_CHECK(back.status == addresses::SrsStatus::ok || text.find('@') != std::string_view::npos);
  }
  // The aliases file: whatever it says, the book is built and answers.
  const auto file = addresses::parse_aliases(text, "aliases", "example.com");
  const addresses::AddressBook book(s, {"alice@example.com"}, file.entries);
  for (const auto& e : file.entries)
    (void)book.resolve(e.alias.front() == '@' ? "x" + e.alias : e.alias, now);
  (void)book.resolve(std::string(text) + "@example.com", now);
  return 0;
}

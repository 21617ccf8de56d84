// Authentication-Results (mailauth/auth_results): removing forged fields
// from a message anyone wrote (RFC 8601 §5), and writing our own field with
// text that partly comes from the sender (HELO, MAIL FROM, d=, s=, b=,
// reasons). Removal takes out whole fields of the header only and is
// idempotent; the field we write stays one well-formed field that our own
// removal recognises as ours.
#include <cstdint>
#include <string>

#include "core/text.hpp"
#include "fuzz_input.hpp"
#include "mailauth/auth_results/forged.hpp"
#include "mailauth/auth_results/header.hpp"
#include "mailauth/dkim/message_view.hpp"

using namespace postern;
namespace mailauth = postern::mailauth;

namespace {

// Splits the rest of the input at NUL bytes into a few strings.
std::vector<std::string> pieces_at_nul(std::string_view text, std::size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    const std::size_t nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    out.emplace_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.emplace_back(text);
  out.resize(n);
  return out;
}

void check_removal(std::string_view message, std::string_view id) {
  const auto ranges = mailauth::forged_auth_results(message, id);
  const mailauth::FilteredHeader f = mailauth::remove_forged_auth_results(message, id);
  FUZZ_CHECK(f.removed == ranges.size());
  FUZZ_CHECK(f.body_offset <= message.size());
  std::size_t pos = 0;
  std::string expected;
  for (const auto& r : ranges) {
    FUZZ_CHECK(r.begin >= pos && r.begin < r.end && r.end <= f.body_offset);
    FUZZ_CHECK(istarts_with(message.substr(r.begin), "authentication-results"));
    expected.append(message.substr(pos, r.begin - pos));
    pos = r.end;
  }
  expected.append(message.substr(pos, f.body_offset - pos));
  FUZZ_CHECK(f.header == expected);
  // Idempotent: what is left claims nothing in our name.
  const std::string again = f.header + std::string(message.substr(f.body_offset));
  FUZZ_CHECK(mailauth::forged_auth_results(again, id).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  const std::string_view text = in.rest();

  check_removal(text, "mx.example.net");
  if (const auto id = mailauth::authserv_id_of(text)) FUZZ_CHECK(!id->empty());

  // Our own field, from fuzzed values.
  const std::vector<std::string> p = pieces_at_nul(text, 7);
  mailauth::AuthResults ar;
  ar.authserv_id = "mx.example.net";
  mailauth::SpfCheck spf;
  spf.result = static_cast<mailauth::spf::Result>(mode % 7);
  spf.mail_from = p[0];
  spf.helo = p[1];
  spf.reason = p[2];
  ar.spf = spf;
  ar.dkim_checked = (mode & 8) != 0;
  mailauth::DkimCheck d;
  d.result = static_cast<mailauth::DkimResult>((mode >> 4) % 7);
  d.domain = p[3];
  d.selector = p[4];
  d.b = p[5];
  d.reason = p[2];
  d.testing = (mode & 0x80) != 0;
  if (ar.dkim_checked) ar.dkim = {d, d};
  mailauth::dmarc::Verdict v;
  v.result = mailauth::dmarc::Result::fail;
  v.from_domain = p[6];
  v.reason = p[2];
  ar.dmarc = v;
  const std::string field = mailauth::authentication_results_field(ar);

  FUZZ_CHECK(field.size() >= 2 && field.ends_with("\r\n"));
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto c = static_cast<unsigned char>(field[i]);
    if (c == '\r') {
      FUZZ_CHECK(i + 1 < field.size() && field[i + 1] == '\n');
      // Every line after the first continues the field.
      FUZZ_CHECK(i + 2 == field.size() || field[i + 2] == '\t');
    } else if (c == '\n') {
      FUZZ_CHECK(i > 0 && field[i - 1] == '\r');
    } else {
      FUZZ_CHECK(c == '\t' || (c >= 0x20 && c < 0x7f));
    }
  }
  const std::string message = field + "Subject: x\r\n\r\nbody\r\n";
  const auto view = mailauth::dkim::parse_message(message);
  FUZZ_CHECK(view.fields.size() == 2);
  const auto ours = mailauth::forged_auth_results(message, "mx.example.net");
  FUZZ_CHECK(ours.size() == 1 && ours.front().begin == 0 && ours.front().end == field.size());
  return 0;
}

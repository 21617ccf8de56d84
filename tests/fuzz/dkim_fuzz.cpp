// DKIM's parsers of outside input (mailauth/dkim): tag lists, key records,
// DKIM-Signature fields and the messages they sit in, and the body
// canonicalisation. Parsegrind property: the canonical body is the same
// however the body arrives in pieces.
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "mailauth/author_domain.hpp"
#include "mailauth/dkim/canonicalize.hpp"
#include "mailauth/dkim/key_record.hpp"
#include "mailauth/dkim/tag_list.hpp"
#include "mailauth/dkim/verifier.hpp"

using namespace postern;
namespace dkim = postern::mailauth::dkim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const dkim::Canon canon = in.flag() ? dkim::Canon::relaxed : dkim::Canon::simple;
  std::vector<std::uint8_t> sizes;
  for (int i = 0; i < 4; ++i) sizes.push_back(in.byte());
  const std::string_view text = in.rest();

  const dkim::TagList tags = dkim::parse_tag_list(text);
  for (const dkim::Tag& t : tags.tags) {
    // Names and values point into the text.
    FUZZ_CHECK(t.value.data() >= text.data() &&
               t.value.data() + t.value.size() <= text.data() + text.size());
  }
  (void)dkim::parse_key_record(text);
  (void)mailauth::from_domains(text);

  // A key record answer the signatures can be checked against: the
  // RFC 8463 test key.
  dkim::KeyAnswer key;
  key.status = dkim::KeyAnswer::Status::found;
  key.records.push_back("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  for (const dkim::Signature& s : dkim::find_signatures(text)) {
    FUZZ_CHECK(s.b_begin <= s.b_end && s.b_end <= s.field.size());
    const dkim::Verdict v = dkim::verify(text, s, key, 0);
    FUZZ_CHECK(v.outcome != dkim::Outcome::pass || s.error.empty());
  }

  const std::string whole = dkim::canonicalize_body(canon, text);
  std::string split;
  dkim::BodyCanonicalizer c(canon, [&split](std::string_view s) { split.append(s); });
  for (const std::string_view p : fuzz::pieces(text, sizes)) c.update(p);
  c.finish();
  FUZZ_CHECK(split == whole);
  // Canonical bodies end with CRLF, or are empty (relaxed) or only CRLF.
  FUZZ_CHECK(whole.empty() || whole.ends_with("\r\n"));
  return 0;
}

// DNS blocklist answers (inbound/dnsbl): whatever a list's DNS returns (A
// records that are not addresses, TXT text of any bytes and length), the
// verdict is defined, a listing is a 127/8 address, and the refusal is one
// printable line of bounded length. Query names are built only from
// addresses.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "inbound/dnsbl.hpp"

using namespace postern;

namespace {

std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size() && out.size() < 64) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool printable_line(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const auto status = static_cast<mailauth::AnswerStatus>(in.byte() % 4);
  const auto txt_status = static_cast<mailauth::AnswerStatus>(in.byte() % 4);
  const std::string_view text = in.rest();
  const std::size_t split = text.find('\x01');
  const std::string_view a_part = text.substr(0, split);
  const std::string_view txt_part =
      split == std::string_view::npos ? std::string_view() : text.substr(split + 1);

  const mailauth::Answer a{
      status, status == mailauth::AnswerStatus::ok ? lines(a_part) : std::vector<std::string>{}};
  const mailauth::Answer txt{txt_status, lines(txt_part)};
  const auto r = inbound::judge_dnsbl("list.example", a, &txt);
  if (r.status == inbound::DnsblResult::Status::listed) {
    FUZZ_CHECK(r.code.rfind("127.", 0) == 0);
    const Reply reply = inbound::dnsbl_refusal(a_part.substr(0, 64), r);
    FUZZ_CHECK(reply.code == 554 && reply.lines.size() == 1);
    FUZZ_CHECK(printable_line(reply.lines[0]));
    FUZZ_CHECK(reply.lines[0].size() < 400);
  }
  FUZZ_CHECK(printable_line(r.reason) && r.reason.size() <= inbound::kMaxReasonLength);
  FUZZ_CHECK(printable_line(inbound::safe_reason(text)));

  if (auto name = inbound::dnsbl_query_name(a_part, "list.example")) {
    FUZZ_CHECK(name->ends_with(".list.example"));
    FUZZ_CHECK(name->size() <= 64 + 13);
  }
  return 0;
}

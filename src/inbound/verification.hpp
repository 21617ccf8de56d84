// The inbound checks of one message (SPEC §1.8): SPF of the envelope, DKIM
// of every signature (up to kMaxSignatures), DMARC of the From: domain, the
// Authentication-Results field that reports them, and what enforcement
// makes of them. Pure (STYLE.md habit 16): it names the DNS questions it
// needs and is fed the answers; the edge (net/inbound_checks) asks them.
//
// When: at the end of DATA, for SPF too. DMARC needs the From: field and
// the DKIM results, so the message has to be there anyway; SPF alone
// decides nothing here (only DMARC is enforced, SPEC §1.8), so checking it
// at MAIL FROM would only add a pause to MAIL, and lookups for transactions
// that never send a message. At the end of DATA the SPF, DKIM key and
// DMARC record lookups all go out at once.
//
// Driving it:
//   Verification v(input);
//   while (auto qs = v.questions(); !qs.empty()) feed v.answer(q, a) for each;
//   v.verify_signatures();          // CPU: hashing and signatures
//   while (auto qs = v.questions(); !qs.empty()) ...   // DMARC, rarely more
//   Outcome o = v.outcome(policy);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reply.hpp"
#include "mailauth/auth_results/checks.hpp"
#include "mailauth/dkim/verifier.hpp"
#include "mailauth/dmarc/evaluator.hpp"
#include "mailauth/dns_answer.hpp"
#include "mailauth/spf/evaluator.hpp"

namespace postern::inbound {

// At most this many DKIM signatures are verified per message, top first
// (the rest are reported as not checked): each costs a key lookup and a
// body hash, and a message with 10,000 signatures must not cost 10,000.
inline constexpr std::size_t kMaxSignatures = 10;

// Past this many rounds of questions the evaluation is cut short (every
// open question answered as a temporary failure). SPF's own limits (10
// terms, 10 names per mx/ptr) stay far below it.
inline constexpr int kMaxRounds = 64;

struct Checks {
  bool spf = true;
  bool dkim = true;
  bool dmarc = true;
};

struct Input {
  Checks checks;
  std::string authserv_id;  // our hostname (SPEC §1.8)
  std::string client_ip;
  std::string helo;
  std::string mail_from;     // "" is the null sender: SPF checks the HELO identity
  std::string_view message;  // the client's content, without our trace header
  std::int64_t now = 0;      // seconds since the epoch (x=, %{t})
  int sample = 0;            // 0..99, drawn at random by the edge (DMARC pct=)
  // Domains of From: in A-label form (dns::to_a_label); unset: as written.
  std::function<std::optional<std::string>(std::string_view)> to_a_label;
};

// What the server does with the message.
enum class Action {
  accept,  // deliver as usual
  junk,    // deliver into the Junk folder (DMARC p=quarantine, enforce)
  reject,  // 550 5.7.1 (DMARC p=reject, enforce)
  defer,   // 451 4.7.0 (DMARC temperror, enforce)
};
const char* action_name(Action action);

struct Outcome {
  std::string field;  // "Authentication-Results: ...\r\n", to go on top
  Action action = Action::accept;
  Reply reply;      // for reject and defer
  std::string log;  // "spf=pass dkim=pass dmarc=fail from=example.com ..."
};

class Verification {
 public:
  explicit Verification(Input input, const mailauth::dmarc::PublicSuffixList& psl =
                                         mailauth::dmarc::PublicSuffixList::system());

  // The questions the checks need now and have not asked yet, each once.
  // Empty when nothing more is needed at this stage.
  std::vector<mailauth::Question> questions();
  void answer(const mailauth::Question& question, mailauth::Answer answer);
  // Every open question answered as a temporary failure (the edge's time
  // bound passed).
  void give_up();

  // Verifies the DKIM signatures against the keys found (hashing: run it
  // where a large message does not hold an event loop), then starts DMARC
  // with the SPF and DKIM results.
  void verify_signatures();

  // The final word, once questions() is empty after verify_signatures().
  // `enforce`: dmarc_policy = "enforce".
  Outcome outcome(bool enforce) const;

  std::size_t signatures_found() const { return signatures_found_; }

 private:
  const mailauth::Answer* cached(const mailauth::Question& q) const;
  void drive_spf(std::vector<mailauth::Question>& out);
  void drive_dmarc(mailauth::dmarc::Evaluator& e, std::vector<mailauth::Question>& out);
  void want(const mailauth::Question& q, std::vector<mailauth::Question>& out);
  mailauth::SpfCheck spf_check() const;

  Input in_;
  const mailauth::dmarc::PublicSuffixList* psl_;
  std::map<std::pair<std::string, int>, mailauth::Answer> answers_;
  std::set<std::pair<std::string, int>> asked_;
  int rounds_ = 0;

  std::optional<mailauth::spf::Evaluator> spf_;
  std::vector<mailauth::dkim::Signature> signatures_;  // at most kMaxSignatures
  std::size_t signatures_found_ = 0;
  std::vector<mailauth::DkimCheck> dkim_;
  bool verified_ = false;
  std::vector<std::string> author_domains_;
  // Before verify_signatures(): an evaluator that only discovers the DMARC
  // records (its checks are empty), so their lookups go out with the
  // others; after: the real one, fed the same answers from the cache.
  std::optional<mailauth::dmarc::Evaluator> dmarc_probe_;
  std::optional<mailauth::dmarc::Evaluator> dmarc_;
};

}  // namespace postern::inbound

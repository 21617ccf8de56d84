// Bounces from the queue runner: permanent failures and expiry produce one
// RFC 3464 report per attempt, queued from <> to the sender and delivered
// like any message; the null sender and NOTIFY=NEVER get none; delivered
// recipients are never retried; a restart between the steps neither loses
// nor duplicates a bounce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <map>
#include <mutex>

#include "delivery/queue_runner.hpp"
#include "tools/mime_report.hpp"
#include "unit/delivery/runner_test_util.hpp"
#include "unit/spool/spool_test_util.hpp"

namespace postern::delivery {
namespace {

namespace fs = std::filesystem;
using namespace postern::spool::testing;
using postern::testing::DsnReport;
using postern::testing::parse_dsn;
using spool::RecipientState;
using spool::Spool;
using spool::SpoolOptions;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A remote courier that answers each recipient from a script: the next
// scripted result for that address, the last one repeating. Our bounces
// (from the null sender, auto-replied) get `bounce_outcome`, and are kept.
class ScriptedCourier : public Courier {
 public:
  void script(const std::string& address, std::vector<RecipientResult> results) {
    std::lock_guard lock(mu_);
    scripts_[address] = std::deque<RecipientResult>(results.begin(), results.end());
  }

  std::vector<RecipientResult> deliver(const spool::QueuedMessage& message, std::string_view data,
                                       const std::vector<std::size_t>& recipients) override {
    std::lock_guard lock(mu_);
    std::vector<RecipientResult> out;
    for (const std::size_t i : recipients) {
      const std::string& address = message.recipients[i].recipient.address;
      if (message.envelope.mail_from.empty() &&
          data.find("\r\nAuto-Submitted: auto-replied\r\n") != std::string_view::npos) {
        out.push_back({bounce_outcome,
                       bounce_outcome == Outcome::delivered ? "250 2.0.0 ok" : "451 4.3.0 later",
                       "mx.elsewhere.test[127.0.0.7]:25"});
        if (bounce_outcome == Outcome::delivered) bounces_.emplace_back(address, data);
        continue;
      }
      ++calls_[address];
      auto& q = scripts_[address];
      RecipientResult r{Outcome::delivered, "250 2.0.0 ok", "mx.remote.test[127.0.0.9]:25"};
      if (!q.empty()) {
        r = q.front();
        if (q.size() > 1) q.pop_front();
      }
      out.push_back(r);
    }
    return out;
  }

  int calls(const std::string& address) {
    std::lock_guard lock(mu_);
    return calls_[address];
  }
  std::vector<std::pair<std::string, std::string>> bounces() {
    std::lock_guard lock(mu_);
    return bounces_;
  }

  Outcome bounce_outcome = Outcome::delivered;

 private:
  std::mutex mu_;
  std::map<std::string, std::deque<RecipientResult>> scripts_;
  std::map<std::string, int> calls_;
  std::vector<std::pair<std::string, std::string>> bounces_;
};

RecipientResult refused(const std::string& reply = "550 5.1.1 <x>: no such user") {
  return {Outcome::permanent, reply, "mx.remote.test[127.0.0.9]:25"};
}
RecipientResult later() {
  return {Outcome::transient, "451 4.3.0 try again later", "mx.remote.test[127.0.0.9]:25"};
}

// A Maildir file (LF line endings, our trace fields first) as the CRLF
// message it was.
std::string as_crlf(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

DsnReport parse(const std::string& text) {
  std::string error;
  auto r = parse_dsn(text, error);
  EXPECT_TRUE(r) << error << "\n---\n" << text;
  return r ? *r : DsnReport{};
}

class RunnerBounce : public testing::RunnerTest {
 protected:
  RunnerSettings settings() const {
    RunnerSettings s = runner_settings({"example.com"}, std::chrono::seconds(1));
    s.hostname = "mail.example.com";
    s.remote = courier_;
    return s;
  }

  std::vector<std::string> mailbox(const std::string& local) const {
    std::vector<std::string> out;
    for (const auto& f : files_in(mail() / "example.com" / local / "new")) {
      std::ifstream in(f, std::ios::binary);
      out.push_back(as_crlf({std::istreambuf_iterator<char>(in), {}}));
    }
    return out;
  }

  // True once the spool holds nothing any more.
  bool queue_empty(Spool& spool) { return spool.list().empty(); }

  std::shared_ptr<ScriptedCourier> courier_ = std::make_shared<ScriptedCourier>();
};

TEST_F(RunnerBounce, PermanentFailureBouncesIntoTheLocalSendersMaildir) {
  courier_->script("bad@remote.test", {refused()});
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  Envelope e = envelope("alice@example.com", {"ok@remote.test", "bad@remote.test"});
  e.dsn_envid = "ENV+2B1";
  e.recipients[1].orcpt = "rfc822;bad@remote.test";
  const std::string original = message_text("numbers");
  const auto id = submit_and_wait(*spool, e, original).queue_id;
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool) && mailbox("alice").size() == 1; }));
  runner.stop();

  EXPECT_EQ(courier_->calls("ok@remote.test"), 1);
  EXPECT_EQ(courier_->calls("bad@remote.test"), 1);
  const std::string bounce = mailbox("alice").at(0);
  // Delivered from the null sender.
  EXPECT_THAT(bounce, StartsWith("Return-Path: <>\r\nDelivered-To: alice@example.com\r\n"));
  const DsnReport r = parse(bounce);
  EXPECT_EQ(r.message.get("to"), "<alice@example.com>");
  EXPECT_EQ(r.message.get("from"), "Mail Delivery System <MAILER-DAEMON@mail.example.com>");
  EXPECT_THAT(*r.message.get("message-id"), HasSubstr(id));
  EXPECT_EQ(r.per_message.get("reporting-mta"), "dns; mail.example.com");
  EXPECT_EQ(r.per_message.get("original-envelope-id"), "ENV+1");
  EXPECT_EQ(r.per_message.get("x-postern-queue-id"), id);
  ASSERT_EQ(r.per_recipient.size(), 1u);
  const auto& b = r.per_recipient[0];
  EXPECT_EQ(b.get("final-recipient"), "rfc822; bad@remote.test");
  EXPECT_EQ(b.get("original-recipient"), "rfc822; bad@remote.test");
  EXPECT_EQ(b.get("action"), "failed");
  EXPECT_EQ(b.get("status"), "5.1.1");
  EXPECT_EQ(b.get("remote-mta"), "dns; mx.remote.test");
  EXPECT_EQ(b.get("diagnostic-code"), "smtp; 550 5.1.1 <x>: no such user");
  EXPECT_EQ(r.parts[2].get("content-type"), "message/rfc822");
  EXPECT_EQ(r.parts[2].body, original);
}

TEST_F(RunnerBounce, OneBouncePerAttemptForAllItsFailures) {
  courier_->script("a@remote.test", {refused("550 5.1.1 unknown a")});
  courier_->script("b@remote.test", {refused("554 5.7.1 policy b")});
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  submit_and_wait(*spool, envelope("alice@example.com", {"a@remote.test", "b@remote.test"}),
                  message_text("two"));
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool) && mailbox("alice").size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  runner.stop();
  ASSERT_EQ(mailbox("alice").size(), 1u);
  const DsnReport r = parse(mailbox("alice").at(0));
  ASSERT_EQ(r.per_recipient.size(), 2u);
  EXPECT_EQ(r.per_recipient[0].get("status"), "5.1.1");
  EXPECT_EQ(r.per_recipient[1].get("status"), "5.7.1");
  EXPECT_THAT(r.parts[0].body, HasSubstr("<a@remote.test>"));
  EXPECT_THAT(r.parts[0].body, HasSubstr("<b@remote.test>"));
}

TEST_F(RunnerBounce, NullSenderIsNeverBounced) {
  courier_->script("bad@remote.test", {refused()});
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  submit_and_wait(*spool, envelope("", {"bad@remote.test"}), message_text("a bounce itself"));
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  runner.stop();
  EXPECT_EQ(courier_->calls("bad@remote.test"), 1);
  EXPECT_TRUE(courier_->bounces().empty());
  EXPECT_TRUE(queue_empty(*spool));
}

TEST_F(RunnerBounce, NotifyWithoutFailureIsRespected) {
  courier_->script("never@remote.test", {refused()});
  courier_->script("delay@remote.test", {refused()});
  courier_->script("failure@remote.test", {refused()});
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  Envelope e = envelope("alice@example.com",
                        {"never@remote.test", "delay@remote.test", "failure@remote.test"});
  e.recipients[0].notify = "NEVER";
  e.recipients[1].notify = "SUCCESS,DELAY";
  e.recipients[2].notify = "success,failure";
  submit_and_wait(*spool, e, message_text("notify"));
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool) && mailbox("alice").size() == 1; }));
  runner.stop();
  const DsnReport r = parse(mailbox("alice").at(0));
  ASSERT_EQ(r.per_recipient.size(), 1u);
  EXPECT_EQ(r.per_recipient[0].get("final-recipient"), "rfc822; failure@remote.test");

  // Nobody who asked for no report gets one.
  TempDir other;
  auto spool2 = Spool::open(other.path() / "spool", {});
  RunnerSettings s = settings();
  s.mail_root = other.path() / "mail";
  QueueRunner runner2(*spool2, s);
  runner2.start();
  Envelope n = envelope("alice@example.com", {"never@remote.test"});
  n.recipients[0].notify = "never";
  submit_and_wait(*spool2, n, message_text("never"));
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool2); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  runner2.stop();
  EXPECT_TRUE(files_in(other.path() / "mail" / "example.com" / "alice" / "new").empty());
}

TEST_F(RunnerBounce, ExpiryAfterTheQueueLifetimeBouncesWith447) {
  courier_->script("slow@remote.test", {later()});
  auto spool = Spool::open(spool_dir(), {});
  RunnerSettings s = settings();
  s.max_queue_lifetime = std::chrono::seconds(1);
  s.retry_initial = std::chrono::seconds(1);
  s.retry_max = std::chrono::seconds(3600);
  QueueRunner runner(*spool, s);
  runner.start();
  const auto id =
      submit_and_wait(
          *spool,
          envelope("alice@example.com", {"ok@remote.test", "slow@remote.test", "bob@example.com"}),
          message_text("slow"))
          .queue_id;
  // First attempt: delivered, deferred, delivered.
  ASSERT_TRUE(eventually([&] {
    const auto m = spool->load(id);
    return m && m->recipients[1].attempts == 1;
  }));
  EXPECT_EQ(spool->load(id)->recipients[1].state, RecipientState::pending);
  EXPECT_TRUE(mailbox("alice").empty());
  // The lifetime ends one second after arrival: one more attempt, then the
  // bounce.
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool) && mailbox("alice").size() == 1; },
                         std::chrono::seconds(4)));
  runner.stop();
  EXPECT_EQ(courier_->calls("slow@remote.test"), 2);
  // Delivered recipients are never tried again.
  EXPECT_EQ(courier_->calls("ok@remote.test"), 1);
  EXPECT_EQ(files_in(mail() / "example.com" / "bob" / "new").size(), 1u);
  const DsnReport r = parse(mailbox("alice").at(0));
  ASSERT_EQ(r.per_recipient.size(), 1u);
  const auto& b = r.per_recipient[0];
  EXPECT_EQ(b.get("final-recipient"), "rfc822; slow@remote.test");
  EXPECT_EQ(b.get("action"), "failed");
  EXPECT_EQ(b.get("status"), "4.4.7");
  EXPECT_EQ(b.get("diagnostic-code"),
            "X-Postern; 4.4.7 message expired in the queue after 2 attempts; last error: 451 "
            "4.3.0 try again later");
  EXPECT_THAT(r.parts[0].body, HasSubstr("tried 2 times"));
}

TEST_F(RunnerBounce, BounceToARemoteSenderGoesOutFromTheNullSender) {
  courier_->script("bad@remote.test", {refused()});
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  submit_and_wait(*spool, envelope("bob@elsewhere.test", {"bad@remote.test"}), message_text("out"));
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool) && courier_->bounces().size() == 1; }));
  runner.stop();
  const auto [to, data] = courier_->bounces().at(0);
  EXPECT_EQ(to, "bob@elsewhere.test");
  const DsnReport r = parse(data);
  EXPECT_EQ(r.message.get("to"), "<bob@elsewhere.test>");
}

TEST_F(RunnerBounce, BounceThatCannotBeDeliveredIsNotBounced) {
  // The sender's own mailbox is refused (an unsafe name): the bounce fails
  // for good and, coming from <>, produces nothing further.
  courier_->script("bad@remote.test", {refused()});
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  submit_and_wait(*spool, envelope(".hidden@example.com", {"bad@remote.test"}),
                  message_text("loop"));
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE(queue_empty(*spool));
  runner.stop();
}

// A spool whose Nth durable step of a kind fails, as a crash there would
// leave it.
struct Faults {
  std::mutex mu;
  std::string step;
  int fail_at = 0;  // 1-based count of `step` since arming; 0 = disarmed
  int seen = 0;
  SpoolOptions options() {
    SpoolOptions o;
    o.fault_injector = [this](std::string_view s) {
      std::lock_guard lock(mu);
      if (fail_at == 0 || s != step) return std::error_code{};
      if (++seen != fail_at) return std::error_code{};
      return std::make_error_code(std::errc::io_error);
    };
    return o;
  }
  void arm(std::string s, int n) {
    std::lock_guard lock(mu);
    step = std::move(s);
    fail_at = n;
    seen = 0;
  }
  bool fired() {
    std::lock_guard lock(mu);
    return fail_at != 0 && seen >= fail_at;
  }
};

// Runs one message to a permanent failure while `faults` breaks one step,
// "crashes" (stops and drops runner and spool), restarts on the same
// folder, and checks that exactly one bounce is delivered and the failed
// recipient was tried once.
class RunnerBounceRestart : public RunnerBounce,
                            public ::testing::WithParamInterface<std::pair<const char*, int>> {};

TEST_P(RunnerBounceRestart, NeitherLosesNorDuplicates) {
  const auto [step, nth] = GetParam();
  courier_->script("bad@remote.test", {refused()});
  courier_->script("ok@remote.test", {{Outcome::delivered, "250 ok", "mx"}});
  // Bounces wait in the queue during the first run, so that the restart
  // finds the first bounce still queued when it was made.
  courier_->bounce_outcome = Outcome::transient;
  Faults faults;
  std::string id;
  {
    auto spool = Spool::open(spool_dir(), faults.options());
    // One worker: the bounce's own attempt cannot interleave with the
    // steps counted here.
    RunnerSettings s = settings();
    s.limits.max_connections = 1;
    s.limits.local_concurrency = 1;
    QueueRunner runner(*spool, s);
    runner.start();
    faults.arm(step, nth);
    id = submit_and_wait(*spool,
                         envelope("bob@elsewhere.test", {"ok@remote.test", "bad@remote.test"}),
                         message_text("crash"))
             .queue_id;
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(eventually([&] { return faults.fired(); }));
    // Let the attempt finish what it does after the failure.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    runner.stop();
    spool->shutdown();
  }
  courier_->bounce_outcome = Outcome::delivered;
  auto spool = Spool::open(spool_dir(), {});
  QueueRunner runner(*spool, settings());
  runner.start();
  ASSERT_TRUE(eventually([&] { return queue_empty(*spool); }, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  runner.stop();
  EXPECT_EQ(courier_->calls("bad@remote.test"), 1);
  EXPECT_EQ(courier_->calls("ok@remote.test"), 1);
  const auto bounces = courier_->bounces();
  ASSERT_EQ(bounces.size(), 1u);
  const DsnReport r = parse(bounces[0].second);
  ASSERT_EQ(r.per_recipient.size(), 1u);
  EXPECT_EQ(r.per_recipient[0].get("final-recipient"), "rfc822; bad@remote.test");
}

INSTANTIATE_TEST_SUITE_P(Steps, RunnerBounceRestart,
                         ::testing::Values(
                             // The bounce itself cannot be stored: the owed mark makes the next
                             // run send it.
                             std::pair<const char*, int>{"write", 2},
                             // Recording the failure after the bounce was queued fails: the next
                             // run finds the queued bounce instead of making a second one.
                             std::pair<const char*, int>{"update_write", 2}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.first) + "_" +
                                  std::to_string(param_info.param.second);
                         });

}  // namespace
}  // namespace postern::delivery

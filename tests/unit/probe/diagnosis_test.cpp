// What replies mean and what the walk says about each diagnosis.
#include <gtest/gtest.h>

#include <set>

#include "probe/certificate_check.hpp"
#include "probe/diagnosis.hpp"

namespace postern::probe {
namespace {

smtp::client::ServerReply reply(int code, std::vector<std::string> lines) {
  smtp::client::ServerReply r;
  r.code = code;
  r.lines = std::move(lines);
  return r;
}

TEST(Diagnosis, MailCommandParameters) {
  smtp::client::Capabilities plain;
  EXPECT_EQ(mail_command("a@b.test", {"c@d.test"}, std::nullopt, plain), "MAIL FROM:<a@b.test>");
  const smtp::client::Capabilities rich =
      smtp::client::parse_capabilities(reply(250, {"mx", "SIZE 1000", "8BITMIME", "SMTPUTF8"}));
  EXPECT_TRUE(rich.size && rich.eightbitmime && rich.smtputf8);
  EXPECT_EQ(mail_command("a@b.test", {"c@d.test"}, std::nullopt, rich), "MAIL FROM:<a@b.test>");
  EXPECT_EQ(mail_command("a@b.test", {"c@d.test"}, std::string("hi\r\n"), rich),
            "MAIL FROM:<a@b.test> SIZE=4");
  EXPECT_EQ(mail_command("a@b.test", {"c@d.test"}, std::string("caf\xc3\xa9"), rich),
            "MAIL FROM:<a@b.test> SIZE=5 BODY=8BITMIME");
  EXPECT_EQ(mail_command("a@b.test", {"j\xc3\xb6rg@d.test"}, std::nullopt, rich),
            "MAIL FROM:<a@b.test> SMTPUTF8");
  EXPECT_EQ(mail_command("", {}, std::nullopt, plain), "MAIL FROM:<>");
}

TEST(Diagnosis, EnhancedCode) {
  EXPECT_EQ(enhanced_code(reply(554, {"5.7.1 <a@b>: Relay access denied"})), "5.7.1");
  EXPECT_EQ(enhanced_code(reply(550, {"no such user"})), "");
  EXPECT_EQ(enhanced_code(reply(550, {})), "");
}

TEST(Diagnosis, Classify) {
  EXPECT_EQ(classify_banner(reply(220, {"mx"})), Diagnosis::ok);
  EXPECT_EQ(classify_banner(reply(421, {"busy"})), Diagnosis::server_busy);
  EXPECT_EQ(classify_banner(reply(554, {"go away"})), Diagnosis::banner_rejected);
  EXPECT_EQ(classify_banner(reply(250, {"?"})), Diagnosis::protocol_error);

  EXPECT_EQ(classify_auth(reply(235, {"ok"})), Diagnosis::ok);
  EXPECT_EQ(classify_auth(reply(535, {"5.7.8 bad"})), Diagnosis::auth_failed);
  EXPECT_EQ(classify_auth(reply(454, {"4.7.0 later"})), Diagnosis::auth_temporary);
  EXPECT_EQ(classify_auth(reply(538, {"5.7.11 encryption"})),
            Diagnosis::auth_not_offered_before_tls);
  EXPECT_EQ(classify_auth(reply(530, {"5.7.0 STARTTLS first"})),
            Diagnosis::auth_not_offered_before_tls);
  EXPECT_EQ(classify_auth(reply(504, {"5.5.4 mechanism"})), Diagnosis::auth_mechanism_unsupported);

  EXPECT_EQ(classify_mail(reply(250, {"ok"})), Diagnosis::ok);
  EXPECT_EQ(classify_mail(reply(553, {"5.7.1 Sender address not owned by user"})),
            Diagnosis::sender_rejected);
  EXPECT_EQ(classify_mail(reply(451, {"4.3.0 later"})), Diagnosis::temporary_rejection);

  EXPECT_EQ(classify_rcpt(reply(250, {"ok"})), Diagnosis::ok);
  EXPECT_EQ(classify_rcpt(reply(251, {"forwarded"})), Diagnosis::ok);
  EXPECT_EQ(classify_rcpt(reply(554, {"5.7.1 <x@y>: Relay access denied"})),
            Diagnosis::relay_denied);
  EXPECT_EQ(classify_rcpt(reply(550, {"relaying denied"})), Diagnosis::relay_denied);
  EXPECT_EQ(classify_rcpt(reply(550, {"5.1.1 no such user"})), Diagnosis::recipient_refused);
  EXPECT_EQ(classify_rcpt(reply(450, {"4.2.0 greylisted"})), Diagnosis::temporary_rejection);

  EXPECT_EQ(classify_data(reply(250, {"queued"})), Diagnosis::ok);
  EXPECT_EQ(classify_data(reply(554, {"5.7.1 spam"})), Diagnosis::message_rejected);
  EXPECT_EQ(classify_data(reply(452, {"4.3.1 disk"})), Diagnosis::temporary_rejection);
}

TEST(Diagnosis, MechanismChoicePrefersPlain) {
  EXPECT_EQ(choose_mechanism({"LOGIN", "PLAIN"}), "PLAIN");
  EXPECT_EQ(choose_mechanism({"CRAM-MD5", "LOGIN"}), "LOGIN");
  EXPECT_EQ(choose_mechanism({"XOAUTH2"}), "");
}

TEST(Diagnosis, CertificateProblemOrder) {
  CertificateInfo c;
  c.present = true;
  c.trusted = true;
  c.name_matches = true;
  EXPECT_EQ(certificate_problem(c), Diagnosis::ok);
  CertificateInfo bad = c;
  bad.trusted = false;
  bad.self_signed = true;
  bad.name_matches = false;
  bad.expired = true;
  EXPECT_EQ(certificate_problem(bad), Diagnosis::certificate_expired);
  bad.expired = false;
  EXPECT_EQ(certificate_problem(bad), Diagnosis::certificate_self_signed);
  bad.self_signed = false;
  EXPECT_EQ(certificate_problem(bad), Diagnosis::certificate_name_mismatch);
  bad.name_matches = true;
  EXPECT_EQ(certificate_problem(bad), Diagnosis::certificate_untrusted);
  CertificateInfo pinned = c;  // a self-signed certificate given with --ca-file
  pinned.self_signed = true;
  EXPECT_EQ(certificate_problem(pinned), Diagnosis::ok);
  CertificateInfo future = c;
  future.not_yet_valid = true;
  EXPECT_EQ(certificate_problem(future), Diagnosis::certificate_not_yet_valid);
  EXPECT_EQ(certificate_problem(CertificateInfo{}), Diagnosis::certificate_untrusted);
}

ProbeResult failed(Diagnosis d, std::uint16_t port = 587) {
  ProbeResult r;
  r.host = "mail.example.test";
  r.port = port;
  r.diagnosis = d;
  return r;
}

TEST(Diagnosis, Port25TimeoutNamesTheBlockAndTheWayOut) {
  ProbeResult r = failed(Diagnosis::connect_timeout, 25);
  explain(r, ProbeOptions{});
  EXPECT_NE(r.explanation.find("blocked by most ISPs and clouds"), std::string::npos);
  EXPECT_NE(r.advice.find("587"), std::string::npos);
  ProbeResult other = failed(Diagnosis::connect_timeout, 587);
  explain(other, ProbeOptions{});
  EXPECT_EQ(other.explanation.find("ISPs"), std::string::npos);
}

TEST(Diagnosis, WrongModeAdviceNamesTheOption) {
  ProbeResult r = failed(Diagnosis::expects_implicit_tls, 465);
  explain(r, ProbeOptions{});
  EXPECT_NE(r.advice.find("--tls implicit"), std::string::npos);
  r = failed(Diagnosis::expects_plaintext);
  r.tls_found = TlsFound::starttls;
  explain(r, ProbeOptions{});
  EXPECT_NE(r.advice.find("--tls starttls"), std::string::npos);
  r.tls_found = TlsFound::plaintext;
  explain(r, ProbeOptions{});
  EXPECT_NE(r.advice.find("--tls none"), std::string::npos);
}

TEST(Diagnosis, NameMismatchListsTheNames) {
  ProbeResult r = failed(Diagnosis::certificate_name_mismatch);
  r.certificate.present = true;
  r.certificate.names = {"smtp.other.test", "*.other.test"};
  explain(r, ProbeOptions{});
  EXPECT_NE(r.explanation.find("smtp.other.test, *.other.test"), std::string::npos);
  EXPECT_NE(r.advice.find("postern probe smtp.other.test:587"), std::string::npos);
}

TEST(Diagnosis, AuthFailureListsMechanismsAndServerText) {
  ProbeResult r = failed(Diagnosis::auth_failed);
  r.auth_mechanisms = {"PLAIN", "LOGIN"};
  r.server_reply = "535 5.7.8 Authentication credentials invalid";
  ProbeOptions o;
  o.user = "alice@example.test";
  o.password = "never-shown";
  explain(r, o);
  EXPECT_NE(r.explanation.find("PLAIN LOGIN"), std::string::npos);
  EXPECT_NE(r.explanation.find("535 5.7.8"), std::string::npos);
  EXPECT_EQ(r.explanation.find("never-shown"), std::string::npos);
  EXPECT_EQ(r.advice.find("never-shown"), std::string::npos);
}

TEST(Diagnosis, EveryDiagnosisHasWordsAndAStableName) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(Diagnosis::protocol_error); ++i) {
    ProbeResult r = failed(static_cast<Diagnosis>(i));
    explain(r, ProbeOptions{});
    EXPECT_FALSE(r.explanation.empty()) << i;
    if (r.diagnosis != Diagnosis::ok) {
      EXPECT_FALSE(r.advice.empty()) << to_string(r.diagnosis);
    }
    const std::string name(to_string(r.diagnosis));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(Diagnosis, ExitStatusGroups) {
  EXPECT_EQ(exit_status(Diagnosis::ok), 0);
  EXPECT_EQ(exit_status(Diagnosis::name_not_found), 3);
  EXPECT_EQ(exit_status(Diagnosis::dns_failure), 3);
  EXPECT_EQ(exit_status(Diagnosis::connect_timeout), 4);
  EXPECT_EQ(exit_status(Diagnosis::connect_refused), 4);
  EXPECT_EQ(exit_status(Diagnosis::expects_implicit_tls), 5);
  EXPECT_EQ(exit_status(Diagnosis::expects_plaintext), 5);
  EXPECT_EQ(exit_status(Diagnosis::certificate_expired), 6);
  EXPECT_EQ(exit_status(Diagnosis::tls_handshake_failed), 6);
  EXPECT_EQ(exit_status(Diagnosis::auth_failed), 7);
  EXPECT_EQ(exit_status(Diagnosis::auth_not_offered_before_tls), 7);
  EXPECT_EQ(exit_status(Diagnosis::relay_denied), 8);
  EXPECT_EQ(exit_status(Diagnosis::sender_rejected), 8);
  EXPECT_EQ(exit_status(Diagnosis::message_rejected), 9);
  EXPECT_EQ(exit_status(Diagnosis::temporary_rejection), 10);
  EXPECT_EQ(exit_status(Diagnosis::protocol_error), 10);
}

TEST(Diagnosis, StageNames) {
  EXPECT_EQ(to_string(Stage::dns), "dns");
  EXPECT_EQ(to_string(Stage::certificate), "certificate");
  EXPECT_EQ(to_string(Stage::rcpt), "rcpt");
  EXPECT_EQ(to_string(TlsFound::implicit), "implicit");
}

}  // namespace
}  // namespace postern::probe

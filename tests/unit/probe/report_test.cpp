// The human report and the JSON document (schema 1).
#include <gtest/gtest.h>

#include "probe/report.hpp"

namespace postern::probe {
namespace {

using namespace std::chrono_literals;

ProbeResult failing() {
  ProbeResult r;
  r.host = "mail.example.test";
  r.port = 465;
  r.addresses = {"192.0.2.1"};
  r.address = "192.0.2.1";
  r.steps = {{Stage::dns, true, 3ms, "192.0.2.1"},
             {Stage::connect, true, 12ms, "192.0.2.1:465"},
             {Stage::tls, false, 40ms, "the server answered the TLS handshake in plaintext"}};
  r.diagnosis = Diagnosis::expects_plaintext;
  r.failed_stage = Stage::tls;
  r.tls_found = TlsFound::starttls;
  r.explanation = "This port speaks STARTTLS.";
  r.advice = "Use --tls starttls (or --tls auto).";
  return r;
}

TEST(Report, TextShowsStepsDiagnosisAndAdvice) {
  const std::string text = render_text(failing(), false);
  EXPECT_NE(text.find("dns"), std::string::npos);
  EXPECT_NE(text.find("ok  "), std::string::npos);
  EXPECT_NE(text.find("FAIL"), std::string::npos);
  EXPECT_NE(text.find("40 ms"), std::string::npos);
  EXPECT_NE(text.find("Diagnosis: expects_plaintext (at tls)"), std::string::npos);
  EXPECT_NE(text.find("Try: Use --tls starttls"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(Report, ColourOnlyWhenAsked) {
  const std::string text = render_text(failing(), true);
  EXPECT_NE(text.find("\x1b[31mFAIL\x1b[0m"), std::string::npos);
  EXPECT_NE(text.find("\x1b[32m"), std::string::npos);
}

TEST(Report, TextSummaryWhenEverythingWorks) {
  ProbeResult r;
  r.host = "mail.example.test";
  r.port = 587;
  r.tls_found = TlsFound::starttls;
  r.tls_version = "TLSv1.3";
  r.auth_mechanisms = {"PLAIN", "LOGIN"};
  r.queue_id = "4Xk2";
  const std::string text = render_text(r, false);
  EXPECT_NE(text.find("OK: mail.example.test:587 works with STARTTLS (--tls starttls), TLSv1.3, "
                      "AUTH PLAIN LOGIN."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Queued as 4Xk2"), std::string::npos);
}

TEST(Report, JsonSchemaOne) {
  const nlohmann::json j = nlohmann::json::parse(render_json(failing(), "probe"));
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["command"], "probe");
  EXPECT_EQ(j["host"], "mail.example.test");
  EXPECT_EQ(j["port"], 465);
  EXPECT_EQ(j["address"], "192.0.2.1");
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["diagnosis"], "expects_plaintext");
  EXPECT_EQ(j["failed_stage"], "tls");
  EXPECT_EQ(j["exit_status"], 5);
  EXPECT_EQ(j["explanation"], "This port speaks STARTTLS.");
  EXPECT_EQ(j["advice"], "Use --tls starttls (or --tls auto).");
  EXPECT_EQ(j["tls"]["found"], "starttls");
  EXPECT_TRUE(j["tls"]["version"].is_null());
  EXPECT_TRUE(j["certificate"].is_null());
  EXPECT_TRUE(j["auth_mechanisms"].is_array());
  ASSERT_EQ(j["steps"].size(), 3u);
  EXPECT_EQ(j["steps"][2]["stage"], "tls");
  EXPECT_EQ(j["steps"][2]["ok"], false);
  EXPECT_EQ(j["steps"][2]["ms"], 40);
  EXPECT_TRUE(j["server_reply"].is_null());
  EXPECT_TRUE(j["queue_id"].is_null());
}

TEST(Report, JsonKeysAreTheDocumentedOnes) {
  // docs/troubleshooting.md lists these; schema 1 only ever adds keys.
  const nlohmann::json j = nlohmann::json::parse(render_json(failing(), "send"));
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"address",
                                            "addresses",
                                            "advice",
                                            "auth_mechanisms",
                                            "auth_mechanisms_before_tls",
                                            "banner",
                                            "certificate",
                                            "command",
                                            "diagnosis",
                                            "exit_status",
                                            "explanation",
                                            "failed_stage",
                                            "host",
                                            "ok",
                                            "port",
                                            "queue_id",
                                            "schema",
                                            "server_reply",
                                            "size_limit",
                                            "steps",
                                            "tls"}));
  std::vector<std::string> tls_keys;
  for (const auto& item : j["tls"].items()) tls_keys.push_back(item.key());
  EXPECT_EQ(tls_keys, (std::vector<std::string>{"cipher", "found", "starttls_offered", "version"}));
}

TEST(Report, JsonOkHasNoFailedStageAndCarriesTheCertificate) {
  ProbeResult r;
  r.host = "h";
  r.port = 587;
  r.certificate.present = true;
  r.certificate.subject = "CN=h";
  r.certificate.names = {"h"};
  r.certificate.trusted = true;
  r.certificate.name_matches = true;
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["failed_stage"].is_null());
  EXPECT_EQ(j["certificate"]["subject"], "CN=h");
  EXPECT_EQ(j["certificate"]["names"][0], "h");
  EXPECT_EQ(j["certificate"]["trusted"], true);
  EXPECT_FALSE(j.contains("schema"));
}

TEST(Report, InvalidUtf8FromAServerDoesNotThrow) {
  ProbeResult r = failing();
  r.server_reply = std::string("554 \xff\xfe bad");
  EXPECT_NO_THROW(render_json(r, "send"));
}

}  // namespace
}  // namespace postern::probe

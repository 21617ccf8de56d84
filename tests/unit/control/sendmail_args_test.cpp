#include "control/sendmail_args.hpp"

#include <gtest/gtest.h>

namespace postern::control {
namespace {

using Strings = std::vector<std::string>;

TEST(SendmailArgs, PhpDefault) {
  // PHP's sendmail_path default is "sendmail -t -i".
  const SendmailArgs a = parse_sendmail_args({"-t", "-i"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_TRUE(a.recipients_from_headers);
  EXPECT_TRUE(a.recipients.empty());
  EXPECT_FALSE(a.sender);
}

TEST(SendmailArgs, GluedAndSeparateValues) {
  const SendmailArgs a = parse_sendmail_args({"-oi", "-fapp@example.test", "-F", "Web Shop", "-odi",
                                              "-oem", "bob@example.test", "carol@example.test"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.sender, "app@example.test");
  EXPECT_EQ(a.full_name, "Web Shop");
  EXPECT_EQ(a.recipients, (Strings{"bob@example.test", "carol@example.test"}));
  EXPECT_FALSE(a.recipients_from_headers);
}

TEST(SendmailArgs, CombinedFlagsAndMinusR) {
  const SendmailArgs a = parse_sendmail_args({"-ti", "-r", "x@y.test", "-v"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_TRUE(a.recipients_from_headers);
  EXPECT_EQ(a.sender, "x@y.test");
}

TEST(SendmailArgs, FlagThenGluedValue) {
  const SendmailArgs a = parse_sendmail_args({"-tfme@x.test"});
  EXPECT_TRUE(a.recipients_from_headers);
  EXPECT_EQ(a.sender, "me@x.test");
}

TEST(SendmailArgs, NullSender) {
  EXPECT_EQ(parse_sendmail_args({"-f", "<>", "a@b"}).sender, "<>");
  EXPECT_EQ(normalize_sender("<>"), "");
  EXPECT_EQ(normalize_sender(""), "");
  EXPECT_EQ(normalize_sender("<a@b>"), "a@b");
  EXPECT_EQ(normalize_sender("a@b"), "a@b");
  EXPECT_EQ(parse_sendmail_args({"-f", "", "a@b"}).sender, "");
}

TEST(SendmailArgs, IgnoredCompatibilityOptions) {
  const SendmailArgs a = parse_sendmail_args({"-bm",
                                              "-N",
                                              "never",
                                              "-B",
                                              "8BITMIME",
                                              "-R",
                                              "hdrs",
                                              "-V",
                                              "env",
                                              "-O",
                                              "x=y",
                                              "-C",
                                              "/etc/mail/sendmail.cf",
                                              "-U",
                                              "-G",
                                              "-m",
                                              "-n",
                                              "-L",
                                              "tag",
                                              "-h",
                                              "5",
                                              "-p",
                                              "x",
                                              "a@b"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.recipients, (Strings{"a@b"}));
}

TEST(SendmailArgs, ConfigOption) {
  EXPECT_EQ(parse_sendmail_args({"--config", "/etc/p.toml", "a@b"}).config_path, "/etc/p.toml");
  EXPECT_EQ(parse_sendmail_args({"--config=/x.toml"}).config_path, "/x.toml");
  EXPECT_FALSE(parse_sendmail_args({"--config"}).error.empty());
  EXPECT_FALSE(parse_sendmail_args({"--configure"}).error.empty());
}

TEST(SendmailArgs, DoubleDashEndsOptions) {
  const SendmailArgs a = parse_sendmail_args({"-i", "--", "-odd@x.test"});
  EXPECT_TRUE(a.error.empty());
  EXPECT_EQ(a.recipients, (Strings{"-odd@x.test"}));
}

TEST(SendmailArgs, UsageErrors) {
  for (const Strings& bad :
       {Strings{"-bs"}, Strings{"-bp"}, Strings{"-bd"}, Strings{"-q"}, Strings{"-x"}, Strings{"-f"},
        Strings{"--verbose"}, Strings{"-t", "-F"}}) {
    EXPECT_FALSE(parse_sendmail_args(bad).error.empty()) << bad[0];
  }
  EXPECT_NE(parse_sendmail_args({"-bp"}).error.find("postern queue list"), std::string::npos);
}

TEST(SendmailArgs, Help) {
  EXPECT_TRUE(parse_sendmail_args({"--help"}).help);
}

TEST(SendmailArgs, BvVerifiesInsteadOfSending) {
  const SendmailArgs a = parse_sendmail_args({"-bv", "root", "alice@example.com"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_TRUE(a.verify);
  EXPECT_EQ(a.recipients, (std::vector<std::string>{"root", "alice@example.com"}));
}

}  // namespace
}  // namespace postern::control

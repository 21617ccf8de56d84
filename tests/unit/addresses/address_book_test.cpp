// The resolution rules of SPEC §1.9 as tables: an address in, the mailboxes
// or remote targets and the reason out; then loops, depth, ownership.
#include "addresses/address_book.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postern::addresses {
namespace {

using Clock = std::chrono::system_clock;

const char* kAliases = R"(# the worked example of docs/addresses.md
info@example.com:     alice@example.com, bob@example.com
team@example.com:     info@example.com, Bob@Example.com     # bob twice: once
Sales@Example.com:    carol@partner.example
fwd@example.com:      alice@example.com, Dave.Remote@Elsewhere.example
admin@example.com:    admin@example.com, admin@backup.example
root:                 admin@example.com
@example.org:         bob@example.com
)";

AddressBook book(BookSettings settings = {}) {
  if (settings.local_domains.empty()) settings.local_domains = {"example.com", "Example.ORG"};
  if (settings.default_domain.empty()) settings.default_domain = "example.com";
  const AliasFile file = parse_aliases(kAliases, "aliases", settings.default_domain);
  EXPECT_TRUE(file.errors.empty()) << file.errors.front();
  return AddressBook(settings, {"alice@example.com", "Bob@example.com", "admin@example.com"},
                     file.entries);
}

struct Row {
  std::string address;
  Status status;
  std::string reason;
  std::vector<std::string> targets;  // "=" prefix: remote
};

std::vector<std::string> shown(const Resolution& r) {
  std::vector<std::string> out;
  for (const auto& t : r.targets) out.push_back(t.local ? t.address : "=" + t.address);
  return out;
}

TEST(AddressBook, ResolutionTable) {
  const AddressBook b = book();
  const std::vector<Row> rows = {
      // users, any case; the mailbox keeps its lowercase name
      {"bob@example.com", Status::deliver, "user", {"bob@example.com"}},
      {"BOB@EXAMPLE.COM", Status::deliver, "user", {"bob@example.com"}},
      // subaddresses (RFC 5233)
      {"bob+news@example.com", Status::deliver, "plus-tag", {"bob@example.com"}},
      {"BOB+x+y@example.com", Status::deliver, "plus-tag", {"bob@example.com"}},
      {"+news@example.com", Status::unknown, "", {}},
      // an alias to two users, and one that reaches bob twice
      {"info@example.com", Status::deliver, "alias", {"alice@example.com", "bob@example.com"}},
      {"Info+list@example.com",
       Status::deliver,
       "plus-tag",
       {"alice@example.com", "bob@example.com"}},
      {"team@example.com", Status::deliver, "alias", {"alice@example.com", "bob@example.com"}},
      // aliases to remote addresses keep the remote local part as written
      {"sales@example.com", Status::deliver, "alias", {"=carol@partner.example"}},
      {"fwd@example.com",
       Status::deliver,
       "alias",
       {"alice@example.com", "=Dave.Remote@elsewhere.example"}},
      // an alias of a user's own address keeps a copy in the mailbox
      {"Admin@example.com",
       Status::deliver,
       "alias",
       {"admin@example.com", "=admin@backup.example"}},
      // bare names in the file belong to the default domain
      {"root@example.com",
       Status::deliver,
       "alias",
       {"admin@example.com", "=admin@backup.example"}},
      // role addresses: postmaster of every local domain goes to the first user
      {"postmaster@example.com", Status::deliver, "role", {"alice@example.com"}},
      {"PostMaster@example.org", Status::deliver, "role", {"alice@example.com"}},
      {"abuse@example.com", Status::unknown, "", {}},
      // the catch-all takes only names nothing else matched
      {"whoever@example.org", Status::deliver, "catch-all", {"bob@example.com"}},
      {"nobody@example.com", Status::unknown, "", {}},
      // not ours
      {"alice@elsewhere.example", Status::not_local, "", {}},
  };
  for (const Row& row : rows) {
    const Resolution r = b.resolve(row.address, Clock::now());
    EXPECT_EQ(r.status, row.status) << row.address << ": " << r.detail;
    EXPECT_EQ(r.reason, row.reason) << row.address;
    EXPECT_EQ(shown(r), row.targets) << row.address;
  }
}

TEST(AddressBook, RoleAddressesAreConfigurable) {
  BookSettings s;
  s.postmaster = "bob@example.com";
  s.abuse = "alice@example.com";
  const AddressBook b = book(s);
  EXPECT_EQ(shown(b.resolve("postmaster@example.org", Clock::now())),
            std::vector<std::string>{"bob@example.com"});
  EXPECT_EQ(shown(b.resolve("abuse@example.com", Clock::now())),
            std::vector<std::string>{"alice@example.com"});
}

TEST(AddressBook, DelimiterIsConfigurable) {
  BookSettings s;
  s.recipient_delimiter = "-";
  const AddressBook b = book(s);
  EXPECT_EQ(b.resolve("bob-news@example.com", Clock::now()).status, Status::deliver);
  EXPECT_EQ(b.resolve("bob+news@example.com", Clock::now()).status, Status::unknown);
  s.recipient_delimiter = "";
  EXPECT_EQ(book(s).resolve("bob-news@example.com", Clock::now()).status, Status::unknown);
}

TEST(AddressBook, TraceSaysWhy) {
  const Resolution r = book().resolve("team@example.com", Clock::now());
  ASSERT_EQ(r.targets.size(), 2u);
  ASSERT_EQ(r.targets[0].trace.size(), 3u);
  EXPECT_EQ(r.targets[0].trace[0], "team@example.com: alias (aliases:3)");
  EXPECT_EQ(r.targets[0].trace[1], "info@example.com: alias (aliases:2)");
  EXPECT_EQ(r.targets[0].trace[2], "alice@example.com: user (mailbox)");
}

struct LoopRow {
  std::string file;
  std::string address;
  Status status;
};

TEST(AddressBook, LoopsAndDepthAreConfigurationErrors) {
  std::string deep;
  for (int i = 0; i < 12; ++i) {
    deep += "a" + std::to_string(i) + "@example.com: a" + std::to_string(i + 1) + "@example.com\n";
  }
  deep += "a12@example.com: bob@example.com\n";
  const std::vector<LoopRow> rows = {
      {"a@example.com: b@example.com\nb@example.com: a@example.com\n", "a@example.com",
       Status::loop},
      {"a@example.com: a@example.com\n", "a@example.com", Status::loop},
      {"a@example.com: bob@example.com, c@example.com\nc@example.com: A@example.com\n",
       "a@example.com", Status::loop},
      {"@example.com: nobody@example.com\n", "x@example.com", Status::loop},
      {deep, "a0@example.com", Status::too_deep},
  };
  for (const LoopRow& row : rows) {
    const AliasFile f = parse_aliases(row.file, "aliases", "example.com");
    ASSERT_TRUE(f.errors.empty()) << f.errors.front();
    BookSettings s;
    s.local_domains = {"example.com"};
    const AddressBook b(s, {"bob@example.com"}, f.entries);
    EXPECT_EQ(b.resolve(row.address, Clock::now()).status, row.status) << row.file;
    bool error = false;
    for (const auto& p : b.problems()) error = error || p.error;
    EXPECT_TRUE(error) << row.file;
  }
  // Ten levels are fine.
  std::string ten;
  for (int i = 0; i < 9; ++i) {
    ten += "a" + std::to_string(i) + "@example.com: a" + std::to_string(i + 1) + "@example.com\n";
  }
  ten += "a9@example.com: bob@example.com\n";
  BookSettings s;
  s.local_domains = {"example.com"};
  const AddressBook b(s, {"bob@example.com"}, parse_aliases(ten, "aliases", "").entries);
  EXPECT_EQ(shown(b.resolve("a0@example.com", Clock::now())),
            std::vector<std::string>{"bob@example.com"});
}

TEST(AddressBook, LintsDanglingTargetsAndForeignCatchAll) {
  const AliasFile f = parse_aliases(
      "info@example.com: bob@example.com, ghost@example.com\n@other.example: bob@example.com\n",
      "aliases", "");
  BookSettings s;
  s.local_domains = {"example.com"};
  const AddressBook b(s, {"bob@example.com"}, f.entries);
  ASSERT_EQ(b.problems().size(), 2u);
  EXPECT_FALSE(b.problems()[0].error);
  EXPECT_EQ(b.problems()[0].where, "aliases:2");
  EXPECT_NE(b.problems()[0].message.find("other.example"), std::string::npos);
  EXPECT_EQ(b.problems()[1].where, "aliases:1");
  EXPECT_NE(b.problems()[1].message.find("ghost@example.com"), std::string::npos);
  // The live copy still goes where it can.
  EXPECT_EQ(shown(b.resolve("info@example.com", Clock::now())),
            std::vector<std::string>{"bob@example.com"});
}

TEST(AddressBook, Ownership) {
  const AddressBook b = book();
  struct O {
    std::string user, address;
    bool owns;
  };
  const std::vector<O> rows = {
      {"bob@example.com", "bob@example.com", true},
      {"BOB@example.com", "Bob@Example.COM", true},
      {"bob@example.com", "bob+lists@example.com", true},
      {"bob@example.com", "info@example.com", true},    // send-as through an alias
      {"alice@example.com", "team@example.com", true},  // through a chain
      {"alice@example.com", "bob@example.com", false},
      {"alice@example.com", "sales@example.com", false},
      {"bob@example.com", "random@example.org", false},  // a catch-all is no send-as
      {"alice@example.com", "postmaster@example.com", true},
      {"admin@example.com", "root@example.com", true},
      {"bob@example.com", "postmaster@example.com", false},
      {"bob@example.com", "bob@elsewhere.example", false},
  };
  for (const O& o : rows) {
    EXPECT_EQ(b.owns(o.user, o.address), o.owns) << o.user << " / " << o.address;
  }
}

TEST(AliasesFile, ErrorsNameFileAndLine) {
  const AliasFile f = parse_aliases(
      "# comment\n"
      "good@example.com: a@example.com\n"
      "no colon here\n"
      "x@example.com: |/bin/sh\n"
      "y@example.com:\n"
      "good@example.com: b@example.com\n"
      "bad address@example.com: a@example.com\n"
      "z@example.com: a@example.com,\n"
      "   b@example.com  # continued\n",
      "/etc/postern/aliases", "");
  ASSERT_EQ(f.errors.size(), 5u);
  EXPECT_EQ(f.errors[0].substr(0, 23), "/etc/postern/aliases:3:");
  EXPECT_EQ(f.errors[1].substr(0, 23), "/etc/postern/aliases:4:");
  EXPECT_EQ(f.errors[2].substr(0, 23), "/etc/postern/aliases:5:");
  EXPECT_NE(f.errors[3].find("defined twice"), std::string::npos);
  EXPECT_EQ(f.errors[4].substr(0, 23), "/etc/postern/aliases:7:");
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(f.entries[1].targets, (std::vector<std::string>{"a@example.com", "b@example.com"}));
}

}  // namespace
}  // namespace postern::addresses

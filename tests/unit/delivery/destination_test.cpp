// Which destination a recipient's job goes to, and the one-line STATUS the
// control socket answers with (`postern queue list`).
#include "delivery/destination.hpp"

#include <gtest/gtest.h>

namespace postern::delivery {
namespace {

using std::chrono::seconds;

TEST(Destination, LocalSmarthostOrTheRecipientDomain) {
  const std::vector<std::string> local = {"example.com", "example.net"};
  EXPECT_EQ(destination_for("alice@Example.COM", local, false), kLocalDestination);
  EXPECT_EQ(destination_for("alice@example.net", local, true), kLocalDestination);
  EXPECT_EQ(destination_for("bob@Remote.ORG", local, false), "remote.org");
  EXPECT_EQ(destination_for("bob@remote.org", local, true), kSmarthostDestination);
  // The last '@' separates the domain (a quoted local part may hold one).
  EXPECT_EQ(destination_for("\"a@b\"@x.org", local, false), "x.org");
}

TEST(Destination, StatusLine) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(format_destinations({}, now), "idle");
  DestinationStatus alive;
  alive.destination = "good.example";
  alive.in_flight = 3;
  alive.limit = 4;
  alive.queued = 12;
  DestinationStatus dead;
  dead.destination = "tarpit.example";
  dead.limit = 1;
  dead.queued = 10;
  dead.dead = true;
  dead.reason = "4.4.1 timeout; \"quoted\"\r\n";
  dead.retry_at = now + seconds(51);
  EXPECT_EQ(format_destinations({alive, dead}, now),
            "good.example in_flight=3/4 queued=12; tarpit.example in_flight=0/1 queued=10 dead "
            "retry_in=51s reason=\"4.4.1 timeout   quoted   \"");
}

}  // namespace
}  // namespace postern::delivery

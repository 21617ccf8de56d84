#include "core/reply.hpp"

#include <gtest/gtest.h>

namespace postern {
namespace {

TEST(Reply, SingleLineCarriesEnhancedStatus) {
  EXPECT_EQ(Reply(250, "2.1.0", "Ok").render(), "250 2.1.0 Ok\r\n");
}

TEST(Reply, MultiLineRepeatsStatusOnEveryLine) {
  Reply r(550, "5.7.1", std::vector<std::string>{"first", "second"});
  EXPECT_EQ(r.render(), "550-5.7.1 first\r\n550 5.7.1 second\r\n");
}

TEST(Reply, WithoutStatusForGreetingAndEhlo) {
  Reply r(250, "", std::vector<std::string>{"mail.example", "PIPELINING"});
  EXPECT_EQ(r.render(), "250-mail.example\r\n250 PIPELINING\r\n");
}

TEST(Reply, ClassifiesCodes) {
  EXPECT_TRUE(Reply(250, "2.0.0", "").positive());
  EXPECT_TRUE(Reply(452, "4.3.1", "").transient());
  EXPECT_TRUE(Reply(554, "5.7.1", "").permanent());
  EXPECT_EQ(Reply(554, "5.7.1", "Relay access denied").summary(), "554 5.7.1 Relay access denied");
}

}  // namespace
}  // namespace postern

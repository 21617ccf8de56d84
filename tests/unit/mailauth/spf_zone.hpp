// A table of DNS answers for the SPF evaluator's tests: names with their
// records; a known name without the asked type answers no_data, an unknown
// name nxdomain, a name marked broken a temporary failure.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mailauth/dns_answer.hpp"

namespace postern::mailauth::test {

class Zone {
 public:
  Zone& add(const std::string& name, RrType type, std::vector<std::string> records) {
    auto& slot = records_[{name, type}];
    slot.insert(slot.end(), records.begin(), records.end());
    return *this;
  }
  Zone& txt(const std::string& name, std::string record) {
    return add(name, RrType::txt, {std::move(record)});
  }
  Zone& a(const std::string& name, std::string address) {
    return add(name, RrType::a, {std::move(address)});
  }
  Zone& broken(const std::string& name) {
    broken_.insert(name);
    return *this;
  }

  Answer operator()(const Question& q) {
    asked.push_back(q);
    if (broken_.count(q.name) != 0) return {AnswerStatus::temporary_failure, {}};
    const auto it = records_.find({q.name, q.type});
    if (it != records_.end()) return {AnswerStatus::ok, it->second};
    for (const auto& [key, value] : records_) {
      if (key.first == q.name) return {AnswerStatus::no_data, {}};
    }
    return {AnswerStatus::nxdomain, {}};
  }

  std::vector<Question> asked;

 private:
  std::map<std::pair<std::string, RrType>, std::vector<std::string>> records_;
  std::set<std::string> broken_;
};

}  // namespace postern::mailauth::test

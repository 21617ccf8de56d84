#include "delivery/courier.hpp"

#include <future>

namespace postern::delivery {

std::vector<RecipientResult> Courier::deliver_and_wait(const spool::QueuedMessage& message,
                                                       std::string_view data,
                                                       const std::vector<std::size_t>& recipients) {
  auto promise = std::make_shared<std::promise<std::vector<RecipientResult>>>();
  std::future<std::vector<RecipientResult>> future = promise->get_future();
  deliver_async(
      message, std::make_shared<const std::string>(data), recipients,
      [promise](std::vector<RecipientResult> results) { promise->set_value(std::move(results)); });
  return future.get();
}

}  // namespace postern::delivery

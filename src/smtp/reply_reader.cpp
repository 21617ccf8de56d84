#include "smtp/reply_reader.hpp"

namespace postern::smtp::client {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

ReplyReader::Result ReplyReader::next(ServerReply& out) {
  ServerReply reply;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t lf = buffer_.find('\n', pos);
    if (lf == std::string::npos) {
      if (buffer_.size() - pos > kMaxReplyLine) return Result::malformed;
      return Result::incomplete;
    }
    std::string_view line(buffer_.data() + pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxReplyLine || line.size() < 3 || !is_digit(line[0]) ||
        !is_digit(line[1]) || !is_digit(line[2]) || line[0] < '1' || line[0] > '5') {
      return Result::malformed;
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (reply.lines.empty()) {
      reply.code = code;
    } else if (code != reply.code) {
      return Result::malformed;
    }
    const char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != ' ' && sep != '-') return Result::malformed;
    reply.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    if (reply.lines.size() > kMaxReplyLines) return Result::malformed;
    pos = lf + 1;
    if (sep == ' ') {
      buffer_.erase(0, pos);
      out = std::move(reply);
      return Result::complete;
    }
  }
}

void ReplyReader::clear() {
  buffer_.clear();
}

}  // namespace postern::smtp::client

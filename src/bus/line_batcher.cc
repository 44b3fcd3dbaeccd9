#include "bus/line_batcher.h"

#include <algorithm>

namespace vantage::bus {

LineBatcher::LineBatcher(bool csv, size_t records_per_body, size_t max_bytes, Emit emit)
    : csv_(csv),
      per_body_(records_per_body ? records_per_body : 1),
      max_bytes_(max_bytes),
      emit_(std::move(emit)) {}

void LineBatcher::feed(std::string_view data) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    std::string_view piece = data.substr(0, nl == std::string_view::npos ? data.size() : nl + 1);
    data.remove_prefix(piece.size());
    record_.append(piece);
    // An odd number of quotes in the piece toggles whether we are inside a quoted field
    // ("" escapes count twice and cancel out).
    if (csv_ && (std::count(piece.begin(), piece.end(), '"') & 1)) in_quotes_ = !in_quotes_;
    if (piece.back() == '\n' && !in_quotes_) end_record();
  }
}

void LineBatcher::end_record() {
  if (csv_ && !have_header_) {
    header_ = std::move(record_);
    have_header_ = true;
  } else {
    if (records_ > 0 && body_.size() + record_.size() > max_bytes_) {
      emit_(std::move(body_), records_);
      body_.clear();
      records_ = 0;
    }
    if (body_.empty() && csv_) body_ = header_;
    body_ += record_;
    if (++records_ == per_body_) {
      emit_(std::move(body_), records_);
      body_.clear();
      records_ = 0;
    }
  }
  record_.clear();
}

void LineBatcher::finish() {
  if (!record_.empty()) {
    record_.push_back('\n');
    in_quotes_ = false;
    end_record();
  }
  if (records_ > 0) {
    emit_(std::move(body_), records_);
    body_.clear();
    records_ = 0;
  }
}

}  // namespace vantage::bus

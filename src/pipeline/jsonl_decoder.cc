#include "pipeline/jsonl_decoder.h"

#include <simdjson.h>

#include <charconv>

#include "common/strings.h"

namespace vantage::pipeline {

struct JsonlDecoder::Impl {
  const core::Catalogue& catalogue;
  const core::ReportType* forced_type;
  size_t max_record_bytes;
  simdjson::dom::parser parser;
  std::string text;  // scratch for number formatting

  Impl(const core::Catalogue& c, const core::ReportType* t, size_t max)
      : catalogue(c), forced_type(t), max_record_bytes(max), parser(max + 64) {}

  bool set_field(core::Event& event, std::string_view name, simdjson::dom::element value,
                 DecodeError& error) {
    int col = event.type()->column_index(name);
    if (col < 0) {
      error = {std::string(name), "no such column in report type " + event.type()->name};
      return false;
    }
    std::string_view as_text;
    switch (value.type()) {
      case simdjson::dom::element_type::NULL_VALUE: event.set_null(col); return true;
      case simdjson::dom::element_type::STRING:
        as_text = value.get_string().value_unsafe();
        if (!is_valid_utf8(as_text)) {
          error = {std::string(name), "bad UTF-8"};
          return false;
        }
        break;
      case simdjson::dom::element_type::INT64:
        text = std::to_string(value.get_int64().value_unsafe());
        as_text = text;
        break;
      case simdjson::dom::element_type::UINT64:
        text = std::to_string(value.get_uint64().value_unsafe());
        as_text = text;
        break;
      case simdjson::dom::element_type::DOUBLE: {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, value.get_double().value_unsafe());
        text.assign(buf, r.ptr);
        as_text = text;
        break;
      }
      case simdjson::dom::element_type::BOOL:
        as_text = value.get_bool().value_unsafe() ? "true" : "false";
        break;
      default:
        error = {std::string(name), "must be a string, number, boolean or null"};
        return false;
    }
    if (event.kind(col) == core::ColumnKind::kString) {
      event.set_string(col, as_text);
      return true;
    }
    auto err = event.set_text(col, as_text);
    if (err != core::ValueError::kNone) {
      error = {std::string(name), std::string(core::value_error_name(err)) + ": \"" +
                                      std::string(as_text.substr(0, 64)) + "\""};
      return false;
    }
    return true;
  }
};

JsonlDecoder::JsonlDecoder(const core::Catalogue& catalogue, const core::ReportType* forced_type,
                           size_t max_record_bytes)
    : impl_(std::make_unique<Impl>(catalogue, forced_type, max_record_bytes)) {}

JsonlDecoder::~JsonlDecoder() = default;

bool JsonlDecoder::decode(std::string_view line, core::Event& event, DecodeError& error) {
  if (line.size() > impl_->max_record_bytes) {
    error = {"", "record of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                     std::to_string(impl_->max_record_bytes)};
    return false;
  }
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(line.data(), line.size()).get(root)) {
    error = {"", std::string("invalid JSON: ") + simdjson::error_message(err)};
    return false;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) {
    error = {"", "a record must be a JSON object"};
    return false;
  }
  const core::ReportType* type = impl_->forced_type;
  simdjson::dom::element type_value;
  if (!obj["type"].get(type_value)) {
    std::string_view name;
    if (type_value.get_string().get(name)) {
      error = {"type", "must be a string"};
      return false;
    }
    const core::ReportType* named = impl_->catalogue.find(name);
    if (!named) {
      error = {"type", "unknown report type \"" + std::string(name.substr(0, 64)) + "\""};
      return false;
    }
    if (type && named != type) {
      error = {"type", "record says \"" + named->name + "\" but the input is " + type->name};
      return false;
    }
    type = named;
  }
  if (!type) {
    error = {"type", "missing (give --type for records without one)"};
    return false;
  }
  event.reset(type);
  simdjson::dom::object fields;
  bool nested = !obj["fields"].get_object().get(fields);
  if (nested) {
    for (auto [key, value] : fields) {
      if (!impl_->set_field(event, key, value, error)) return false;
    }
    for (auto [key, value] : obj) {
      if (key != "type" && key != "fields") {
        error = {std::string(key), "unexpected key beside \"fields\""};
        return false;
      }
    }
  } else {
    for (auto [key, value] : obj) {
      if (key == "type") continue;
      if (!impl_->set_field(event, key, value, error)) return false;
    }
  }
  return true;
}

}  // namespace vantage::pipeline

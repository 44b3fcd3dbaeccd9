#pragma once
// Error propagation for code that chains many fallible steps (the Abseil RETURN_IF_ERROR /
// ASSIGN_OR_RETURN idiom). Works with Status and Result<T> (common/result.h):
//
//   VANTAGE_RETURN_IF_ERROR(db.exec("..."));
//   VANTAGE_ASSIGN_OR_RETURN(auto stmt, db.prepare("..."));
//
// The enclosing function must return Status or a Result<U>.

#define VANTAGE_CONCAT_INNER_(a, b) a##b
#define VANTAGE_CONCAT_(a, b) VANTAGE_CONCAT_INNER_(a, b)

#define VANTAGE_RETURN_IF_ERROR(expr) \
  VANTAGE_RETURN_IF_ERROR_IMPL_(VANTAGE_CONCAT_(vantage_status_, __COUNTER__), expr)
#define VANTAGE_RETURN_IF_ERROR_IMPL_(tmp, expr) \
  do {                                           \
    auto tmp = (expr);                           \
    if (!tmp.ok()) return tmp.error();           \
  } while (0)

#define VANTAGE_ASSIGN_OR_RETURN(lhs, expr) \
  VANTAGE_ASSIGN_OR_RETURN_IMPL_(VANTAGE_CONCAT_(vantage_result_, __COUNTER__), lhs, expr)
#define VANTAGE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.error();                   \
  lhs = std::move(*tmp)

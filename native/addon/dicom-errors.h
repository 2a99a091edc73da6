// Errors raised by the de-identification byte work. Thrown as C++ exceptions
// inside the addon and turned into JS errors with a `code` property at the
// N-API boundary (dicom-document.cpp). Messages name tags, paths and limits,
// never an attribute value.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace aibridge::dicom {

inline constexpr const char* kNotDicom = "AIB_DEID_NOT_DICOM";
inline constexpr const char* kTruncated = "AIB_DEID_TRUNCATED";
inline constexpr const char* kBadPlan = "AIB_DEID_BAD_PLAN";
inline constexpr const char* kUnsupportedCharset = "AIB_DEID_UNSUPPORTED_CHARSET";
inline constexpr const char* kWriteFailed = "AIB_DEID_WRITE_FAILED";
inline constexpr const char* kUnknownTransferSyntax = "AIB_DEID_UNKNOWN_TRANSFER_SYNTAX";

class DeidFailure : public std::exception {
 public:
  DeidFailure(const char* code, std::string message) : code_(code), message_(std::move(message)) {}
  const char* code() const noexcept { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  const char* code_;
  std::string message_;
};

[[noreturn]] inline void Fail(const char* code, std::string message) { throw DeidFailure(code, std::move(message)); }

}  // namespace aibridge::dicom

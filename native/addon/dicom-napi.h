// The N-API boundary of the DICOM functions: every C++ exception becomes a JS
// Error with a `code` (AIB_DEID_*), so hostile input can never abort the process.
#pragma once

#include <napi.h>

#include <new>
#include <string>

#include "dicom-errors.h"

namespace aibridge::dicom {

[[noreturn]] inline void ThrowJs(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

template <typename F>
Napi::Value Guard(Napi::Env env, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const DeidFailure& failure) {
    ThrowJs(env, failure.code(), failure.what());
  } catch (const std::bad_alloc&) {
    ThrowJs(env, kNotDicom, "out of memory while processing the instance");
  } catch (const std::exception& e) {
    ThrowJs(env, kNotDicom, std::string("internal error: ") + e.what());
  } catch (...) {
    ThrowJs(env, kNotDicom, "internal error");
  }
}

}  // namespace aibridge::dicom

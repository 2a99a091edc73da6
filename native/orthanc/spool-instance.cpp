#include "spool-instance.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace aibridge {

namespace {

void Fail(SdkCallResult& out, int32_t code, const std::string& error) {
  out.ok = false;
  out.code = code;
  out.error = error;
  out.value = Json::Value();
}

// The gateway may only name a file directly in its spool folder: the plugin runs as
// Orthanc, so a path it writes must never be chosen freely by another process.
bool IsSpoolPath(const std::string& path) {
  static const std::string kFolder = "/phi/spool/";
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos) return false;
  if (slash + 1 < kFolder.size() || path.compare(slash + 1 - kFolder.size(), kFolder.size(), kFolder) != 0) return false;
  if (path.find("/../") != std::string::npos || path.find("/./") != std::string::npos) return false;
  const std::string name = path.substr(slash + 1);
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!plain) return false;
  }
  return true;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void SpoolDicomForInstance(OrthancPluginContext* context, const Json::Value& args, const std::string& body, SdkCallResult& out) {
  if (!body.empty()) return Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, "this call takes no body");
  if (!args.isObject() || !args["instanceId"].isString() || !args["path"].isString() || args.size() != 2)
    return Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, "expects the arguments instanceId and path (strings)");
  const std::string instanceId = args["instanceId"].asString();
  const std::string path = args["path"].asString();
  if (!IsSpoolPath(path))
    return Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, "argument \"path\" is not a file directly inside a phi/spool folder");

  OrthancPluginMemoryBuffer dicom;
  dicom.data = nullptr;
  dicom.size = 0;
  const OrthancPluginErrorCode code = OrthancPluginGetDicomForInstance(context, &dicom, instanceId.c_str());
  if (code != OrthancPluginErrorCode_Success) {
    const char* description = OrthancPluginGetErrorDescription(context, code);
    return Fail(out, code, description != nullptr ? description : "Orthanc error " + std::to_string(static_cast<int32_t>(code)));
  }
  // A reader (the de-id worker) never sees half a file: write beside it, then rename.
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  bool written = fd >= 0 && WriteAll(fd, static_cast<const char*>(dicom.data), dicom.size);
  const int writeErrno = errno;
  if (fd >= 0 && close(fd) != 0) written = false;
  const uint64_t size = dicom.size;
  OrthancPluginFreeMemoryBuffer(context, &dicom);
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(written ? errno : writeErrno);
    (void)unlink(temporary.c_str());
    return Fail(out, OrthancPluginErrorCode_CannotWriteFile, "cannot write the spool file " + path + ": " + reason);
  }
  out.ok = true;
  out.value = Json::Value(static_cast<Json::UInt64>(size));
}

}  // namespace aibridge

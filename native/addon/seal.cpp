// Kernel seal of the de-identification worker: no_new_privs, seccomp (all
// threads), Landlock (calling thread and its descendants; all threads on ABI 8).
// See seal.h for what each layer does and does not cover.
#include "seal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// --- constants newer than the installed uapi headers ------------------------
// Values from the kernel's include/uapi/linux/landlock.h (Linux 6.2 TRUNCATE,
// ABI 3; 6.7 network rights, ABI 4; 7.0 RESTRICT_SELF_TSYNC, ABI 8).
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_TSYNC
#define LANDLOCK_RESTRICT_SELF_TSYNC (1U << 3)
#endif
// include/uapi/linux/seccomp.h (Linux 4.14).
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

#if defined(__x86_64__)
#define AIB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AIB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seal.cpp: the seccomp filter is written for x86_64 and aarch64 only"
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the filter reads the low 32 bits of a syscall argument at its first byte");

namespace aibridge {
namespace {

constexpr const char* kSealFailed = "AIB_DEID_SEAL_FAILED";

// struct landlock_ruleset_attr as of ABI 6 (handled_access_fs, handled_access_net,
// scoped); the size passed to the kernel says which prefix it should read.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct Report {
  bool seccomp = false;
  const char* landlock = "unsupported";
  int landlockAbi = 0;
};

enum class State { kOpen, kSealed, kBroken };

State g_state = State::kOpen;
Report g_report;

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void Fail(Napi::Env env, const std::string& what, int err) {
  std::string message = "seal: " + what;
  if (err != 0) message += ": " + std::string(strerror(err));
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, kSealFailed));
  if (err != 0) error.Set("errno", Napi::Number::New(env, err));
  throw error;
}

Napi::Object ToJs(Napi::Env env, const Report& report) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("seccomp", Napi::Boolean::New(env, report.seccomp));
  out.Set("landlock", Napi::String::New(env, report.landlock));
  out.Set("landlockAbi", Napi::Number::New(env, report.landlockAbi));
  return out;
}

std::vector<std::string> StringArray(Napi::Env env, const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  if (!value.IsArray()) Fail(env, std::string(key) + " must be an array of absolute paths", 0);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) Fail(env, std::string(key) + "[" + std::to_string(i) + "] is not a string", 0);
    std::string path = item.As<Napi::String>().Utf8Value();
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
      Fail(env, std::string(key) + "[" + std::to_string(i) + "] is not an absolute path", 0);
    }
    out.push_back(path);
  }
  return out;
}

// --- seccomp -----------------------------------------------------------------

// A tiny BPF assembler with forward labels, so jump offsets are computed, not
// counted by hand.
class Bpf {
 public:
  void Stmt(uint16_t code, uint32_t k) { prog_.push_back({code, -1, -1, k}); }
  // Jump to label `yes` if the comparison holds, else to `no` (-1: next insn).
  void Jump(uint16_t code, uint32_t k, int yes, int no) { prog_.push_back({code, yes, no, k}); }
  int NewLabel() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void Bind(int label) { labels_[label] = static_cast<int>(prog_.size()); }

  // Returns false if a label is unbound or a jump goes backwards or too far.
  bool Assemble(std::vector<sock_filter>* out) const {
    out->clear();
    for (size_t i = 0; i < prog_.size(); ++i) {
      const Insn& insn = prog_[i];
      uint8_t jt = 0, jf = 0;
      if (!Offset(insn.yes, i, &jt) || !Offset(insn.no, i, &jf)) return false;
      out->push_back(sock_filter{insn.code, jt, jf, insn.k});
    }
    return true;
  }

 private:
  struct Insn {
    uint16_t code;
    int yes, no;
    uint32_t k;
  };
  bool Offset(int label, size_t at, uint8_t* offset) const {
    if (label < 0) {
      *offset = 0;
      return true;
    }
    const int target = labels_[label];
    const int delta = target - static_cast<int>(at) - 1;
    if (target < 0 || delta < 0 || delta > 255) return false;
    *offset = static_cast<uint8_t>(delta);
    return true;
  }
  std::vector<Insn> prog_;
  std::vector<int> labels_;
};

bool BuildFilter(std::vector<sock_filter>* out) {
  Bpf b;
  const int kill = b.NewLabel(), allow = b.NewLabel(), eacces = b.NewLabel(), enosys = b.NewLabel(),
            eperm = b.NewLabel(), socketDomain = b.NewLabel();

  // A syscall made through another ABI (i386 int 0x80 on x86_64) has other
  // numbers: the checks below would not apply to it.
  b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, AIB_AUDIT_ARCH, -1, kill);
  b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  // x32 ABI: same arch value, numbers with bit 30 set.
  b.Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, kill, -1);
#endif
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, socketDomain, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, socketDomain, -1);
  // io_uring can create and connect sockets without calling socket().
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, enosys, -1);
  // Reaching into another (unsealed) process of the same user would bypass
  // the seal: its memory, or a copy of its network socket.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_getfd, eperm, -1);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

  // socket(domain, ...) / socketpair(domain, ...): the kernel reads domain as
  // an int, so the low 32 bits are what counts.
  b.Bind(socketDomain);
  b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, allow, eacces);

  b.Bind(allow);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  b.Bind(eacces);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
  b.Bind(enosys);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  b.Bind(eperm);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  b.Bind(kill);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  return b.Assemble(out);
}

void InstallSeccomp(Napi::Env env) {
  std::vector<sock_filter> filter;
  if (!BuildFilter(&filter)) Fail(env, "internal error: the seccomp program does not assemble", 0);
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(filter.size());
  prog.filter = filter.data();
  const long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (rc < 0) Fail(env, "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC)", errno);
  if (rc > 0) {
    // TSYNC answers the id of a thread it could not synchronise (it runs
    // another filter): no thread got the filter.
    Fail(env, "seccomp TSYNC: thread " + std::to_string(rc) + " could not be synchronised", 0);
  }
}

// After the filter is in place no new non-AF_UNIX socket or io_uring can
// appear; one that already exists (inherited, or opened before the seal, or
// libuv's ring under UV_USE_IO_URING=1) would still reach the network.
void CheckDescriptors(Napi::Env env) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) Fail(env, "cannot list /proc/self/fd to check open descriptors", errno);
  const int own = dirfd(dir);
  std::string problem;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    const std::string link = "/proc/self/fd/" + std::string(entry->d_name);
    char target[128] = {0};
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && std::strcmp(target, "anon_inode:[io_uring]") == 0) {
      problem = "descriptor " + std::to_string(fd) + " is an io_uring instance (UV_USE_IO_URING?)";
      break;
    }
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int domain = -1;
    socklen_t len = sizeof domain;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX) {
      problem = "descriptor " + std::to_string(fd) + " is a socket of domain " + std::to_string(domain) +
                ", not AF_UNIX: close it before sealing";
      break;
    }
  }
  closedir(dir);
  if (!problem.empty()) Fail(env, problem, 0);
}

// --- Landlock ----------------------------------------------------------------

constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;

// Opened before anything is sealed, so a missing path fails without side effects.
struct WritableRule {
  std::string path;
  Fd fd;
  bool directory;
};

std::vector<WritableRule> OpenWritable(Napi::Env env, const std::vector<std::string>& paths) {
  std::vector<WritableRule> rules;
  std::vector<std::string> all = paths;
  // spawn with stdio 'ignore' opens /dev/null O_RDWR in the child.
  all.push_back("/dev/null");
  for (const std::string& path : all) {
    Fd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
    if (fd.get() < 0) Fail(env, "cannot open writable path " + path, errno);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) Fail(env, "cannot stat writable path " + path, errno);
    rules.push_back(WritableRule{path, std::move(fd), S_ISDIR(st.st_mode)});
  }
  return rules;
}

int LandlockAbi(Napi::Env env) {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0) return static_cast<int>(abi);
  if (errno == ENOSYS || errno == EOPNOTSUPP) return 0;  // not built in / disabled at boot
  Fail(env, "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)", errno);
}

void InstallLandlock(Napi::Env env, const std::vector<WritableRule>& writable) {
  const int abi = LandlockAbi(env);
  g_report.landlockAbi = abi;
  if (abi == 0) return;

  uint64_t fs = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  RulesetAttr attr{};
  attr.handled_access_fs = fs;
  size_t size = offsetof(RulesetAttr, handled_access_net);
  if (abi >= 4) {
    // No net rule is added: every TCP bind and connect is refused.
    attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    size = offsetof(RulesetAttr, scoped);
  }
  Fd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0U)));
  if (ruleset.get() < 0) Fail(env, "landlock_create_ruleset", errno);

  for (const WritableRule& rule : writable) {
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = rule.directory ? fs : (fs & kFileRights);
    beneath.parent_fd = rule.fd.get();
    if (syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &beneath, 0U) != 0) {
      Fail(env, "landlock_add_rule(" + rule.path + ")", errno);
    }
  }

  uint32_t flags = 0;
  if (abi >= 8) flags |= LANDLOCK_RESTRICT_SELF_TSYNC;
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), flags) != 0) Fail(env, "landlock_restrict_self", errno);
  g_report.landlock = flags & LANDLOCK_RESTRICT_SELF_TSYNC ? "enforced" : "partial";
}

// --- JS entry points -----------------------------------------------------------

Napi::Value Seal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_state == State::kSealed) return ToJs(env, g_report);  // idempotent: never widened nor stacked
  if (g_state == State::kBroken) Fail(env, "an earlier seal attempt failed half-way; the process must exit", 0);
  if (info.Length() != 1 || !info[0].IsObject()) Fail(env, "expects { writablePaths, readablePaths }", 0);
  Napi::Object options = info[0].As<Napi::Object>();
  const std::vector<std::string> writablePaths = StringArray(env, options, "writablePaths");
  // Reads stay allowed everywhere for now; validated so callers keep it right.
  (void)StringArray(env, options, "readablePaths");
  const std::vector<WritableRule> writable = OpenWritable(env, writablePaths);

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(env, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
  InstallSeccomp(env);
  g_report.seccomp = true;
  g_state = State::kBroken;  // until the rest succeeds
  CheckDescriptors(env);
  InstallLandlock(env, writable);
  g_state = State::kSealed;
  return ToJs(env, g_report);
}

Napi::Value SealStatus(const Napi::CallbackInfo& info) { return ToJs(info.Env(), g_report); }

}  // namespace

void RegisterSeal(Napi::Env env, Napi::Object exports) {
  exports.Set("seal", Napi::Function::New(env, Seal, "seal"));
  exports.Set("sealStatus", Napi::Function::New(env, SealStatus, "sealStatus"));
}

}  // namespace aibridge

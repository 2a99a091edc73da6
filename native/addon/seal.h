// Kernel seal of the de-identification worker (see docs/deid-engine.md and
// the "Three zones" section of the design).
//
// seal({ writablePaths, readablePaths }) installs, in this order:
//   1. prctl(PR_SET_NO_NEW_PRIVS, 1);
//   2. a seccomp BPF filter on every thread (SECCOMP_FILTER_FLAG_TSYNC): only
//      AF_UNIX sockets may be created (socket/socketpair with any other
//      domain fail with EACCES), io_uring_setup fails with ENOSYS, ptrace,
//      process_vm_readv/writev and pidfd_getfd fail with EPERM; a syscall of a
//      foreign ABI (i386 int 0x80, x32) kills the process;
//   3. after the filter: a check that the process holds no socket other than
//      AF_UNIX and no io_uring instance (either would bypass the filter);
//   4. Landlock, where the kernel has it: filesystem writes only beneath
//      writablePaths (plus /dev/null), and on ABI >= 4 no TCP bind/connect.
//      Reads are not restricted: readablePaths is validated but not used yet.
//      Without LANDLOCK_RESTRICT_SELF_TSYNC (ABI 8) the Landlock domain covers
//      the calling thread and everything it creates later (threads, child
//      processes), not threads that already run: the report says 'partial'.
//
// Errors are JS Errors with code 'AIB_DEID_SEAL_FAILED'. A failure after step
// 2 leaves the process partly sealed: the caller must exit.
#pragma once

#include <napi.h>

namespace aibridge {

void RegisterSeal(Napi::Env env, Napi::Object exports);

}  // namespace aibridge

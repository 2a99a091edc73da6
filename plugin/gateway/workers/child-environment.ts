/**
 * The whole environment of a sandboxed child: nothing of the gateway's
 * (which is Orthanc's: credentials in variables, proxies, NODE_OPTIONS that
 * could preload code before the seal) reaches it.
 */
const TEST_HOOK_VARIABLES = ['AIBRIDGE_TEST_AFTER_SEAL', 'AIBRIDGE_TEST_AFTER_SEAL_ARGS'] as const;

export function childEnvironment(index: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    AIBRIDGE_WORKER_INDEX: String(index),
    // libuv's io_uring would be refused by the seal anyway (ENOSYS); say so up front.
    UV_USE_IO_URING: '0',
  };
  // Test-only (plugin/seal/after-seal-hook.ts): set in Orthanc's environment by the proof tests, loaded after the seal.
  for (const name of TEST_HOOK_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return env;
}

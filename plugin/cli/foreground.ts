import type { RunningOrthanc } from './orthanc-launcher.js';

/**
 * Keeps the CLI in the foreground until SIGINT/SIGTERM (then stops Orthanc and
 * resolves 0) or until Orthanc exits on its own (resolves 1 after printing the
 * end of its log). Installed right after start so Ctrl-C during the demo's
 * waiting also stops Orthanc cleanly.
 */
export function holdForeground(orthanc: RunningOrthanc): Promise<number> {
  return new Promise((resolve) => {
    // Orthanc's child process is unreferenced (see orthanc-launcher.ts); this timer keeps us alive.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping Orthanc...\n`);
      void orthanc.stop().then(() => {
        finish(0);
      });
    };
    const finish = (code: number): void => {
      clearInterval(keepAlive);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void orthanc.exited().then(() => {
      if (stopping) return;
      const tail = orthanc.logText().split('\n').slice(-20).join('\n');
      process.stderr.write(`Orthanc exited unexpectedly; last lines of ${orthanc.logPath}:\n${tail}\n`);
      finish(1);
    });
  });
}

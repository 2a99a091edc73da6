/**
 * Imported first by every sealed entry point (worker-main, annotator-main,
 * uplink-main), before any module that could start a thread: loading the
 * addon notes the threads running at that moment (Node's start-up threads),
 * and below Landlock ABI 8 the seal refuses any thread started after it
 * (seal-process.ts).
 */
import { loadSealAddon } from './seal-process';

loadSealAddon();

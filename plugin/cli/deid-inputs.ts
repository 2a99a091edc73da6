import * as fs from 'node:fs';
import * as path from 'node:path';

/** One file to de-identify. */
export interface DeidInput {
  /** absolute path read */
  readonly absolute: string;
  /** where it goes under OUT (and OUT/quarantine): relative to its INPUT directory, or its base name */
  readonly relative: string;
  /** how stderr names it: as the user gave it, joined with the relative path inside a directory */
  readonly display: string;
}

/** A file that could not even be queued (missing, not a regular file, output path taken). */
export interface DeidInputProblem {
  readonly display: string;
  readonly relative: string;
  readonly absolute: string;
  readonly code: string;
  readonly message: string;
  /** false when there is nothing to copy (missing) or copying could block (FIFO, device) */
  readonly quarantine: boolean;
}

export interface CollectedInputs {
  readonly files: DeidInput[];
  readonly problems: DeidInputProblem[];
}

/**
 * Expands INPUT arguments into files. Directories are recursed (symbolic links
 * followed, each real directory once); the paths in `exclude` (OUT, the site
 * key, the vault) are never treated as inputs, so a run over "." does not
 * quarantine its own key or outputs. Two inputs that would be written to the
 * same relative path: the first wins, the others are problems.
 */
export function collectInputs(inputs: readonly string[], exclude: readonly string[]): CollectedInputs {
  const files: DeidInput[] = [];
  const problems: DeidInputProblem[] = [];
  const excluded = new Set(exclude.map((p) => path.resolve(p)));
  const claimed = new Set<string>();
  const visitedDirs = new Set<string>();

  const problem = (display: string, relative: string, absolute: string, code: string, message: string, quarantine: boolean): void => {
    problems.push({ display, relative, absolute, code, message, quarantine });
  };

  const addFile = (absolute: string, relative: string, display: string): void => {
    if (claimed.has(relative)) {
      problem(display, relative, absolute, 'AIB_CLI_DEID_DUPLICATE_OUTPUT', `another input is already written to ${relative}`, true);
      return;
    }
    claimed.add(relative);
    files.push({ absolute, relative, display });
  };

  const visit = (absolute: string, relative: string, display: string): void => {
    if (excluded.has(absolute)) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(absolute);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      problem(display, relative, absolute, 'AIB_CLI_DEID_UNREADABLE', `cannot stat it (${code})`, false);
      return;
    }
    if (st.isDirectory()) {
      let real: string;
      try {
        real = fs.realpathSync(absolute);
      } catch {
        real = absolute;
      }
      if (visitedDirs.has(real) || excluded.has(real)) return;
      visitedDirs.add(real);
      let entries: string[];
      try {
        entries = fs.readdirSync(absolute).sort();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
        problem(display, relative, absolute, 'AIB_CLI_DEID_UNREADABLE', `cannot list the directory (${code})`, false);
        return;
      }
      for (const name of entries) {
        visit(path.join(absolute, name), relative === '' ? name : path.join(relative, name), path.join(display, name));
      }
      return;
    }
    const fileRelative = relative === '' ? path.basename(absolute) : relative;
    if (!st.isFile()) {
      problem(display, fileRelative, absolute, 'AIB_CLI_DEID_NOT_A_FILE', 'not a regular file or directory', false);
      return;
    }
    addFile(absolute, fileRelative, display);
  };

  for (const input of inputs) {
    const absolute = path.resolve(input);
    if (excluded.has(absolute)) {
      // Named on the command line: say why it is not processed rather than skip it.
      problem(input, path.basename(absolute), absolute, 'AIB_CLI_DEID_NOT_AN_INPUT', 'it is the output folder, the site key or the vault of this run', false);
      continue;
    }
    // An INPUT file's relative path is its base name; a directory's files are relative to it.
    visit(absolute, '', input);
  }
  return { files, problems };
}


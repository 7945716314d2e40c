/**
 * Progress for the commands that can take more than two seconds (issue 12: `installation reconcile` ran 10–12 s
 * printing nothing; the first `npm start` downloaded the Temporal CLI silently). Always on stderr, never on stdout
 * (which carries the command's output or its one JSON document):
 *
 * - on a terminal, an `ora` spinner with the elapsed time, replaced by a ✔ / ✖ line when the step ends;
 * - otherwise (CI logs, pipes), plain lines: one when the step has run for two seconds, one every fifteen seconds
 *   after that, and the outcome — so a fast command prints nothing extra and a slow one is never silent.
 *
 * `ora` is ESM-only; the CLI runs in its own process (bin/tollgate.js, through tsx), so it is loaded with
 * `import()` when a spinner is first needed — nothing loads it in-process under jest.
 */

/** One step in progress. */
export interface Progress {
  /** New words for the step (e.g. the state a change reached). */
  update(text: string): void;
  /** The step ended well; `text` replaces its words on the last line. */
  succeed(text?: string): void;
  /** The step ended badly (the error itself is reported by whoever handles it). */
  fail(text?: string): void;
  /** The step ended and its outcome is printed elsewhere: clear the spinner, say nothing. */
  stop(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Force plain lines (or a spinner) regardless of the stream. */
  interactive?: boolean;
  /** Plain mode: the first line waits this long (default 2 s), then one every `repeatMs` (default 15 s). */
  quietMs?: number;
  repeatMs?: number;
}

let machineOutput = false;

/** `--json`: stdout is for machines, and plain progress lines stay off stderr too (a terminal still gets a spinner,
 * which leaves nothing behind). */
export function setMachineOutput(json: boolean): void {
  machineOutput = json;
}

type Spinner = { text: string; start(): Spinner; succeed(text?: string): Spinner; fail(text?: string): Spinner; stop(): Spinner };

const seconds = (since: number) => `${Math.round((Date.now() - since) / 1000)} s`;

/** Starts a step: a spinner on a terminal, plain lines elsewhere. */
export async function startProgress(text: string, options: ProgressOptions = {}): Promise<Progress> {
  const stream = options.stream ?? process.stderr;
  // A terminal that reports no width (some pseudo-terminals) gets plain lines: a spinner redraws by width.
  const interactive =
    options.interactive ?? (stream.isTTY === true && (stream.columns ?? 0) > 0 && process.env.CI === undefined && process.env.TERM !== 'dumb');
  if (interactive) return spinnerProgress(text, stream);
  if (machineOutput && options.stream === undefined) return { update: () => undefined, succeed: () => undefined, fail: () => undefined, stop: () => undefined };
  return plainProgress(text, stream, options.quietMs ?? 2000, options.repeatMs ?? 15_000);
}

/** Runs `work` as one step: its outcome ends the step. */
export async function withProgress<T>(text: string, work: (progress: Progress) => Promise<T>, done?: (value: T) => string | undefined, options?: ProgressOptions): Promise<T> {
  const progress = await startProgress(text, options);
  try {
    const value = await work(progress);
    progress.succeed(done?.(value));
    return value;
  } catch (error) {
    progress.fail();
    throw error;
  }
}

async function spinnerProgress(initial: string, stream: NodeJS.WriteStream): Promise<Progress> {
  const { default: ora } = (await import('ora')) as { default: (options: { text: string; stream: NodeJS.WriteStream; discardStdin: boolean }) => Spinner };
  const started = Date.now();
  let words = initial;
  const spinner = ora({ text: words, stream, discardStdin: false }).start();
  // The elapsed time, so a long step is visibly alive.
  const ticker = setInterval(() => (spinner.text = `${words} (${seconds(started)})`), 1000);
  ticker.unref();
  return {
    update(text) {
      words = text;
      spinner.text = `${words} (${seconds(started)})`;
    },
    succeed(text) {
      clearInterval(ticker);
      spinner.succeed(`${text ?? words} (${seconds(started)})`);
    },
    fail(text) {
      clearInterval(ticker);
      spinner.fail(`${text ?? words} (${seconds(started)})`);
    },
    stop() {
      clearInterval(ticker);
      spinner.stop();
    },
  };
}

function plainProgress(initial: string, stream: NodeJS.WriteStream, quietMs: number, repeatMs: number): Progress {
  const started = Date.now();
  let words = initial;
  let said = false;
  const say = (line: string) => {
    said = true;
    stream.write(`${line}\n`);
  };
  let timer: NodeJS.Timeout | undefined = setTimeout(function tick() {
    say(`${words} … (${seconds(started)})`);
    timer = setTimeout(tick, repeatMs);
    timer.unref();
  }, quietMs);
  timer.unref();
  const end = (mark: string, text?: string) => {
    clearTimeout(timer);
    // A step that never said anything (it was quick) ends as quietly.
    if (said) say(`${mark} ${text ?? words} (${seconds(started)})`);
  };
  return {
    update(text) {
      if (text === words) return;
      words = text;
      if (said) say(`${words} … (${seconds(started)})`);
    },
    succeed: (text) => end('done:', text),
    fail: (text) => end('failed:', text),
    stop: () => clearTimeout(timer),
  };
}

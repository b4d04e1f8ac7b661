// `npm start` as a real child process (through @swc-node/register, so no build step), for
// tests that need several API processes against one database.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export class ApiProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the GraphQL URL once the process listens. */
  readonly ready: Promise<string>;
  private output = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', join('src', 'main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString('utf8');
        const match = /"port":(\d+)[^\n]*postback service listening/.exec(this.output);
        if (match) resolve(`http://127.0.0.1:${match[1]}/graphql`);
      };
      this.child.stdout?.on('data', onData);
      this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
      void this.exited.then(({ code, signal }) => reject(new Error(`API process exited (${code ?? signal}) before listening:\n${this.output.slice(-4000)}`)));
    });
  }

  get log(): string {
    return this.output;
  }

  /** SIGTERM, and SIGKILL if it has not exited after `graceMs` (a hung test must not hang the run). */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`API process ${this.child.pid} did not stop within ${graceMs} ms; killing it. Its last output:\n${this.output.slice(-3000)}\n`);
      this.child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

'use strict';
// oi-voice's Node.js driver: runs code blocks in one persistent global context.
//
// Usage: node --expose-internals node_driver.js CONTROL_IN_FD STATUS_OUT_FD
// Each line on CONTROL_IN_FD is a JSON request {"code": "..."}; once the code (and a
// promise it returned) has settled, one JSON line {"status": "ok"|"error"|"interrupted",
// "message": ..., "exit_code": ...} is written to STATUS_OUT_FD. The code's own output
// goes to stdout/stderr untouched, so no marker ever mixes with it.
// --expose-internals gives us the REPL's top-level-await rewriting; without it, code
// that uses top-level await fails with a SyntaxError and everything else still works.

const fs = require('fs');
const Module = require('module');
const net = require('net');
const path = require('path');
const { Writable } = require('stream');
const util = require('util');
const vm = require('vm');

const [controlFd, statusFd] = process.argv.splice(2, 2).map(Number);

// stdout and stderr write synchronously, one system call at a time. Node's own pipe
// streams keep bookkeeping in JavaScript around each write; an interrupt (breakOnSigint)
// landing in the middle of it leaves the stream wedged for good. A write also blocks
// while the pipe is full, which is the backpressure we want.
const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd, chunk, encoding) {
  const buffer = typeof chunk === 'string' ? Buffer.from(chunk, encoding || 'utf8') : Buffer.from(chunk);
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function syncStream(fd) {
  const stream = new Writable({
    decodeStrings: false,
    write(chunk, encoding, callback) {
      writeAll(fd, chunk, encoding);
      callback();
    },
  });
  // Bypass Writable's machinery too, for the same reason.
  stream.write = (chunk, encoding, callback) => {
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    writeAll(fd, chunk, encoding);
    if (callback) process.nextTick(callback);
    return true;
  };
  stream.fd = fd;
  stream.isTTY = false;
  return stream;
}

for (const [name, fd] of [['stdout', 1], ['stderr', 2]]) {
  const stream = syncStream(fd);
  Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
}

let processTopLevelAwait = null;
try {
  ({ processTopLevelAwait } = require('internal/repl/await'));
} catch {
  // Not exposed in this Node.js: no top-level await.
}

const FILENAME = '<code>';

// As in the REPL: code can require() modules, resolved from the working directory.
globalThis.require = Module.createRequire(path.join(process.cwd(), '<code>'));

class Interrupted extends Error {}

class ExitRequest extends Error {
  constructor(code) {
    super(`process.exit(${code})`);
    this.code = code;
  }
}

// process.exit() would end the session and lose every variable: end the run instead.
const exitDriver = process.exit.bind(process);
process.exit = (code) => {
  throw new ExitRequest(code === undefined ? (process.exitCode ?? 0) : Number(code) || 0);
};

// Remember whether the code touched stdin, to stop reading it after the run: otherwise
// a later run would look as if it were waiting for input.
const stdinDescriptor = Object.getOwnPropertyDescriptor(process, 'stdin');
let stdinUsed = false;
Object.defineProperty(process, 'stdin', {
  configurable: true,
  enumerable: stdinDescriptor.enumerable,
  get() {
    stdinUsed = true;
    return stdinDescriptor.get.call(process);
  },
});

let interruptCurrent = null;
// breakOnSigint covers synchronous code; this covers a run waiting on a promise.
process.on('SIGINT', () => {
  if (interruptCurrent) interruptCurrent();
});

function describe(error) {
  if (error instanceof Error || (error && typeof error.stack === 'string')) {
    const lines = String(error.stack).split('\n');
    // Keep the code's own frames; drop the driver's and Node's internals.
    const kept = lines.filter((line) => !/^\s+at /.test(line) || line.includes(FILENAME));
    return kept.join('\n');
  }
  return `Uncaught ${util.inspect(error)}`;
}

function summary(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `Uncaught ${util.inspect(error)}`;
}

// Errors thrown later by timers or unawaited promises must not end the session.
process.on('uncaughtException', (error) => {
  if (!(error instanceof ExitRequest)) process.stderr.write(`${describe(error)}\n`);
});
process.on('unhandledRejection', (error) => {
  if (!(error instanceof ExitRequest)) process.stderr.write(`${describe(error)}\n`);
});

function compile(code) {
  try {
    return { script: new vm.Script(code, { filename: FILENAME }), wrapped: false };
  } catch (error) {
    const rewritten =
      error instanceof SyntaxError && processTopLevelAwait && code.includes('await')
        ? processTopLevelAwait(code)
        : null;
    if (!rewritten) throw error;
    return { script: new vm.Script(rewritten, { filename: FILENAME }), wrapped: true };
  }
}

async function evaluate(code) {
  const { script, wrapped } = compile(code);
  let value = script.runInThisContext({ breakOnSigint: true, displayErrors: true });
  if (wrapped) {
    const result = await value;
    value = result && typeof result === 'object' && 'value' in result ? result.value : undefined;
  } else if (value && typeof value.then === 'function') {
    value = await value;
  }
  return value;
}

async function run(code) {
  let reply;
  try {
    const interrupted = new Promise((_, reject) => {
      interruptCurrent = () => reject(new Interrupted());
    });
    const value = await Promise.race([evaluate(code), interrupted]);
    if (value !== undefined) process.stdout.write(`${util.inspect(value)}\n`);
    reply = { status: 'ok' };
  } catch (error) {
    if (error instanceof Interrupted || (error && error.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED')) {
      reply = { status: 'interrupted' };
    } else if (error instanceof ExitRequest) {
      reply = error.code === 0 ? { status: 'ok' } : { status: 'error', message: `exit code ${error.code}`, exit_code: error.code };
    } else {
      process.stderr.write(`${describe(error)}\n`);
      reply = { status: 'error', message: summary(error) };
    }
  } finally {
    interruptCurrent = null;
  }
  if (stdinUsed) {
    const stdin = stdinDescriptor.get.call(process);
    for (const name of ['data', 'readable', 'end', 'keypress']) stdin.removeAllListeners(name);
    stdin.pause();
    stdinUsed = false;
  }
  return reply;
}

function send(message) {
  fs.writeSync(statusFd, `${JSON.stringify(message)}\n`);
}

const pending = [];
let busy = false;

async function pump() {
  if (busy) return;
  busy = true;
  while (pending.length > 0) {
    const request = pending.shift();
    send(await run(request.code));
  }
  busy = false;
}

const control = new net.Socket({ fd: controlFd, readable: true, writable: false });
control.setEncoding('utf8');
let buffered = '';
control.on('data', (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (line.trim()) pending.push(JSON.parse(line));
  }
  pump();
});
// Our parent closed the control pipe: the session is over.
control.on('end', () => exitDriver(0));
control.on('error', () => exitDriver(0));

send({ ready: true, version: process.version });

// Paddock javascript harness: one persistent Node context, evaluated with the REPL's own
// evaluator (top-level await, declarations that survive between cells). The final
// expression's value is the main result (util.inspect text). See package kernel for the
// protocol.
//
// Interrupts (SIGINT): synchronous code is stopped by the REPL's own watchdog
// (breakEvalOnSigint); a cell waiting on a promise is abandoned by our listener (the promise
// may still settle later). Either way the context and its variables stay. Node drops the
// watchdog's signal handler when the last 'SIGINT' listener goes, so ours is removed while
// the REPL evaluates and put back after. A loop that spins after an await cannot be
// stopped: the guest then kills the process and restarts the context.
"use strict";
const fs = require("fs");
const repl = require("repl");
const util = require("util");
const readline = require("readline");
const { PassThrough } = require("stream");

const sentinel = process.env.PADDOCK_SENTINEL || "";
delete process.env.PADDOCK_SENTINEL;
const emit = (ev) => fs.writeSync(4, JSON.stringify(ev) + "\n");
const server = repl.start({ input: new PassThrough(), output: new PassThrough(), terminal: false, prompt: "", useGlobal: true,
  breakEvalOnSigint: true });
let count = 0;

// The REPL reports a cell's exception to its domain rather than to the eval callback; route
// it to the cell being run.
let pending = null;
server._domain.on("error", (err) => {
  if (pending) {
    const done = pending;
    pending = null;
    done({ err });
  }
});

// interrupt abandons the running cell; set while one runs. Between cells SIGINT is ignored.
let interrupt = null;
const onSigint = () => { if (interrupt) interrupt(); };
process.on("SIGINT", onSigint);

function evaluate(code) {
  return new Promise((resolve) => {
    pending = resolve;
    process.removeListener("SIGINT", onSigint);
    try {
      server.eval(code, server.context, "<cell>", (err, value) => {
        if (pending === resolve) {
          pending = null;
          resolve({ err, value });
        }
      });
    } finally {
      process.on("SIGINT", onSigint);
    }
  });
}

function interruption() {
  return new Promise((resolve) => {
    interrupt = () => {
      const err = new Error("the cell was interrupted");
      err.name = "KeyboardInterrupt";
      err.stack = "";
      resolve({ err });
    };
  });
}

async function run(cmd) {
  count++;
  const saved = {};
  for (const [k, v] of Object.entries(cmd.env || {})) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    const interrupted = interruption();
    let { err, value } = await Promise.race([evaluate(cmd.code || ""), interrupted]);
    if (!err && value && typeof value.then === "function") {
      ({ err, value } = await Promise.race([value.then((v) => ({ value: v }), (e) => ({ err: e })), interrupted]));
    }
    if (err && err.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") {
      err = new Error("the cell was interrupted");
      err.name = "KeyboardInterrupt";
      err.stack = "";
    }
    if (err) {
      const name = (err && err.name) || "Error";
      const message = (err && err.message !== undefined) ? String(err.message) : String(err);
      // Keep the message and the user's own frames; drop Node's REPL and vm internals.
      const stack = String((err && err.stack) || message).split("\n");
      const trace = [stack[0], ...stack.slice(1).filter((l) => l.includes("<cell>"))].join("\n");
      emit({ type: "error", name, value: message, traceback: trace });
    } else if (value !== undefined) {
      emit({ type: "result", is_main_result: true, text: util.inspect(value) });
    }
  } finally {
    interrupt = null;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
  fs.writeSync(1, sentinel);
  fs.writeSync(2, sentinel);
  emit({ type: "done", execution_count: count });
}

let chain = Promise.resolve();
const rl = readline.createInterface({ input: fs.createReadStream(null, { fd: 3 }) });
rl.on("line", (line) => {
  let cmd;
  try { cmd = JSON.parse(line); } catch { return; }
  chain = chain.then(() => run(cmd));
});
rl.on("close", () => chain.then(() => process.exit(0)));

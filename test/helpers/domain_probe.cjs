// A function package's main for test/integration/request_domain.test.ts: the ways a request's
// callbacks can fail, served by the real Functions Framework, so that the framework's answers
// under Node's `domain` and under preload.cjs's (scripts/request_domain.mjs) can be compared.
const { cloudEvent, http } = require("@google-cloud/functions-framework");

const held = new Map(); // n -> the response of a /hold request, answered by /release
const waiting = new Set(); // n of /throw-when-told requests not yet told
const told = new Set();

// Every path an HTTP request can take; `n` names the request in what it answers or throws.
http("probe", (req, res) => {
  const n = String(req.query.n);
  if (req.path === "/hold") return void held.set(n, res);
  if (req.path === "/release") {
    held.get(n)?.send(`hold ${n} released`);
    return res.send(`released ${n}`);
  }
  if (req.path === "/pending") return res.json({ held: [...held.keys()], waiting: [...waiting] });
  if (req.path === "/throw-when-told") {
    // The interval's callbacks run in this request's context, whichever request tells it.
    waiting.add(n);
    const check = setInterval(() => {
      if (!told.has(n)) return;
      clearInterval(check);
      waiting.delete(n);
      throw new Error(`thrown later by request ${n}`);
    }, 5);
    return;
  }
  if (req.path === "/tell") {
    told.add(n);
    return res.send(`told ${n}`);
  }
  if (req.path === "/reject") return Promise.reject(new Error(`rejected by request ${n}`));
  if (req.path === "/outside") return void process.kill(process.pid, "SIGUSR2");
  // Which domain the request's callbacks see (Node's has enter(); preload.cjs's has not).
  if (req.path === "/domain")
    return void setImmediate(() => res.json({ enter: typeof process.domain?.enter }));
  res.status(404).send(`no probe at ${req.path}`);
});

// A signal's listener runs outside every request: what it throws is the process's.
process.on("SIGUSR2", () => {
  throw new Error("thrown outside every request");
});

// A CloudEvent function, as dispatch and poll are: its answer goes through process.domain.bind.
cloudEvent("event", async (event) => {
  const how = event.data?.how;
  await new Promise((resolve) => setImmediate(resolve));
  if (how === "reject") throw new Error("the event function rejected");
  if (how === "throw-later") {
    setImmediate(() => {
      throw new Error("thrown later by the event function");
    });
    await new Promise(() => {}); // never settles: the domain's handler answers
  }
});

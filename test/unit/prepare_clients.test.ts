// shared/prepare_clients.ts with the real SDK clients (shared/clients.ts) pointed at a TCP
// server that counts connections: the JobService and publisher clients are made and
// initialised, one step per turn, nothing is sent, and they are the clients later calls get.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Clients, makeClients } from "../../shared/clients.js";
import { prepareClients } from "../../shared/prepare_clients.js";

type Stubbed = { jobServiceStub?: Promise<Record<string, unknown>> };
type PublisherHolder = {
  api: Record<string, { publisherStub?: Promise<Record<string, unknown>> } | undefined>;
  getClientAsync_(c: { client: string }): Promise<unknown>;
};

const REGION = "us-central1";
// google-auth asks for the universe domain when a stub is made; no metadata server here.
process.env.METADATA_SERVER_DETECTION = "none";
const debugLines: string[] = [];
const log = { debug: (message: string) => debugLines.push(message) };

let server: Server;
let connections = 0;
let clients: Clients;

before(async () => {
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  clients = await makeClients({
    GOOGLE_CLOUD_PROJECT: "p",
    VERTEX_REGION: REGION,
    VERTEX_ENDPOINT: `127.0.0.1:${port}`,
    GCS_ENDPOINT: `http://127.0.0.1:${port}`,
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}`,
  });
});

after(async () => {
  await clients?.close();
  server?.close();
});

describe("prepareClients", () => {
  it("makes and initialises both gRPC clients, a step per turn, sending nothing", async () => {
    const holder = clients.pubsub as unknown as PublisherHolder;
    const publisherOf = () => holder.api.PublisherClient;
    const seen: string[] = [];
    const turn = () => {
      seen.push(publisherOf() ? "publisher" : "none");
      return new Promise<void>((r) => setImmediate(r));
    };
    assert.equal(publisherOf(), undefined, "no publisher before");
    await prepareClients(clients, REGION, log, turn);
    assert.deepEqual(seen, ["none", "none", "none", "publisher"], "four steps, in four turns");
    const jobs = clients.jobService(REGION) as unknown as Stubbed;
    assert.equal(typeof (await jobs.jobServiceStub)?.createCustomJob, "function");
    const publisher = publisherOf();
    assert.equal(typeof (await publisher?.publisherStub)?.publish, "function");
    assert.equal(await holder.getClientAsync_({ client: "PublisherClient" }), publisher);
    assert.equal(clients.jobService(REGION), jobs, "the client later calls get");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(connections, 0, "initialising connects nowhere");
    assert.deepEqual(debugLines, []);
  });

  it("stops at a failed step without throwing; the real call meets the same failure", async () => {
    const failing = new Error("descriptor broken");
    const client = { initialize: () => Promise.reject(failing) };
    const broken = { jobService: () => client, pubsub: clients.pubsub } as unknown as Clients;
    const before = debugLines.length;
    await prepareClients(broken, REGION, log);
    assert.equal(debugLines.length, before + 1);
    assert.match(debugLines.at(-1) ?? "", /the call that needs it reports why/);
    await assert.rejects(() => client.initialize(), failing);
  });
});

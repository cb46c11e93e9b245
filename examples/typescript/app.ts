// Every public function, class member, callback and option of fullduplex, used from TypeScript.
// Checked by `tsc --strict --noEmit` against the package's own declarations (tests/js/types.test.mjs
// compiles it against the packed tarball installed in a temporary folder). Not a page: a tour.
import {
  init,
  isSupported,
  StompClient,
  XmppClient,
  type StompHeaders,
  type XmppArchiveQuery,
  type XmppArchivePage,
  type StompVersion,
  type StompConnectOptions,
  type StompOpenInfo,
  type StompReconnectInfo,
  type StompMessage,
  type StompMessageHandler,
  type StompSubscription,
  type StompTransaction,
  type StompCloseEvent,
  type SaslMechanism,
  type XmppConnectOptions,
  type XmppMessage,
  type XmppMessageOptions,
  type XmppPresence,
  type XmppOccupant,
  type XmppJoinOptions,
  type ChatState,
  type XmppDiscoInfo,
  type XmppDiscoItem,
  type RosterItem,
  type XmppError,
  type XmppCloseEvent,
  type XmppOpenInfo,
  type XmppRosterInfo,
  type XmppReconnectInfo,
  type ClientOptions,
} from "fullduplex";
// The per-protocol entries: a smaller wasm each, same classes.
import { StompClient as StompOnly, init as initStomp, isSupported as stompSupported } from "fullduplex/stomp";
import { XmppClient as XmppOnly, init as initXmpp, isSupported as xmppSupported } from "fullduplex/xmpp";

const log = (...parts: unknown[]): void => console.log(...parts);

// ------------------------------------------------------------------------------------ module

export async function start(): Promise<void> {
  // The talk's first step.
  if (!window.WebSocket || !(await isSupported())) {
    log("This browser does not support WebSocket.");
    return;
  }
  await init(); // optional: the wasm also loads on first use
  const sizes: boolean[] = [await stompSupported(), await xmppSupported()];
  await Promise.all([initStomp(), initXmpp()]);
  log(sizes, new StompOnly().connected, new XmppOnly().connected);
}

// ------------------------------------------------------------------------------------ STOMP

export function stomp(url: string): StompClient {
  const client = new StompClient();

  // The talk's callbacks.
  client.onopen = (headers: StompHeaders, info: StompOpenInfo) =>
    log(info.reconnected ? "reconnected" : "connected", headers.version, headers["heart-beat"]);
  client.onreconnecting = (info: StompReconnectInfo) =>
    log(`lost (${info.code} ${info.reason}, clean: ${info.wasClean}); retry ${info.attempt} to ${info.url} in`, info.delay ?? "(when online)");
  const onMessage: StompMessageHandler = (headers, body, message) => {
    const bytes: Uint8Array = message.binaryBody;
    const id: string = message.subscription;
    log(headers.destination, body.length, bytes.byteLength, id, message.headers, message.body);
  };
  client.onmessage = onMessage;
  client.onerror = (headers, body) => log("error", headers.message, body);
  client.onclose = (event: StompCloseEvent) => log("closed", event.code, event.reason, event.wasClean);
  client.onreceipt = (headers) => log("receipt", headers["receipt-id"]);
  client.debug = (direction: "in" | "out", frame: string) => log(direction, frame);
  client.debug = null;

  const versions: StompVersion[] = ["1.2", "1.1"];
  const options: StompConnectOptions = {
    login: "guest",
    passcode: "guest",
    host: "/",
    headers: { "client-id": "typescript-example" },
    acceptVersions: versions,
    heartbeatOutgoing: 10000,
    heartbeatIncoming: 10000,
    connectTimeout: 30000,
    maxOutbox: 1000,
    maxFrameSize: 16 * 1024 * 1024,
    reconnect: true,
    reconnectDelay: 1000,
    maxReconnectDelay: 30000,
    maxReconnectAttempts: 0,
    debug: (direction, frame) => log(direction, frame.length),
  };
  client.connect(url, options);
  // Failover: each retry goes to the next URL.
  new StompClient({ shared: true }).connect([url, "wss://standby.example.com/ws"], { reconnect: true });

  const connected: boolean = client.connected;
  const version: StompVersion | null = client.version;
  log(connected, version);

  // subscribe(destination), with a handler, with headers, with both.
  const plain = client.subscribe("/topic/news");
  const withHandler: StompSubscription = client.subscribe("/topic/prices", onMessage);
  const withHeaders = client.subscribe("/queue/work", { ack: "client-individual", receipt: "r1" });
  const manual = client.subscribe(
    "/queue/jobs",
    (headers, body, message) => {
      log(headers["message-id"], body);
      void message.ack().then(() => message.nack({ requeue: "false" })).catch(log);
      void client.ack(message, { receipt: "a1" });
      void client.nack(message);
    },
    { ack: "client" },
  );
  void withHeaders.receipt.then(() => log("subscribed", withHeaders.id));
  void manual.receipt;
  void plain.unsubscribe();
  void withHandler.unsubscribe({ receipt: true });

  // send(body, destination[, headers]): text or bytes; receipts resolve the Promise.
  void client.send("Hello Stomp!", "/topic/news");
  void client.send(new Uint8Array([1, 2, 3]), "/topic/prices", { "content-type": "application/octet-stream" });
  client.send("confirmed", "/queue/work", { receipt: "s1" }).then(
    () => log("broker has it"),
    (e: Error) => log("not sent", e.message),
  );

  // Transactions.
  const tx: StompTransaction = client.begin();
  log(tx.id);
  void tx.send("in a transaction", "/queue/work");
  void tx.send(new Uint8Array(4), "/queue/work", { priority: "5" });
  client.onmessage = (_h, _b, message: StompMessage) => {
    void tx.ack(message);
    void tx.nack(message, {});
  };
  void tx.commit();
  void client.begin().abort();

  void client.disconnect().then(() => log("bye"));
  return client;
}

// ------------------------------------------------------------------------------------ XMPP

export function xmpp(url: string, domain: string): XmppClient {
  const client = new XmppClient();

  // The talk's callbacks.
  client.onopen = (jid: string | null, info: XmppOpenInfo) =>
    log(jid === null ? "stream ready" : `online as ${jid}`, info.reconnected ? "(reconnected)" : "");
  client.onclose = (e: XmppCloseEvent) => log("closed", e.code, e.reason, e.wasClean, e.condition, e.text);
  client.onmessage = (msg: XmppMessage) => {
    log(msg.from, msg.to, msg.type, msg.id, msg.body, msg.subject, msg.thread, msg.xml.length);
    // Extensions: carbons, chat states, receipts, delayed delivery, archive ids.
    const state: ChatState | null = msg.chatState;
    log(msg.carbon, state, msg.receiptRequested, msg.delay, msg.archiveId);
  };
  client.onreceipt = (from: string, id: string) => log(`${from} received ${id}`);
  client.onchatstate = (from: string, state: ChatState) => log(`${from} is ${state}`);
  client.onoccupant = (o: XmppOccupant) => {
    const codes: number[] = o.codes;
    log(o.room, o.nick, o.jid, o.role, o.affiliation, o.type, o.show, o.status, codes, o.self, o.newNick, o.xml);
  };
  client.onpresence = (p: XmppPresence) => {
    const priority: number | null = p.priority;
    log(p.from, p.to, p.type, p.show, p.status, priority, p.xml);
    if (p.type === "subscribe" && p.from) client.approve(p.from);
  };
  client.onroster = (items: RosterItem[], info: XmppRosterInfo) => {
    if (info.reloaded) log("the whole roster again, after a reconnection");
    for (const item of items) log(item.jid, item.name, item.subscription, item.ask, item.groups.join(","));
  };
  client.onerror = (error: XmppError) => {
    log(error.condition, error.text, error.message);
    // "undelivered" and "unacknowledged" carry the stanzas concerned.
    if (error.stanzas) for (const xml of error.stanzas) log(xml);
  };
  client.onreconnecting = (r: XmppReconnectInfo) =>
    log(`connection lost, attempt ${r.attempt} in ${r.delay} ms to ${r.url}`, r.code, r.reason, r.wasClean);
  client.onresumed = () => log("stream resumed, nothing lost");
  client.debug = (direction, xml) => log(direction, xml);
  client.debug = null;

  // Credentials as properties (the talk's style) or as options.
  client.username = "alice";
  client.password = "alicepw";
  client.resource = null;
  const mechanisms: SaslMechanism[] = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "ANONYMOUS"];
  const options: XmppConnectOptions = {
    username: "alice",
    password: "alicepw",
    resource: "typescript",
    mechanisms,
    allowPlainInsecure: false,
    iqTimeout: 30000,
    streamManagement: true,
    receipts: true,
    reconnect: true,
    reconnectDelay: 1000,
    maxReconnectDelay: 30000,
    maxReconnectAttempts: 0,
    debug: (direction, xml) => log(direction, xml.length),
  };
  client.connect([url, "wss://standby.example.com/xmpp"], domain, options);
  const jid: string | null = client.jid;
  const online: boolean = client.connected;
  log(jid, online);

  return client;
}

/** Without credentials: register, log in, use the roster and the rest, leave. */
export async function newAccount(url: string, domain: string): Promise<void> {
  // Shared mode: every tab of this origin uses one session (one WebSocket) in a SharedWorker.
  const shared: ClientOptions = { shared: true };
  const client = new XmppClient(shared);
  client.connect(url, domain);
  await new Promise<void>((resolve) => (client.onopen = () => resolve()));
  try {
    await client.register("dave", "davepw");
  } catch (e) {
    if ((e as XmppError).condition !== "conflict") throw e;
  }
  const full: string = await client.login("dave", "davepw", "laptop");
  log(full);

  const roster: RosterItem[] = await client.getRoster();
  log(roster.length);
  await client.addContact("alice@localhost", "Alice", ["Friends"]);
  await client.addContact("bob@localhost");
  client.subscribe("alice@localhost");
  client.approve("alice@localhost");
  client.deny("carol@localhost");
  client.unsubscribe("bob@localhost");
  await client.removeContact("bob@localhost");

  client.setStatus(); // available
  client.setStatus("away", "Back soon", 5);
  client.setStatus(null, null, null);
  const id: string | null = client.sendMessage("alice@localhost", "Hello XMPP!", { id: true });
  const options: XmppMessageOptions = { type: "chat", subject: "hi", thread: id ?? "thread-1", receipt: true, chatState: "active" };
  client.sendMessage("alice@localhost", "Re: hello", options);
  client.sendChatState("alice@localhost", "composing");
  client.sendChatState("room@conference.localhost", "paused", "groupchat");
  await client.enableCarbons();
  await client.disableCarbons();

  // A multi-user chat room.
  const join: XmppJoinOptions = { password: "secret", maxStanzas: 20, seconds: 3600, since: "2024-01-01T00:00:00Z" };
  await client.joinRoom("room@conference.localhost", "dave", join);
  client.sendMessage("room@conference.localhost", "Hello room", { type: "groupchat" });
  const subjectId: string | null = client.setRoomSubject("room@conference.localhost", "Today: fullduplex");
  log(subjectId);
  await client.leaveRoom("room@conference.localhost", "bye");
  client.sendRaw("<message to='alice@localhost'><body>raw</body></message>");
  const version: string = await client.iq("get", domain, "<query xmlns='jabber:iq:version'/>");
  const pong: string = await client.iq("set", null, "<ping xmlns='urn:xmpp:ping'/>");
  log(version, pong);

  // Service discovery.
  const info: XmppDiscoInfo = await client.discoInfo();
  for (const i of info.identities) log(i.category, i.type, i.name);
  log(info.features.includes("urn:xmpp:mam:2"), (await client.discoInfo("dave@localhost", "node")).features);
  const items: XmppDiscoItem[] = await client.discoItems(null);
  for (const item of items) log(item.jid, item.node, item.name);
  await client.discoItems("conference.localhost", "rooms");

  // Message archive (XEP-0313), paged backwards from the most recent message.
  const query: XmppArchiveQuery = { with: "alice@localhost", max: 10, before: true };
  let page: XmppArchivePage = await client.queryArchive(query);
  for (const m of page.messages) log(m.from, m.body);
  while (!page.complete && page.first !== null) {
    page = await client.queryArchive({ ...query, before: page.first });
  }
  const forward = await client.queryArchive({
    archive: "room@conference.localhost",
    start: "2024-01-01T00:00:00Z",
    end: "2030-01-01T00:00:00Z",
    ...(page.last !== null ? { after: page.last } : {}),
  });
  log(forward.count, forward.last);

  await client.changePassword("davepw2");
  await client.unregister();
  await client.disconnect();

  const guest = new XmppClient();
  guest.connect(url, domain);
  guest.onopen = async (jid) => {
    if (jid === null) log(await guest.loginAnonymous());
  };
}

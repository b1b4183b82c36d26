// Node's ws as a client of a WebSocket echo server (wsframe's example server,
// or uvicorn on WSFrameProtocol). Usage: node client.mjs URL MODE [LIMIT]
//   MODE: off | default | small   (permessage-deflate: none, ws's default
//         offer, or 9-bit windows with no context takeover both ways)
//   LIMIT: the largest message to send, in bytes (default 16 MiB)
// Prints one JSON line per check: {"name", "ok", "detail"}; exits 0 either way
// (the Python test reads the lines and names what failed).
import crypto from 'node:crypto';
import WebSocket from 'ws';

const [url, mode, limitArg] = process.argv.slice(2);
const LIMIT = Number(limitArg ?? 16 << 20);
const DEFLATE = {
  off: false,
  default: { threshold: 0 },
  small: {
    threshold: 0,
    clientMaxWindowBits: 9,
    serverMaxWindowBits: 9,
    clientNoContextTakeover: true,
    serverNoContextTakeover: true,
  },
};
if (!url || !(mode in DEFLATE) || !(LIMIT >= 16)) {
  console.error('usage: node client.mjs URL off|default|small [LIMIT]');
  process.exit(2);
}

function report(name, ok, detail) {
  process.stdout.write(`${JSON.stringify({ name, ok, detail: String(detail ?? '') })}\n`);
}

async function check(name, body) {
  try {
    report(name, true, await body());
  } catch (error) {
    report(name, false, error?.message ?? error);
  }
}

// One connection, with a queue of received messages and pongs.
class Peer {
  static open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: DEFLATE[mode], maxPayload: 0 });
      ws.once('open', () => resolve(new Peer(ws)));
      ws.once('error', reject);
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.pongs = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`closed with ${code}`));
      });
    });
    ws.on('message', (data, isBinary) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve({ data, isBinary });
      else this.messages.push({ data, isBinary });
    });
    ws.on('pong', (data) => this.pongs.push(data.toString()));
    ws.on('error', () => {}); // the 'close' event reports the outcome
  }

  next(timeout = 60000) {
    if (this.messages.length) return Promise.resolve(this.messages.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within the timeout')), timeout);
      this.waiters.push({
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  async pong(payload, timeout = 10000) {
    const deadline = Date.now() + timeout;
    while (!this.pongs.includes(payload)) {
      if (Date.now() > deadline) throw new Error(`no pong ${payload}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async closeWith(code, reason, timeout = 10000) {
    this.ws.close(code, reason);
    return withTimeout(this.closed, timeout, 'no close');
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function expectText(message, text) {
  if (message.isBinary) throw new Error('a binary message where text was expected');
  const got = message.data.toString();
  if (got !== text) throw new Error(`text differs: ${got.length} chars instead of ${text.length}`);
}

function expectBinary(message, data) {
  if (!message.isBinary) throw new Error('a text message where binary was expected');
  if (!Buffer.from(message.data).equals(data)) {
    throw new Error(`binary differs: ${message.data.length} bytes instead of ${data.length}`);
  }
}

// size bytes of UTF-8 (two-byte Greek letters, ASCII to pad)
function textOf(size) {
  const unit = 'κόσμε ';
  const text = unit.repeat(Math.floor(size / Buffer.byteLength(unit)));
  return text + 'x'.repeat(size - Buffer.byteLength(text));
}

// size bytes: a random 1000-byte block repeated (compressible, but only with a
// window of more than 512 bytes)
function binaryOf(size) {
  const block = crypto.randomBytes(1000);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1000) block.copy(data, i, 0, Math.min(1000, size - i));
  return data;
}

// A client frame: FIN/RSV/opcode byte, payload, masked unless told otherwise.
function frame(first, payload, { mask = true } = {}) {
  const body = Buffer.from(payload);
  const n = body.length;
  let header;
  if (n < 126) {
    header = Buffer.from([first, (mask ? 0x80 : 0) | n]);
  } else if (n < 65536) {
    header = Buffer.alloc(4);
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  header[0] = first;
  if (!mask) return Buffer.concat([header, body]);
  const key = crypto.randomBytes(4);
  return Buffer.concat([header, key, body.map((b, i) => b ^ key[i % 4])]);
}

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20].filter((n) => n <= LIMIT);
const FRAGMENTED = Math.min(1 << 20, LIMIT) & ~15; // sent in 16 fragments
const CLOSE_CODES = [1000, 1013, 3000, 4999];
const deflate = mode !== 'off';
// [name, bytes, expected close code]: each breaks one rule of RFC 6455 (or 7692).
const RAW = [
  ['reserved opcode 0x3 (5.2)', frame(0x83, ''), 1002],
  ['reserved control opcode 0xB (5.2)', frame(0x8b, ''), 1002],
  ['unmasked client frame (5.1)', frame(0x81, 'hi', { mask: false }), 1002],
  ['RSV2 set (5.2)', frame(0xa1, 'hi'), 1002],
  ['RSV3 set (5.2)', frame(0x91, 'hi'), 1002],
  ['RSV1 on a Ping (7692 6)', frame(0xc9, ''), 1002],
  ['fragmented Ping (5.5)', frame(0x09, 'x'), 1002],
  ['Ping of 126 bytes (5.5)', frame(0x89, Buffer.alloc(126)), 1002],
  ['Close with a 1-byte payload (5.5.1)', frame(0x88, [0x03]), 1002],
  ['continuation with nothing to continue (5.4)', frame(0x80, 'x'), 1002],
  ['text inside an unfinished text (5.4)', Buffer.concat([frame(0x01, 'a'), frame(0x81, 'b')]), 1002],
  ['64-bit length with the top bit set (5.2)',
    Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]), 1002],
  ['Close code 1005 on the wire (7.4.1)', frame(0x88, [0x03, 0xed]), 1002],
  ['Close code 999 (7.4)', frame(0x88, [0x03, 0xe7]), 1002],
  ['Close code 5000 (7.4)', frame(0x88, [0x13, 0x88]), 1002],
  ['invalid UTF-8 text (8.1)', frame(0x81, [0x48, 0xff]), 1007],
  ['invalid UTF-8 across fragments (8.1)',
    Buffer.concat([frame(0x01, [0xce]), frame(0x80, [0x41])]), 1007],
  ['UTF-16 surrogate in text (8.1)', frame(0x81, [0xed, 0xa0, 0x80]), 1007],
  ['invalid UTF-8 in a Close reason (5.5.1)', frame(0x88, [0x03, 0xe8, 0xff]), 1007],
  ...(deflate ? [
    ['RSV1 on a continuation (7692 6.1)',
      Buffer.concat([frame(0x01, 'a'), frame(0xc0, 'b')]), 1002],
    ['compressed data that does not inflate (7692 6.2)', frame(0xc1, [0xff, 0xff, 0xff]), 1007],
  ] : [
    ['RSV1 without an extension (5.2)', frame(0xc1, 'hi'), 1002],
  ]),
];

const peer = await Peer.open();
await check('handshake: extensions agreed', async () => {
  const agreed = peer.ws.extensions;
  if (deflate !== agreed.includes('permessage-deflate')) throw new Error(`agreed: "${agreed}"`);
  return agreed;
});
for (const size of SIZES) {
  await check(`echo text ${size} bytes`, async () => {
    const text = textOf(size);
    peer.ws.send(text);
    expectText(await peer.next(), text);
  });
  await check(`echo binary ${size} bytes`, async () => {
    const data = binaryOf(size);
    peer.ws.send(data);
    expectBinary(await peer.next(), data);
  });
}
await check('fragmented text, a character split across fragments', async () => {
  const bytes = Buffer.from('fragmented κόσμε');
  for (let i = 0; i < bytes.length; i += 3) {
    peer.ws.send(bytes.subarray(i, i + 3), { binary: false, fin: i + 3 >= bytes.length });
  }
  expectText(await peer.next(), 'fragmented κόσμε');
});
await check(`fragmented binary, ${FRAGMENTED} bytes in 16 fragments`, async () => {
  const data = binaryOf(FRAGMENTED);
  const piece = FRAGMENTED / 16;
  for (let i = 0; i < 16; i += 1) {
    peer.ws.send(data.subarray(i * piece, (i + 1) * piece), { binary: true, fin: i === 15 });
  }
  expectBinary(await peer.next(), data);
});
await check('a Ping between the fragments of a text message', async () => {
  peer.ws.send('before the ping, ', { fin: false });
  peer.ws.ping('between');
  peer.ws.send('after the ping', { fin: true });
  await peer.pong('between');
  expectText(await peer.next(), 'before the ping, after the ping');
});
await check('a Ping between compressible binary fragments', async () => {
  const data = binaryOf(300000);
  peer.ws.send(data.subarray(0, 100000), { binary: true, fin: false });
  peer.ws.ping('middle');
  peer.ws.send(data.subarray(100000, 200000), { fin: false });
  peer.ws.ping('again');
  peer.ws.send(data.subarray(200000), { fin: true });
  await peer.pong('middle');
  await peer.pong('again');
  expectBinary(await peer.next(), data);
});
await check('Ping payload echoed in the Pong', async () => {
  peer.ws.ping(Buffer.from('ping? κόσμε'));
  await peer.pong('ping? κόσμε');
});
await check('close 1000 after the exchange', async () => {
  const { code } = await peer.closeWith(1000, 'done');
  if (code !== 1000) throw new Error(`closed with ${code}`);
});

for (const code of CLOSE_CODES) {
  await check(`close ${code} with a reason, echoed`, async () => {
    const reason = `bye ${code}: κόσμε`;
    const other = await Peer.open();
    other.ws.send('one message first');
    expectText(await other.next(), 'one message first');
    const closed = await other.closeWith(code, reason);
    if (closed.code !== code || closed.reason !== reason) {
      throw new Error(`server answered ${closed.code} ${JSON.stringify(closed.reason)}`);
    }
  });
}

for (const [name, bytes, expected] of RAW) {
  await check(`invalid: ${name} -> Close ${expected}`, async () => {
    const other = await Peer.open();
    other.ws._socket.write(bytes); // raw bytes under ws, as a broken client sends them
    const closed = await withTimeout(other.closed, 10000, 'no close');
    if (closed.code !== expected) {
      throw new Error(`closed with ${closed.code} ${JSON.stringify(closed.reason)}`);
    }
    return closed.reason;
  });
}

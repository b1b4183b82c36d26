// Node's ws as an echo server, for wsframe's client. Usage: node server.mjs MODE
//   MODE: off | default | small (permessage-deflate as in client.mjs)
// Prints {"port": N} once listening, then one JSON line per closed connection:
// {"path", "code", "reason", "extensions"}. The request path chooses the test:
//   /                    echo every message
//   /close/CODE/REASON   close at once with CODE and REASON (URL-encoded)
//   /raw/HEX             write these raw bytes (a broken server), then echo
import WebSocket, { WebSocketServer } from 'ws';

const mode = process.argv[2];
const DEFLATE = {
  off: false,
  default: { threshold: 0 },
  small: {
    threshold: 0,
    serverMaxWindowBits: 9,
    clientMaxWindowBits: 9,
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
  },
};
if (!(mode in DEFLATE)) {
  console.error('usage: node server.mjs off|default|small');
  process.exit(2);
}

const wss = new WebSocketServer({
  host: '127.0.0.1', port: 0, perMessageDeflate: DEFLATE[mode], maxPayload: 0,
});
wss.on('listening', () => {
  process.stdout.write(`${JSON.stringify({ port: wss.address().port })}\n`);
});
wss.on('connection', (ws, request) => {
  const path = request.url;
  ws.on('close', (code, reason) => {
    process.stdout.write(`${JSON.stringify({
      path, code, reason: reason.toString(), extensions: request.headers['sec-websocket-extensions'] ?? '',
    })}\n`);
  });
  ws.on('error', () => {}); // the 'close' event reports the outcome
  ws.on('message', (data, isBinary) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
  });
  if (path.startsWith('/close/')) {
    const [code, reason] = path.slice('/close/'.length).split('/');
    ws.close(Number(code), decodeURIComponent(reason ?? ''));
  } else if (path.startsWith('/raw/')) {
    ws._socket.write(Buffer.from(path.slice('/raw/'.length), 'hex'));
  }
});

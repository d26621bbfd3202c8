// The y-websocket server from npm (@y/websocket-server, the server that
// y-websocket 3.x moved out), in memory (no YPERSISTENCE), on loopback,
// for `cargo xtask bench server --peers`. Any path is a document. Prints
// {"port": N} once listening; stops when stdin closes.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { setupWSConnection } from '@y/websocket-server/utils';

const wss = new WebSocketServer({ noServer: true });
wss.on('connection', setupWSConnection);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('okay');
});
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();

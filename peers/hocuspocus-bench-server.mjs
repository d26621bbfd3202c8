// @hocuspocus/server as shipped (no extensions: no persistence, no
// authentication hook, so any token is accepted), on loopback, for
// `cargo xtask bench server --peers`. Prints {"port": N} once listening;
// stops when stdin closes.
import { Server } from '@hocuspocus/server';

const server = new Server({
  port: Number(process.argv[2] || 0),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true,
});
await server.listen();
process.stdout.write(JSON.stringify({ port: server.address.port }) + '\n');
process.stdin.on('close', () => server.destroy().then(() => process.exit(0)));
process.stdin.resume();

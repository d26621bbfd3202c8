// A real @hocuspocus/server (the version La Suite Docs runs) on loopback,
// for interop tests of Atelier's Rust client. Prints {"port": N} once
// listening. Tokens: "secret" is read-write, "reader" read-only, anything
// else is refused.
import { Server } from '@hocuspocus/server';

const server = new Server({
  port: Number(process.argv[2] || 0),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true,
  async onAuthenticate({ token, connectionConfig }) {
    if (token === 'secret') return { user: 'writer' };
    if (token === 'reader') {
      connectionConfig.readOnly = true;
      return { user: 'reader' };
    }
    throw new Error('permission-denied');
  },
});
await server.listen();
process.stdout.write(JSON.stringify({ port: server.address.port }) + '\n');
process.stdin.on('close', () => server.destroy().then(() => process.exit(0)));
process.stdin.resume();

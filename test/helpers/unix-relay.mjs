// A relay from a Unix socket to a TCP address: run on a host of a test
// network (test/helpers/host-network.ts, `ip netns exec ...`), it lets the
// test process, which is not on that network, reach one server directly.
// Plain JavaScript, so that it starts without a compile step.
// Usage: node unix-relay.mjs SOCKET_PATH HOST PORT   (prints "ready" once listening)
import net from 'node:net';

const [socketPath, host, port] = process.argv.slice(2);
if (!socketPath || !host || !port) {
  console.error('usage: node unix-relay.mjs SOCKET_PATH HOST PORT');
  process.exit(2);
}
const server = net.createServer((client) => {
  const upstream = net.connect(Number(port), host);
  client.pipe(upstream).pipe(client);
  // Either side failing ends both, as a reset connection would.
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
});
server.listen(socketPath, () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

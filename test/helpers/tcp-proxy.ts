import net from 'node:net';

/**
 * A TCP proxy in front of a database that a test can take away and bring
 * back: `cut()` is the server vanishing (every connection reset, the port
 * refusing), `freeze()` is the network silently dropping everything (sockets
 * stay open, no byte passes), `restore()` undoes either on the same port.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;
  private frozen = false;
  private _port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target.host, target.port);
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this._port;
  }

  /** `url` with its host and port replaced by this proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this._port);
    return parsed.toString();
  }

  /** Resets every connection and stops listening: new connections are refused. */
  async cut(): Promise<void> {
    const closed = this.server.listening ? new Promise<void>((r) => this.server.close(() => r())) : undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    await closed;
  }

  /** Keeps every socket open (new ones are accepted too) but lets no byte through. */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  /** Listens again on the same port, or lets bytes flow again after a freeze. */
  async restore(): Promise<void> {
    if (this.frozen) {
      this.frozen = false;
      for (const socket of this.sockets) socket.resume();
    }
    if (!this.server.listening) await this.listen(this._port);
  }

  async close(): Promise<void> {
    this.frozen = false;
    await this.cut();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this._port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket) {
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      // Data read while frozen is held back (the socket is paused), not forwarded.
      from.on('data', (chunk) => to.write(chunk));
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      if (this.frozen) from.pause();
    }
  }
}

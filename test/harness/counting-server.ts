/**
 * An HTTP server on 127.0.0.1 (a free port) that answers 404 to everything and counts the
 * requests it saw: to prove that nothing inspecting a hostile image reaches the network.
 *
 *   const server = await CountingServer.start();
 *   ... makeBackedQcow2(file, server.url('/base.qcow2'), 'qcow2') ...
 *   expect(server.requests()).toEqual([]);
 *   await server.stop();
 */
import { createServer, Server } from 'http';
import { Socket } from 'net';

export class CountingServer {
  public static async start(): Promise<CountingServer> {
    const seen: string[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      response.writeHead(404, { 'content-length': '0' });
      response.end();
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new CountingServer(server, seen, sockets);
  }

  private constructor(private readonly server: Server, private readonly seen: string[], private readonly sockets: Set<Socket>) {}

  /** `http://127.0.0.1:PORT<path>`. */
  public url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}${path}`;
  }

  /** The requests seen so far (`METHOD /path`), oldest first. */
  public requests(): string[] {
    return [...this.seen];
  }

  /** Forgets the requests seen so far. */
  public reset(): void {
    this.seen.length = 0;
  }

  public async stop(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A local receiver for job callbacks (webhooks): records each call and answers it with the next
 * status of `statuses`, then 200.
 */
export async function webhookReceiver(statuses: number[] = []) {
  const calls: ReceivedCall[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      calls.push({ headers: request.headers, body });
      response.statusCode = statuses.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { calls, url, close: () => new Promise((resolve) => server.close(resolve)) };
}

import { request } from 'undici';

/** POSTs exact bytes to a URL (the capture URL); resolves with the status. */
export async function post(url: string, body: Buffer, headers: string[] = ['content-type', 'application/json']): Promise<number> {
  const response = await request(url, { method: 'POST', headers, body: body.length > 0 ? body : null });
  await response.body.dump();
  return response.statusCode;
}

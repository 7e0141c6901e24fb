// Certified results as a requester gets them: on chain (small ones) or from the worker that
// keeps them, always checked against the on-chain digest, and decoded into their files.
import { blake2AsU8a } from '@polkadot/util-crypto';
import { compactAddLength, stringToU8a, u8aConcat, u8aEq, u8aToHex, u8aToString } from '@polkadot/util';

// A result is the worker's directory encoding (docs/poco.md): for each file, in path order,
// u64 LE path length ‖ path ‖ u64 LE content length ‖ content. Its files, or an error saying
// where the bytes stop making sense.
export function decodeDirectory (bytes) {
  const files = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (what) => {
    if (at + 8 > bytes.length) throw new Error(`result encoding truncated in the length of ${what} at byte ${at}`);
    const length = view.getBigUint64(at, true);
    at += 8;
    if (length > BigInt(bytes.length - at)) throw new Error(`result encoding: ${what} of ${length} bytes runs past the end (byte ${at})`);
    const slice = bytes.subarray(at, at + Number(length));
    at += Number(length);
    return slice;
  };
  while (at < bytes.length) {
    const path = u8aToString(take('a path'));
    files.push({ path, content: take(`"${path}"`) });
  }
  return files;
}

// What the beneficiary signs to read task `deal`/`index` from the worker that revealed the
// location `uri` (docs/worker.md): bound to that location, so no other worker can replay it.
export function accessMessage (api, deal, index, at, uri) {
  // The location as SCALE bytes: its compact length, then its UTF-8.
  return u8aConcat(stringToU8a('iexec/result-access/v2'), api.createType('(u64,u32,u64)', [deal, index, at]).toU8a(), compactAddLength(stringToU8a(uri)));
}

// The body of `response`, refused as soon as it passes `limit` bytes.
async function boundedBody (response, limit, uri) {
  const declared = response.headers.get('content-length');
  if (declared !== null && BigInt(declared) > limit) throw new Error(`the result at ${uri} is ${declared} bytes, more than the deal allows`);
  const chunks = [];
  let length = 0n;
  for await (const chunk of response.body) {
    length += BigInt(chunk.length);
    if (length > limit) throw new Error(`the result at ${uri} is larger than the deal allows (over ${limit} bytes)`);
    chunks.push(chunk);
  }
  return u8aConcat(...chunks);
}

// The bytes of a certified result: inline ones as they are, a URI's fetched with the
// beneficiary's signature (no redirect followed: the signature goes to that worker only, and
// at most \`limit\` bytes read). Either way their blake2-256 must be \`digest\`.
export async function resultBytes (api, { location, digest, deal, index, beneficiary, limit }) {
  let bytes;
  let source;
  if (location.isInline) {
    bytes = location.asInline.toU8a(true);
    source = 'on chain';
  } else {
    const uri = u8aToString(location.asUri.toU8a(true));
    if (!beneficiary) throw new Error(`the result is at ${uri}; only the deal's beneficiary can fetch it`);
    const at = Math.floor(Date.now() / 1000);
    const signature = u8aToHex(beneficiary.sign(accessMessage(api, deal, index, at, uri)));
    let url;
    try {
      url = new URL(uri);
    } catch (_) {
      throw new Error(`the result's location is not a URL: ${JSON.stringify(uri)}`);
    }
    url.searchParams.set('at', String(at));
    url.searchParams.set('signature', signature);
    // A worker records its result when it sees the certification in a finalised block, which
    // may be a little after the client saw it: 404 (and 503, a node it cannot reach) are asked
    // again for a minute.
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(600_000) });
        if (!response.ok) {
          const why = `the worker at ${uri} answered ${response.status}: ${(await response.text()).trim().slice(0, 200)}`;
          if ((response.status === 404 || response.status === 503) && attempt < 12) {
            await new Promise((resolve) => setTimeout(resolve, 5000));
            continue;
          }
          throw new Error(why);
        }
        bytes = await boundedBody(response, limit, uri);
        break;
      } catch (e) {
        throw new Error(e.message.startsWith('the ') ? e.message : `cannot fetch the result from ${uri}: ${e.cause?.message ?? e.message}`);
      }
    }
    source = `from ${uri}`;
  }
  const expected = digest.toU8a ? digest.toU8a() : digest;
  if (!u8aEq(blake2AsU8a(bytes, 256), expected)) {
    throw new Error(`the result ${source} does not hash to the certified digest ${u8aToHex(expected)}`);
  }
  return { bytes, source };
}

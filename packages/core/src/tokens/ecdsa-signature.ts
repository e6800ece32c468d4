/**
 * An ECDSA signature as JWS wants it (RFC 7518 §3.4: r and s as unsigned big-endian integers
 * of `size` bytes each, concatenated) from the DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) that
 * node:crypto answers by default. Throws on anything that is not such a value for `size`.
 */
export function ecdsaDerToJose(der: Buffer, size: number): Buffer {
  // SEQUENCE { INTEGER r, INTEGER s }. For the curves here (at most 66-byte integers) the
  // sequence's length may take the long form 0x81 n; the integers' never do.
  let offset = 2
  let length = der[1]
  if (length === 0x81) {
    length = der[2]
    offset = 3
  }
  if (der[0] !== 0x30 || length !== der.length - offset) throw malformed()
  const jose = Buffer.alloc(size * 2)
  for (let part = 0; part < 2; part++) {
    const intLength = der[offset + 1]
    if (der[offset] !== 0x02 || intLength === undefined || intLength === 0 || intLength > size + 1)
      throw malformed()
    let start = offset + 2
    const end = start + intLength
    if (end > der.length) throw malformed()
    // A leading zero only keeps a high bit from reading as a sign; it is not part of the value.
    while (end - start > size) {
      if (der[start] !== 0) throw malformed()
      start++
    }
    der.copy(jose, part * size + size - (end - start), start, end)
    offset = end
  }
  if (offset !== der.length) throw malformed()
  return jose
}

function malformed(): Error {
  return new Error('node:crypto answered an ECDSA signature that is not DER ECDSA-Sig-Value')
}

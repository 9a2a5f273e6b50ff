import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The IPv4 address an IPv6 address carries and would reach: IPv4-mapped and -translated forms,
 * NAT64 (64:ff9b::/96), 6to4 (2002:AABB:CCDD::), Teredo (server and XOR-ed client) and the
 * deprecated IPv4-compatible ::a.b.c.d. A fetch to any of them can end at that IPv4 address.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const words = address.parts;
  const ipv4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  switch (address.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
      return [ipv4(words[6], words[7])];
    case '6to4':
      return [ipv4(words[1], words[2])];
    case 'teredo':
      return [ipv4(words[2], words[3]), ipv4(words[6] ^ 0xffff, words[7] ^ 0xffff)];
    default:
      // IPv4-compatible (::a.b.c.d); :: and ::1 are judged as themselves.
      if (words.slice(0, 6).every((word) => word === 0) && words[6] !== 0) return [ipv4(words[6], words[7])];
      return [];
  }
}

/**
 * Addresses a server-side fetch must not reach unless explicitly allowed (SSRF protection): anything
 * but global unicast, by ipaddr.js's special-purpose ranges, also when hidden inside an IPv6 address.
 */
export function isPrivateAddress(address: string): boolean {
  if (!isIP(address) || !ipaddr.isValid(address)) return true;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() !== 'unicast';
  const ipv6 = parsed as ipaddr.IPv6;
  // The local-use NAT64 prefix (RFC 8215) may embed IPv4 anywhere: never fetched.
  if (ipv6.match(ipaddr.IPv6.parse('64:ff9b:1::'), 48)) return true;
  const embedded = embeddedIPv4(ipv6);
  if (embedded.length > 0) return embedded.some((ipv4) => ipv4.range() !== 'unicast');
  return ipv6.range() !== 'unicast';
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * Resolves a host once and checks every address it has (SSRF protection for outgoing requests):
 * `unresolvable` and `refused` make the errors the caller's users should see.
 */
export async function resolveCheckedAddress(
  hostname: string,
  options: {
    resolver: Resolver;
    allowPrivate: boolean;
    unresolvable: () => Error;
    refused: () => Error;
  },
): Promise<LookupAddress> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  if (isIP(bare)) addresses = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      addresses = await options.resolver(bare);
    } catch {
      throw options.unresolvable();
    }
  }
  if (addresses.length === 0) throw options.unresolvable();
  if (!options.allowPrivate && addresses.some((entry) => isPrivateAddress(entry.address)))
    throw options.refused();
  return addresses[0];
}

/** A lookup that always answers the address already checked, so DNS rebinding cannot swap it. */
export function pinnedLookup(address: LookupAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  };
}

/**
 * Webhook targets must not reach into the network the workers run in (SSRF): a target whose host resolves to a
 * private, loopback, link-local, CGNAT, multicast or reserved address is refused unless the profile allows private
 * targets (the local profile does). Ranges from the IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890).
 *
 * Limit: the check resolves the name, then fetch resolves it again; a DNS rebinding attacker with a TTL of 0 could
 * answer differently the second time. Refusing names that resolve to any private address narrows, not closes, that.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. the EC2/Lambda metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routable inside some networks)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** IPv4 embedded in an IPv6 address by NAT64 (64:ff9b::/96) or IPv4-compatible (::/96) forms, else undefined. */
function embeddedIpv4(ip: string): string | undefined {
  const m = /^(?:64:ff9b::|::)(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (m) {
    const hi = Number.parseInt(m[1], 16);
    const lo = Number.parseInt(m[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const d = /^(?:64:ff9b::|::)(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return d ? d[1] : undefined;
}

/** True for an address webhooks must not reach without allowPrivateTargets. Not an IP at all: true (refuse). */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // brackets, IPv6 zone id
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4 && isIP(v4) === 4 && blocked.check(v4, 'ipv4')) return true;
    return blocked.check(ip, 'ipv6');
  }
  return true;
}

export type Lookup = (hostname: string) => Promise<string[]>;

export const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * Decides whether a webhook URL may be called: http(s) only; every address its host resolves to must be public.
 * Results are cached per host for `ttlMs` (a batch of thousands of notifications to one target resolves once).
 */
export class TargetGuard {
  readonly allowPrivate: boolean;
  readonly lookup: Lookup;
  readonly ttlMs: number;
  private readonly cache = new Map<string, { at: number; result: Promise<TargetCheck> }>();

  constructor(opts: { allowPrivate: boolean; lookup?: Lookup; ttlMs?: number }) {
    this.allowPrivate = opts.allowPrivate;
    this.lookup = opts.lookup ?? systemLookup;
    this.ttlMs = opts.ttlMs ?? 30_000;
  }

  check(target: string): Promise<TargetCheck> {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return Promise.resolve({ ok: false, reason: 'target refused: not a URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.resolve({ ok: false, reason: `target refused: scheme ${url.protocol}` });
    }
    if (this.allowPrivate) return Promise.resolve({ ok: true });
    const host = url.hostname;
    const hit = this.cache.get(host);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.result;
    const result = this.resolve(host);
    this.cache.set(host, { at: Date.now(), result });
    return result;
  }

  private async resolve(host: string): Promise<TargetCheck> {
    const bare = host.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(bare)) {
      addresses = [bare];
    } else {
      try {
        addresses = await this.lookup(bare);
      } catch (err) {
        this.cache.delete(host); // do not remember a transient DNS failure
        return { ok: false, reason: `target unresolvable: ${(err as Error).message}` };
      }
    }
    if (addresses.length === 0) return { ok: false, reason: 'target unresolvable: no addresses' };
    if (addresses.some(isPrivateAddress)) return { ok: false, reason: 'target refused: private address' };
    return { ok: true };
  }
}

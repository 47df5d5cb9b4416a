/**
 * Webhook targets must not reach into the network the workers run in (SSRF). An address is public only when it is
 * globally routable unicast: every range of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
 * its updates, as kept by ipaddr.js) is refused, and so is any IPv6 address outside global unicast 2000::/3.
 * IPv6 forms that carry an IPv4 address are judged by that IPv4 address: IPv4-mapped ::ffff:0:0/96 (RFC 4291 2.5.5.2),
 * IPv4-translated ::ffff:0:0:0/96 (RFC 6145, e.g. `::ffff:0:7f00:1`), IPv4-compatible ::/96 (RFC 4291 2.5.5.1),
 * NAT64 64:ff9b::/96 (RFC 6052), 6to4 2002::/16 (RFC 3056) and Teredo 2001::/32 (RFC 4380: server and obfuscated
 * client). The NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215) is refused whole: where its IPv4 sits depends on the
 * operator's prefix length, and its translations lead into the operator's own network.
 *
 * DNS rebinding: the verdict on a name is taken when the connection is made, on the very addresses the socket is
 * given (a checked `lookup` in the connector of the undici Agent below), and the connected socket's remote address is
 * checked again before a byte is written. There is no verdict cache: a name that answers a public address to one
 * resolver call and a loopback address to the next is refused at the second connection.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, type Dispatcher } from 'undici';

/** Why an address is not public, or undefined when it is. */
export function privateAddressReason(address: string): string | undefined {
  const text = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(text)) return 'not an IP address';
  const ip = ipaddr.parse(text);
  if (ip.kind() === 'ipv4') {
    const range = ip.range();
    return range === 'unicast' ? undefined : `${text} is ${range}`;
  }
  const v6 = ip as ipaddr.IPv6;
  const embedded = embeddedIpv4(v6);
  if (embedded === 'refused') return `${text} is ${v6.range()} (local-use NAT64, RFC 8215)`;
  if (embedded) {
    for (const v4 of embedded) {
      const inner = privateAddressReason(v4.toString());
      if (inner) return `${text} embeds ${inner}`;
    }
    return undefined;
  }
  const range = v6.range();
  if (range !== 'unicast') return `${text} is ${range}`;
  if (!v6.match(GLOBAL_UNICAST)) return `${text} is outside global unicast 2000::/3`;
  return undefined;
}

/** True for an address webhooks must not reach without allowPrivateTargets. Not an IP at all: true (refuse). */
export function isPrivateAddress(address: string): boolean {
  return privateAddressReason(address) !== undefined;
}

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const NAT64_LOCAL_USE = ipaddr.parseCIDR('64:ff9b:1::/48');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);

/** The IPv4 addresses an IPv6 address carries, `refused` for a prefix refused whole, undefined for none. */
function embeddedIpv4(ip: ipaddr.IPv6): ipaddr.IPv4[] | 'refused' | undefined {
  const w = ip.parts;
  if (ip.match(NAT64_LOCAL_USE)) return 'refused';
  switch (ip.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
      return [v4(w[6], w[7])];
    case '6to4':
      return [v4(w[1], w[2])];
    case 'teredo':
      // RFC 4380 4: server IPv4 in bits 32-63, client IPv4 in bits 96-127 with every bit inverted.
      return [v4(w[2], w[3]), v4(~w[6] & 0xffff, ~w[7] & 0xffff)];
  }
  // ::/128 and ::1/128 are in this /96 too and keep their own range names (unspecified, loopback).
  if (ip.match(IPV4_COMPATIBLE) && ip.range() === 'unicast') return [v4(w[6], w[7])];
  return undefined;
}

/** Resolves a host name to its addresses (all families). Injectable so tests can play a rebinding DNS server. */
export type Lookup = (hostname: string) => Promise<string[]>;

export const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** A connection to a private address was refused (code EPRIVATETARGET): never retried. */
export class PrivateTargetError extends Error {
  readonly code = 'EPRIVATETARGET';
  readonly host: string;
  readonly address: string;
  constructor(host: string, address: string, why: string) {
    super(`target refused: ${host} → ${why}`);
    this.name = 'PrivateTargetError';
    this.host = host;
    this.address = address;
  }
}

/**
 * A `net.connect` lookup that resolves with `resolve` and fails the connection with PrivateTargetError when any
 * address of the answer is private (an answer mixing public and private addresses is an attack, not a fallback).
 */
export function checkedLookup(resolve: Lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        for (const a of addresses) {
          const why = privateAddressReason(a);
          if (why) return callback(new PrivateTargetError(hostname, a, why), '', 0);
        }
        const entries = addresses
          .map((address) => ({ address, family: isIP(address) }))
          .filter((e) => !options.family || e.family === options.family);
        if (entries.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return callback(err, '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, a: typeof entries) => void)(null, entries);
        callback(null, entries[0].address, entries[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * The undici dispatcher webhook POSTs go through. With `allowPrivate` (the local profile) a plain keep-alive Agent;
 * otherwise every new connection resolves through `checkedLookup` and its socket's remote address is checked once
 * connected (this also covers IP-literal hosts, for which Node calls no lookup). Kept-alive sockets stay bound to
 * the address that was checked.
 */
export function targetDispatcher(opts: { allowPrivate: boolean; lookup?: Lookup }): Dispatcher {
  if (opts.allowPrivate) return new Agent();
  const connector = buildConnector({ lookup: checkedLookup(opts.lookup ?? systemLookup) });
  return new Agent({
    connect(options, callback) {
      connector(options, (err, socket) => {
        if (err) return callback(err, null);
        const remote = socket.remoteAddress ?? '';
        const why = privateAddressReason(remote);
        if (why) {
          socket.destroy();
          return callback(new PrivateTargetError(options.hostname, remote, why), null);
        }
        callback(null, socket);
      });
    },
  });
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * Decides whether a webhook URL may be called before any connection: http(s) only, and an IP-literal host must be
 * public. Names are judged at connection time by `dispatcher` (no DNS here, so no verdict that could go stale).
 */
export class TargetGuard {
  readonly allowPrivate: boolean;
  readonly dispatcher: Dispatcher;

  constructor(opts: { allowPrivate: boolean; lookup?: Lookup }) {
    this.allowPrivate = opts.allowPrivate;
    this.dispatcher = targetDispatcher(opts);
  }

  check(target: string): Promise<TargetCheck> {
    return Promise.resolve(this.checkSync(target));
  }

  private checkSync(target: string): TargetCheck {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return { ok: false, reason: 'target refused: not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, reason: `target refused: scheme ${url.protocol}` };
    }
    if (this.allowPrivate) return { ok: true };
    const bare = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(bare)) {
      const why = privateAddressReason(bare);
      if (why) return { ok: false, reason: `target refused: ${why}` };
    }
    return { ok: true };
  }

  /** Closes the dispatcher's kept-alive connections. */
  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

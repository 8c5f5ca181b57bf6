/** Which IP addresses are not public (private, loopback, link-local, ...), after the IANA special-purpose registries. */
import net from 'node:net';

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/**
 * [first address, prefix length, what it is]: every block of the IANA IPv4 special-purpose
 * registry that is not globally reachable, plus the deprecated 6to4 relay anycast. Globally
 * reachable entries (AS112 192.31.196.0/24 and 192.175.48.0/24, AMT 192.52.193.0/24) stay allowed.
 */
const IPV4_BLOCKS: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function classifyIpv4(ip: string): string | null {
  const n = ipv4ToInt(ip);
  for (const [base, bits, what] of IPV4_BLOCKS) {
    const size = 2 ** (32 - bits);
    const start = ipv4ToInt(base);
    if (n >= start && n < start + size) return what;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function ipv6Groups(ip: string): number[] {
  let addr = ip.split('%')[0].toLowerCase();
  const dotted = addr.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const n = ipv4ToInt(dotted[1]);
    addr = addr.slice(0, -dotted[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((g) => parseInt(g, 16));
}

const v4Of = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/** [first groups, prefix length, what it is]: the IANA IPv6 special-purpose blocks that are not globally reachable. */
const IPV6_BLOCKS: Array<[number[], number, string]> = [
  [[0, 0, 0, 0, 0xffff, 0], 96, 'IPv4-translated'],
  [[0x64, 0xff9b, 1], 48, 'local-use NAT64'],
  [[0x100, 0, 0, 0], 64, 'discard-only'],
  [[0x100, 0, 0, 1], 64, 'dummy'],
  [[0x2001, 0], 32, 'Teredo'],
  [[0x2001, 2, 0], 48, 'benchmarking'],
  [[0x2001, 0x10], 28, 'deprecated ORCHID'],
  [[0x2001, 0xdb8], 32, 'documentation'],
  [[0x3fff], 20, 'documentation'],
  [[0x5f00], 16, 'SRv6 SID'],
  [[0xfc00], 7, 'unique-local'],
  [[0xfe80], 10, 'link-local'],
  [[0xfec0], 10, 'site-local'],
  [[0xff00], 8, 'multicast'],
];

function inBlock(g: number[], base: number[], bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((g[i] & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyIpv6(ip: string): string | null {
  const g = ipv6Groups(ip);
  const zeroUpTo = (k: number) => g.slice(0, k).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // forms that reach an IPv4 address are judged by it: ::ffff:a.b.c.d (mapped), ::a.b.c.d
  // (compatible, deprecated), 64:ff9b::/96 (NAT64: a gateway forwards to it), 2002::/16 (6to4)
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyIpv4(v4Of(g[6], g[7]));
  if (zeroUpTo(6)) return classifyIpv4(v4Of(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyIpv4(v4Of(g[6], g[7]));
  if (g[0] === 0x2002) return classifyIpv4(v4Of(g[1], g[2]));
  return IPV6_BLOCKS.find(([base, bits]) => inBlock(g, base, bits))?.[2] ?? null;
}

/**
 * What kind of non-public address `ip` is ("private", "loopback", "link-local", ...), or null for a
 * public one. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 */
export function classifyAddress(ip: string): string | null {
  const family = net.isIP(ip);
  if (family === 4) return classifyIpv4(ip);
  if (family === 6) return classifyIpv6(ip);
  return 'invalid';
}

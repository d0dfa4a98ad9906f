/**
 * The swarm's service discovery on each node: {@link dev.swarmd.dns.DnsServer} answers the services'
 * names (and {@code tasks.<name>}, and their IDs) from a {@link dev.swarmd.dns.DnsTable}, for the
 * containers and for the host (e.g. HAProxy's {@code resolvers}), and forwards every other name to
 * the host's resolvers.
 *
 * <p>Plain blocking sockets and a few daemon threads rather than NIO: the load is a few hundred
 * queries a second, our names are answered on the receive thread in microseconds, and only forwards
 * (at most two seconds each) and the rare TCP connection get threads of their own, from bounded
 * pools. dnsjava parses and builds the messages; forwarded queries and answers pass through as bytes,
 * with only the ID changed, so that EDNS and DNSSEC records reach the client untouched. Answers have
 * TTL 0 and the table is swapped whole, so a client never holds an address the swarm has moved away from.
 */
package dev.swarmd.dns;

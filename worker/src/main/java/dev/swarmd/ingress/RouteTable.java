package dev.swarmd.ingress;

import dev.swarmd.protocol.IngressRoute;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.util.List;

/**
 * What a listener forwards to, swapped as a whole when the route changes: the event loops read it
 * through a volatile field and never see half an update.
 */
record RouteTable(IngressRoute route, List<Target> targets) {
  /** A backend with its socket address, resolved once per route change rather than per connection. */
  record Target(IngressRoute.Backend backend, InetSocketAddress address) {
    /** A socket of the address's own family: no dual-stack set-up per connection. */
    ProtocolFamily family() {
      return address.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }
  }

  static RouteTable of(IngressRoute route) {
    return new RouteTable(route, route.backends().stream()
        .map(b -> new Target(b, new InetSocketAddress(b.host(), b.port())))
        .toList());
  }

  boolean contains(InetSocketAddress address) {
    for (Target t : targets) {
      if (t.address().equals(address)) {
        return true;
      }
    }
    return false;
  }
}

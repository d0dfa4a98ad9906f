package dev.swarmd.endpoint;

import dev.swarmd.protocol.Cidr;
import java.util.Set;

/**
 * The swarm's virtual IPs: one per vip-mode service, the lowest one free in the swarm's subnet (see
 * {@link AddressPool}), after its resolver's address. Each node serves them only as nat rules, so a
 * container's connection to a service's name reaches one of its tasks and nothing else on the host
 * changes.
 */
public final class VirtualIps {
  /** The network the addresses are on, as Endpoint.VirtualIPs names it: swarmd's routing mesh, Docker's "ingress". */
  public static final String NETWORK_ID = "swarmdingress000000000000";
  /** Network address, then the resolver. */
  private static final int FIRST = 2;

  /** All taken: Docker's words when an address pool runs dry. */
  public static final class Exhausted extends RuntimeException {
    Exhausted() {
      super("could not find an available IP while allocating VIP");
    }
  }

  private VirtualIps() {}

  public static String allocate(Cidr subnet, Set<String> taken) {
    // The broadcast address stays out, as in an ordinary subnet.
    for (long n = FIRST; n < subnet.size() - 1; n++) {
      String ip = subnet.host(n);
      if (!taken.contains(ip)) {
        return ip;
      }
    }
    throw new Exhausted();
  }
}

package dev.swarmd.endpoint;

import dev.swarmd.protocol.ServiceName;
import java.util.Set;

/**
 * The swarm's virtual IPs: one per vip-mode service, from 10.255.0.0/16, the lowest one free. Every
 * node routes the whole range to itself (a local route), and its ingress listens on each service's
 * address and target ports, so a container's connection to a service's name reaches one of its tasks.
 */
public final class VirtualIps {
  public static final String RANGE = ServiceName.VIRTUAL_IP_RANGE;
  public static final int PREFIX_LENGTH = 16;
  /** The network the addresses are on, as Endpoint.VirtualIPs names it: swarmd's routing mesh, Docker's "ingress". */
  public static final String NETWORK_ID = "swarmdingress000000000000";
  private static final int FIRST = 2;
  private static final int LAST = 0xFFFE;

  /** All taken: Docker's words when an address pool runs dry. */
  public static final class Exhausted extends RuntimeException {
    Exhausted() {
      super("could not find an available IP while allocating VIP");
    }
  }

  private VirtualIps() {}

  public static String allocate(Set<String> taken) {
    for (int n = FIRST; n <= LAST; n++) {
      String ip = "10.255." + (n >> 8) + "." + (n & 0xFF);
      if (!taken.contains(ip)) {
        return ip;
      }
    }
    throw new Exhausted();
  }
}

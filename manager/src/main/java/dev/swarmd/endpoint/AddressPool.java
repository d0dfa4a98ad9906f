package dev.swarmd.endpoint;

import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.protocol.Cidr;
import java.util.List;
import java.util.Optional;

/**
 * The swarm's address pools ({@code docker swarm init --default-addr-pool}, {@code
 * --default-addr-pool-mask-length}) and the one subnet of them its virtual IPs come from. Its first
 * address is the swarm's resolver for containers; the services' virtual IPs follow. The subnet is
 * chosen clear of every address, route, resolver and engine network the host uses, so that no rule
 * of the swarm ever takes traffic meant for one of them.
 */
public record AddressPool(List<String> pools, int subnetSize, String vipSubnet) implements CborSerializable {
  public static final String DEFAULT_POOL = "10.0.0.0/8";
  public static final int DEFAULT_SUBNET_SIZE = 24;
  /** Docker's bound: a /29 still leaves addresses for the network's own use. */
  static final int MAX_SUBNET_SIZE = 29;
  /** Where swarms initialized before pools existed took their virtual IPs from. */
  public static final AddressPool LEGACY = new AddressPool(List.of(DEFAULT_POOL), DEFAULT_SUBNET_SIZE, "10.255.0.0/16");

  public AddressPool {
    pools = List.copyOf(pools);
  }

  /** Something of the host's that the swarm's subnet must not overlap, and what it is, for the error. */
  public record HostUse(Cidr cidr, String what) {}

  /** The pool asked for cannot be used; the message says why, in Docker's words where Docker has some. */
  public static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  /**
   * The pools asked for (none: Docker's default, 10.0.0.0/8) with subnets of subnetSize (0: 24). With
   * the default pool the first subnet clear of the host's uses is taken; pools the user names must be
   * clear as a whole, since the user chose them for the swarm alone.
   */
  public static AddressPool choose(List<String> asked, int subnetSize, List<HostUse> host) {
    int size = subnetSize == 0 ? DEFAULT_SUBNET_SIZE : subnetSize;
    if (size < 0 || size > MAX_SUBNET_SIZE) {
      throw new Refused("subnet size is out of range: " + subnetSize);
    }
    boolean defaults = asked == null || asked.isEmpty();
    List<Cidr> pools = (defaults ? List.of(DEFAULT_POOL) : asked).stream().map(p -> parse(p, size)).toList();
    for (Cidr pool : defaults ? List.<Cidr>of() : pools) {
      Optional<HostUse> clash = host.stream().filter(u -> u.cidr().overlaps(pool)).findFirst();
      if (clash.isPresent()) {
        throw new Refused("invalid default address pool " + pool + ": it overlaps " + clash.get().what()
            + " on this host; choose another with --default-addr-pool");
      }
    }
    for (Cidr pool : pools) {
      for (long i = 0; i < pool.subnets(size); i++) {
        Cidr subnet = pool.subnet(size, i);
        if (host.stream().noneMatch(u -> u.cidr().overlaps(subnet))) {
          return new AddressPool(pools.stream().map(Cidr::toString).toList(), size, subnet.toString());
        }
      }
    }
    throw new Refused("no /" + size + " subnet of " + pools.get(0) + " is free on this host (its addresses, routes, "
        + "resolvers and engine networks take them all); choose a pool with --default-addr-pool");
  }

  private static Cidr parse(String pool, int size) {
    Cidr c;
    try {
      c = Cidr.parse(pool);
    } catch (IllegalArgumentException e) {
      throw new Refused("invalid base pool " + pool + ": " + e.getMessage());
    }
    if (size < c.prefixLength()) {
      throw new Refused("invalid CIDR: \"" + pool + "\". Subnet size is too small for pool: " + size);
    }
    return c;
  }

  public Cidr subnet() {
    return Cidr.parse(vipSubnet);
  }

  /** The address the swarm's DNS answers containers on: the subnet's first, as a gateway's would be. */
  public String resolver() {
    return subnet().host(1);
  }
}

package dev.swarmd.protocol;

/**
 * An IPv4 prefix, such as 10.0.0.0/24: the swarm's address pools, the subnet its virtual IPs come from,
 * and the host's networks that those must stay clear of.
 */
public record Cidr(int network, int prefixLength) implements CborSerializable {
  public Cidr {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length out of range: " + prefixLength);
    }
    network &= mask(prefixLength);
  }

  /**
   * "a.b.c.d/n" (host bits are cleared, as Go's net.ParseCIDR does), or "a.b.c.d" alone as a /32.
   * Throws IllegalArgumentException with the reason.
   */
  public static Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("invalid CIDR address: " + text);
    }
    String s = text.trim();
    int slash = s.indexOf('/');
    int length = 32;
    if (slash >= 0) {
      String n = s.substring(slash + 1);
      if (!n.matches("\\d{1,2}")) {
        throw new IllegalArgumentException("invalid CIDR address: " + text);
      }
      length = Integer.parseInt(n);
      s = s.substring(0, slash);
    }
    Integer address = address(s);
    if (address == null || length > 32) {
      throw new IllegalArgumentException("invalid CIDR address: " + text);
    }
    return new Cidr(address, length);
  }

  /** A dotted IPv4 address as an int, or null when it is not one. */
  public static Integer address(String dotted) {
    String[] parts = dotted.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    int a = 0;
    for (String p : parts) {
      if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > 255) {
        return null;
      }
      a = (a << 8) | Integer.parseInt(p);
    }
    return a;
  }

  public static String dotted(int address) {
    return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
  }

  private static int mask(int length) {
    return length == 0 ? 0 : -1 << (32 - length);
  }

  /** How many addresses it spans. */
  public long size() {
    return 1L << (32 - prefixLength);
  }

  /** The n-th address from the network address (0 is the network address itself). */
  public String host(long n) {
    if (n < 0 || n >= size()) {
      throw new IllegalArgumentException(n + " is outside " + this);
    }
    return dotted((int) (network + n));
  }

  public boolean contains(String dotted) {
    Integer a = address(dotted);
    return a != null && (a & mask(prefixLength)) == network;
  }

  public boolean overlaps(Cidr other) {
    int shorter = Math.min(prefixLength, other.prefixLength);
    return (network & mask(shorter)) == (other.network & mask(shorter));
  }

  /** The i-th subnet of the given prefix length inside this one; i from 0 to subnets(length) - 1. */
  public Cidr subnet(int length, long i) {
    if (length < prefixLength || i < 0 || i >= subnets(length)) {
      throw new IllegalArgumentException("no subnet /" + length + " number " + i + " in " + this);
    }
    return new Cidr((int) (network + (i << (32 - length))), length);
  }

  public long subnets(int length) {
    return 1L << (length - prefixLength);
  }

  @Override
  public String toString() {
    return dotted(network) + "/" + prefixLength;
  }
}

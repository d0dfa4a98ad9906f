package dev.swarmd.dns;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Address;

/** The {@code nameserver} lines of a resolv.conf, as upstreams for a server bound to a given address. */
public final class ResolvConf {
  public static final Path HOST = Path.of("/etc/resolv.conf");
  private static final int DNS_PORT = 53;
  private static final Logger LOG = LoggerFactory.getLogger(ResolvConf.class);

  private ResolvConf() {}

  /** In file order, leaving out the server itself: forwarding to it would loop until the timeout. */
  static List<InetSocketAddress> nameservers(Path file, InetSocketAddress self) throws IOException {
    List<InetSocketAddress> out = new ArrayList<>();
    for (InetAddress address : addresses(file)) {
      InetSocketAddress upstream = new InetSocketAddress(address, DNS_PORT);
      if (!isSelf(upstream, self) && !out.contains(upstream)) {
        out.add(upstream);
      }
    }
    return List.copyOf(out);
  }

  /** The nameservers' addresses, in file order; a line that names no IP address is left out. */
  public static List<InetAddress> addresses(Path file) throws IOException {
    List<InetAddress> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String[] words = line.trim().split("\\s+");
      if (words.length < 2 || !"nameserver".equals(words[0])) {
        continue;
      }
      try {
        out.add(Address.getByAddress(words[1]));
      } catch (UnknownHostException e) {
        LOG.warn("dns: {}: nameserver {} is not an IP address; left out", file, words[1]);
      }
    }
    return out;
  }

  private static boolean isSelf(InetSocketAddress upstream, InetSocketAddress self) {
    InetAddress bound = self.getAddress();
    if (bound == null || upstream.getPort() != self.getPort()) {
      return false;
    }
    if (!bound.isAnyLocalAddress()) {
      return bound.equals(upstream.getAddress());
    }
    // Bound to every address: any address of this host is the server itself.
    InetAddress address = upstream.getAddress();
    try {
      return address.isLoopbackAddress() || address.isAnyLocalAddress()
          || NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }
}

package dev.swarmd.daemon;

import dev.swarmd.dns.ResolvConf;
import dev.swarmd.endpoint.AddressPool.HostUse;
import dev.swarmd.engine.Engine;
import dev.swarmd.protocol.Cidr;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What of the IPv4 space this host already uses, for the swarm's address pool to stay clear of: its
 * interfaces' networks, every route of every table, its resolvers and the engine's networks.
 */
final class HostNetworks {
  private static final Logger LOG = LoggerFactory.getLogger(HostNetworks.class);
  /** The words `ip route` puts before a route's destination. */
  private static final Set<String> ROUTE_TYPES = Set.of("unicast", "local", "broadcast", "multicast", "anycast",
      "unreachable", "blackhole", "prohibit", "throw", "nat");

  private HostNetworks() {}

  static List<HostUse> inUse(Engine engine, Path resolvConf) {
    List<HostUse> out = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InterfaceAddress a : nif.getInterfaceAddresses()) {
          if (a.getAddress() instanceof Inet4Address) {
            String cidr = a.getAddress().getHostAddress() + "/" + a.getNetworkPrefixLength();
            out.add(new HostUse(Cidr.parse(cidr), "address " + cidr + " of " + nif.getName()));
          }
        }
      }
    } catch (IOException e) {
      LOG.warn("host: cannot list the network interfaces: {}", e.toString());
    }
    routes().forEach(r -> out.add(new HostUse(r, "route " + r)));
    try {
      for (InetAddress a : ResolvConf.addresses(resolvConf)) {
        if (a instanceof Inet4Address) {
          out.add(new HostUse(Cidr.parse(a.getHostAddress()), "resolver " + a.getHostAddress() + " (" + resolvConf
              + ")"));
        }
      }
    } catch (IOException e) {
      LOG.warn("host: cannot read {}: {}", resolvConf, e.toString());
    }
    engine.networkSubnets().forEach((name, subnets) -> subnets.forEach(s ->
        out.add(new HostUse(Cidr.parse(s), "engine network " + name + " (" + s + ")"))));
    return out;
  }

  /** Every IPv4 route's destination but the default ones. */
  private static List<Cidr> routes() {
    List<String> cmd = List.of("ip", "-4", "-o", "route", "show", "table", "all");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        LOG.warn("host: `{}` failed: {}", String.join(" ", cmd), out.trim());
        return List.of();
      }
      return parseRoutes(out);
    } catch (IOException e) {
      LOG.warn("host: cannot run `{}`: {}", String.join(" ", cmd), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return List.of();
  }

  static List<Cidr> parseRoutes(String ipRouteOutput) {
    List<Cidr> out = new ArrayList<>();
    for (String line : ipRouteOutput.lines().toList()) {
      String[] w = line.trim().split("\\s+");
      int i = w.length > 1 && ROUTE_TYPES.contains(w[0]) ? 1 : 0;
      if (w[i].isEmpty() || w[i].equals("default")) {
        continue;
      }
      try {
        out.add(Cidr.parse(w[i]));
      } catch (IllegalArgumentException e) {
        LOG.debug("host: route {} left out: {}", line, e.getMessage());
      }
    }
    return out;
  }
}

package dev.swarmd.dns;

import dev.swarmd.protocol.ServiceName;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Address;

/**
 * The names the swarm answers for, built once from the services and then only read, so that a server
 * can swap a whole new table in without locking. Per service: {@code <name>} (its virtual IP in
 * endpoint mode vip, its tasks' addresses in dnsrr), {@code tasks.<name>} (its tasks' addresses), and
 * the same two for its ID, as Docker resolves service IDs too.
 */
public final class DnsTable {
  public static final DnsTable EMPTY = new DnsTable(Map.of());

  private static final Logger LOG = LoggerFactory.getLogger(DnsTable.class);
  private static final String TASKS = "tasks.";

  /** The only mutable part: where the next answer's rotation starts, so that clients spread over tasks. */
  private record Entry(List<InetAddress> addresses, AtomicInteger next) {
    Entry(List<InetAddress> addresses) {
      this(List.copyOf(addresses), new AtomicInteger());
    }

    List<InetAddress> rotated() {
      int n = addresses.size();
      if (n < 2) {
        return addresses;
      }
      int start = Math.floorMod(next.getAndIncrement(), n);
      List<InetAddress> out = new ArrayList<>(n);
      out.addAll(addresses.subList(start, n));
      out.addAll(addresses.subList(0, start));
      return Collections.unmodifiableList(out);
    }
  }

  /** What {@code <name>} and {@code tasks.<name>} answer for one service, under its name or its ID. */
  private record Names(ServiceName service, Entry main, Entry tasks) {
    void addUnder(String name, Map<String, Entry> entries) {
      entries.putIfAbsent(key(name), main);
      entries.putIfAbsent(key(TASKS + name), tasks);
    }
  }

  private final Map<String, Entry> entries;

  private DnsTable(Map<String, Entry> entries) {
    this.entries = entries;
  }

  /**
   * A table of these services. Names come before IDs, and the first service to claim a name keeps it.
   * An address that is not an IPv4 literal is left out, with a warning.
   */
  public static DnsTable of(List<ServiceName> services) {
    List<Names> built = new ArrayList<>(services.size());
    for (ServiceName s : services) {
      Entry tasks = new Entry(addresses(s, s.taskAddresses()));
      List<InetAddress> vip = "vip".equals(s.endpointMode()) && s.virtualIp() != null
          ? addresses(s, List.of(s.virtualIp()))
          : List.of();
      built.add(new Names(s, vip.isEmpty() ? tasks : new Entry(vip), tasks));
    }
    Map<String, Entry> entries = new HashMap<>();
    built.forEach(n -> n.addUnder(n.service().name(), entries));
    built.forEach(n -> n.addUnder(n.service().serviceId(), entries));
    return new DnsTable(Map.copyOf(entries));
  }

  /**
   * The A records of {@code name} (any case, with or without the final dot), rotated one further on
   * each call; an empty list when the name is ours but has no address (no running task); empty when
   * the name is not ours.
   */
  public Optional<List<InetAddress>> lookup(String name) {
    Entry entry = entries.get(key(name));
    return entry == null ? Optional.empty() : Optional.of(entry.rotated());
  }

  private static String key(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
  }

  private static List<InetAddress> addresses(ServiceName service, List<String> literals) {
    List<InetAddress> out = new ArrayList<>(literals.size());
    for (String literal : literals) {
      try {
        // A literal only: never a lookup, which could loop back into this very server.
        out.add(Address.getByAddress(literal, Address.IPv4));
      } catch (UnknownHostException | RuntimeException e) {
        LOG.warn("dns: service {} ({}): {} is not an IPv4 address; left out", service.name(),
            service.serviceId(), literal);
      }
    }
    return out;
  }
}

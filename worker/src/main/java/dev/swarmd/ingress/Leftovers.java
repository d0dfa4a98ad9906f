package dev.swarmd.ingress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What nodes that are gone left on the host, and its removal: the nat chains of the mesh and the
 * rules hooking them in, the loopback guard on the engine's bridge (and route_localnet, where a node
 * turned it on), and the virtual-IP route older versions added. A rule is a dead node's when the
 * process its comment names no longer runs; rules of live nodes, and rules swarmd did not add, stay.
 */
public final class Leftovers {
  private static final Logger LOG = LoggerFactory.getLogger(Leftovers.class);
  static final String PREFIX = "SWARMD-";
  private static final Pattern HOOK = Pattern.compile("^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j (" + PREFIX + "\\S+)$");
  private static final Pattern CHAIN = Pattern.compile("^-N (" + PREFIX + "\\S+)$");
  private static final Pattern GUARD = Pattern.compile("^-A INPUT .*-i (\\S+) .*--comment \"?swarmd pid=");
  /** The route of swarmd 0.1's virtual IPs, which shadowed any host address in that range. */
  static final String LEGACY_VIP_ROUTE = "local 10.255.0.0/16 dev lo scope host";

  private Leftovers() {}

  /**
   * What to remove: nat rules (as `iptables -S` prints them), whole chains, filter rules, and the
   * bridges whose route_localnet goes back off.
   */
  record Plan(List<String> natRules, List<String> chains, List<String> filterRules, Set<String> localnetOff) {
    boolean empty() {
      return natRules.isEmpty() && chains.isEmpty() && filterRules.isEmpty() && localnetOff.isEmpty();
    }
  }

  /** gone: whether a rule's owner is gone; a swarmd rule without an owner is an older swarmd's, gone too. */
  static Plan plan(List<String> nat, List<String> filter, Predicate<Iptables.Owner> gone) {
    List<String> natRules = new ArrayList<>();
    Set<String> kept = new HashSet<>();
    for (String rule : nat) {
      Matcher m = HOOK.matcher(rule);
      if (m.find()) {
        if (Iptables.Owner.of(rule).map(gone::test).orElse(true)) {
          natRules.add(rule);
        } else {
          kept.add(m.group(2));
        }
      }
    }
    List<String> chains = new ArrayList<>();
    for (String rule : nat) {
      Matcher m = CHAIN.matcher(rule);
      if (m.find() && !kept.contains(m.group(1))) {
        chains.add(m.group(1));
      }
    }
    List<String> filterRules = new ArrayList<>();
    Set<String> localnet = new HashSet<>();
    Set<String> guarded = new HashSet<>();
    for (String rule : filter) {
      String bridge = guardedBridge(rule);
      if (bridge == null) {
        continue;
      }
      Iptables.Owner owner = Iptables.Owner.of(rule).orElseThrow();
      if (gone.test(owner)) {
        filterRules.add(rule);
        if (owner.localnet()) {
          localnet.add(bridge);
        }
      } else {
        guarded.add(bridge);
      }
    }
    localnet.removeAll(guarded);
    return new Plan(natRules, chains, filterRules, localnet);
  }

  /** The bridge a loopback guard of swarmd's (as `iptables -S` prints it) is on; null for any other rule. */
  static String guardedBridge(String rule) {
    Matcher m = GUARD.matcher(rule);
    return m.find() ? m.group(1) : null;
  }

  /** Finds and removes what nodes that are gone left; run as a node starts and by `swarmd cleanup`. */
  public static void sweep() {
    removeLegacyRoute();
    if (!Iptables.run(List.of("iptables", "-w", "5", "-t", "nat", "-S", "PREROUTING"), null).ok()) {
      return;
    }
    HostLock.with(() -> {
      apply(plan(Iptables.rules("nat"), Iptables.rules("filter"), o -> !o.alive()), "what nodes that are gone left");
      return null;
    });
  }

  /** Carries a plan out; what says whose rules they were, for the log. */
  static void apply(Plan p, String what) {
    if (p.empty()) {
      return;
    }
    Iptables.Result nat = Iptables.delete("nat", p.natRules());
    for (String chain : p.chains()) {
      Iptables.run(List.of("iptables", "-w", "5", "-t", "nat", "-F", chain), null);
      Iptables.run(List.of("iptables", "-w", "5", "-t", "nat", "-X", chain), null);
    }
    Iptables.Result filter = Iptables.delete("filter", p.filterRules());
    for (String bridge : p.localnetOff()) {
      try {
        Files.writeString(Path.of("/proc/sys/net/ipv4/conf", bridge, "route_localnet"), "0");
      } catch (IOException e) {
        LOG.warn("host: cannot turn route_localnet of {} back off: {}", bridge, e.toString());
      }
    }
    if (!nat.ok() || !filter.ok()) {
      LOG.warn("host: removing rules {} failed: {} {}", what, nat.output(), filter.output());
    }
    LOG.info("host: removed {}: {} hook(s), chains {}, {} loopback guard(s){}", what, p.natRules().size(),
        p.chains(), p.filterRules().size(), p.localnetOff().isEmpty() ? "" : ", route_localnet off on "
            + p.localnetOff());
  }

  private static void removeLegacyRoute() {
    Iptables.Result routes = Iptables.run(List.of("ip", "-4", "route", "show", "table", "local"), null);
    if (routes.ok() && routes.output().lines().anyMatch(l -> l.trim().equals(LEGACY_VIP_ROUTE))) {
      Iptables.Result del = Iptables.run(List.of("ip", "route", "del", "local", "10.255.0.0/16", "dev", "lo",
          "table", "local"), null);
      LOG.info("host: {} the route an older swarmd added for virtual IPs ({}){}", del.ok() ? "removed" : "could not remove",
          LEGACY_VIP_ROUTE, del.ok() ? "" : ": " + del.output());
    }
  }
}

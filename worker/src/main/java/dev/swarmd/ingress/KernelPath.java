package dev.swarmd.ingress;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.stream.Collectors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh's kernel data path on one node: its frontends become DNAT rules (iptables nat table, in
 * chains of the node's own, named after its address), so the bytes of a TCP connection or UDP flow
 * never pass through user space. It needs CAP_NET_ADMIN and iptables; when it cannot be set up the node keeps
 * the user-space path for every port.
 *
 * <p>The table is owned by one {@link Handle} at a time, the ingress of the node's current
 * membership: a rejoining node starts a new ingress while the old one may still be stopping, and the
 * old one must not wipe the new table.
 */
public final class KernelPath implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KernelPath.class);
  private static final String PREFIX = Leftovers.PREFIX;
  private static final long COMMAND_TIMEOUT_SECONDS = 10;
  /** The paths of this process that rely on a bridge's loopback guard (tests open several paths). */
  private static final Map<String, Integer> GUARD_USERS = new HashMap<>();
  /** The kernel keeps a reset connection's entry ten seconds (nf_conntrack_tcp_timeout_close). */
  private static final List<Duration> SWEEPS_AFTER = List.of(Duration.ZERO, Duration.ofSeconds(2),
      Duration.ofSeconds(11));
  /**
   * A handshake not answered, or a connection reset by its target: a new connection from the same
   * client port takes over such an entry and its target. A closed one (TIME_WAIT) is reopened
   * with a fresh target instead.
   */
  private static final Set<String> NOT_UNDER_WAY = Set.of("SYN_SENT", "SYN_RECV", "CLOSE");

  private final String nodeAddr;
  private final String chain;
  private final String postChain;
  private final boolean containerAddresses;
  /** The bridge whose loopback guard this path relies on; null when none. */
  private final String guardedBridge;
  private final ExecutorService writer;
  /** Sweeps read the whole connection table, which takes a while under load: never in the way of a write. */
  private final ScheduledExecutorService sweeper;
  private final AtomicReference<List<NatRules.Frontend>> pending = new AtomicReference<>();
  private final boolean sweeps;
  /** The table last written. */
  private volatile List<NatRules.Frontend> applied = List.of();
  /** Every frontend the table has had (a removed one may have entries left); a few per service. */
  private final Set<String> served = ConcurrentHashMap.newKeySet();
  private final List<AtomicBoolean> sweepQueued = SWEEPS_AFTER.stream().map(d -> new AtomicBoolean()).toList();
  private volatile Handle owner;

  private KernelPath(String nodeAddr, String chain, String postChain, String guardedBridge) {
    this.nodeAddr = nodeAddr;
    this.guardedBridge = guardedBridge;
    boolean containerAddresses = guardedBridge != null;
    this.chain = chain;
    this.postChain = postChain;
    this.containerAddresses = containerAddresses;
    this.sweeps = Conntrack.readable();
    if (!sweeps) {
      LOG.info("mesh: {} is not readable: a UDP flow, or a client port reused within 10 s of a reset, may still "
          + "meet a task that left the table", "/proc/net/nf_conntrack");
    }
    this.writer = Executors.newSingleThreadExecutor(daemonThread("ingress-nat-" + nodeAddr));
    ScheduledThreadPoolExecutor sweeps = new ScheduledThreadPoolExecutor(1, daemonThread("ingress-ct-" + nodeAddr));
    // Later sweeps are moot once the daemon stops; close() should not wait for them.
    sweeps.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.sweeper = sweeps;
  }

  private static ThreadFactory daemonThread(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Removes what nodes that are gone left (see {@link Leftovers}), then sets up the node's chains,
   * empty, hooked into the nat table by rules that name this process, in one commit. bridgeGateway:
   * the engine bridge's gateway address (null if unknown), whose interface must route
   * loopback-sourced packets for a local container, or this node's loopback address, to be a target.
   */
  public static Optional<KernelPath> open(String nodeAddr, String bridgeGateway) {
    if (!isIpv4(nodeAddr)) {
      LOG.info("mesh: {} is not an IPv4 address; the mesh forwards in user space", nodeAddr);
      return Optional.empty();
    }
    Leftovers.sweep();
    String chain = PREFIX + nodeAddr;
    String postChain = chain + "-POST";
    Iptables.Result set = Iptables.run(List.of("iptables-restore", "-w", "5", "--noflush"),
        new NatRules(chain, postChain, List.of()).setUp(Iptables.Owner.self(false).comment()));
    if (!set.ok()) {
      LOG.warn("mesh: no kernel forwarding on {} (iptables-restore: {}); the mesh forwards in user space", nodeAddr,
          set.output());
      return Optional.empty();
    }
    String bridge = guardBridge(bridgeGateway);
    LOG.info("mesh: kernel forwarding on {} (chains {}, {}){}", nodeAddr, chain, postChain,
        bridge != null ? "" : "; local tasks are reached through their published ports");
    return Optional.of(new KernelPath(nodeAddr, chain, postChain, bridge));
  }

  public String nodeAddr() {
    return nodeAddr;
  }

  /** Whether the engine's bridge may carry loopback addresses: containers then reach this node's loopback address. */
  public boolean bridgeReachesLoopback() {
    return containerAddresses;
  }

  /** Makes the given ingress the table's owner; earlier handles go stale and their calls do nothing. */
  public Handle attach() {
    Handle h = new Handle();
    owner = h;
    return h;
  }

  /** What one ingress writes through; stale once another ingress has attached. */
  public final class Handle {
    private Handle() {}

    /** Whether a local task's container address may be a target (its bridge routes loopback sources). */
    public boolean containerAddresses() {
      return containerAddresses;
    }

    /** Replaces the whole table, asynchronously; the newest table wins when several wait. */
    void apply(List<NatRules.Frontend> frontends) {
      if (owner != this) {
        return;
      }
      if (pending.getAndSet(List.copyOf(frontends)) == null) {
        writer.execute(KernelPath.this::write);
      }
    }

    /** The ingress stops: no frontend is served any more, unless a newer ingress owns the table. */
    void release() {
      apply(List.of());
    }
  }

  private void write() {
    List<NatRules.Frontend> frontends = pending.getAndSet(null);
    if (frontends == null) {
      return;
    }
    Iptables.Result r = Iptables.run(List.of("iptables-restore", "-w", "5", "--noflush"),
        new NatRules(chain, postChain, frontends).script());
    if (r.ok()) {
      frontends.forEach(f -> served.add(key(f.address(), f.port(), f.protocol())));
      applied = frontends;
      if (sweeps) {
        for (int i = 0; i < SWEEPS_AFTER.size(); i++) {
          AtomicBoolean queued = sweepQueued.get(i);
          // A burst of table changes sweeps once per delay, not once per change.
          if (queued.compareAndSet(false, true)) {
            sweeper.schedule(() -> {
              queued.set(false);
              sweep();
            }, SWEEPS_AFTER.get(i).toMillis(), TimeUnit.MILLISECONDS);
          }
        }
      }
      LOG.debug("mesh: {} kernel frontends on {}", frontends.size(), nodeAddr);
    } else {
      LOG.warn("mesh: cannot write the kernel table of {} ({} frontends): {}", nodeAddr, frontends.size(), r.output());
    }
  }

  /**
   * Removes the entries of connections to a frontend that are not under way (see NOT_UNDER_WAY)
   * and whose DNAT target is not in the table any more. Entries of connections under way stay, so
   * those finish. Run at once and again later, for connections reset after the table changed; a
   * reset one lingers ten seconds.
   */
  private void sweep() {
    Map<String, Set<String>> live = new HashMap<>();
    for (NatRules.Frontend f : applied) {
      live.put(key(f.address(), f.port(), f.protocol()), f.targets().stream()
          .map(t -> t.getAddress().getHostAddress() + ":" + t.getPort())
          .collect(Collectors.toSet()));
    }
    int removed = 0;
    try (Conntrack table = Conntrack.open()) {
      for (Conntrack.Entry e : Conntrack.read()) {
        String frontend = key(e.dst(), e.dport(), e.protocol());
        boolean natted = !(e.replySrc().equals(e.dst()) && e.replySport() == e.dport());
        if (natted && served.contains(frontend) && stale(e)
            && !live.getOrDefault(frontend, Set.of()).contains(e.replySrc() + ":" + e.replySport())
            && table.delete(e)) {
          removed++;
        }
      }
    } catch (IOException | RuntimeException | LinkageError x) {
      LOG.warn("mesh: cannot trim the connection table on {}: {}", nodeAddr, x.toString());
      return;
    }
    if (removed > 0) {
      LOG.debug("mesh: {} connection entries to tasks out of the table removed on {}", removed, nodeAddr);
    }
  }

  /**
   * A UDP flow to a task out of the table goes at once: its next datagram starts a new flow to a task
   * of the table. A TCP connection only when not under way.
   */
  private static boolean stale(Conntrack.Entry e) {
    return e.protocol().equals("udp") || NOT_UNDER_WAY.contains(e.state());
  }

  private static String key(String address, int port, String protocol) {
    return address + ":" + port + "/" + protocol;
  }

  /** Unhooks and removes the node's chains, and its loopback guard when no other path here relies on it: the daemon stops. */
  @Override
  public void close() {
    owner = null;
    writer.execute(() -> {
      pending.set(null);
      // After the writes queued before this job, which schedule sweeps of their own.
      sweeper.shutdownNow();
      removeOwnRules();
      LOG.info("mesh: kernel forwarding on {} removed", nodeAddr);
    });
    writer.shutdown();
    try {
      if (!writer.awaitTermination(COMMAND_TIMEOUT_SECONDS * 3, TimeUnit.SECONDS)) {
        LOG.warn("mesh: the kernel table of {} is still being removed", nodeAddr);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void removeOwnRules() {
    Iptables.Owner me = Iptables.Owner.self(false);
    Set<String> mine = Set.of(chain, postChain);
    Leftovers.Plan all = Leftovers.plan(Iptables.rules("nat"), List.of(), o -> o.sameProcess(me));
    Leftovers.Plan own = new Leftovers.Plan(
        all.natRules().stream().filter(r -> mine.contains(r.substring(r.lastIndexOf(' ') + 1))).toList(),
        all.chains().stream().filter(mine::contains).toList(), List.of(), Set.of());
    Leftovers.apply(own, "the chains of node " + nodeAddr);
    if (guardedBridge != null) {
      synchronized (GUARD_USERS) {
        if (GUARD_USERS.merge(guardedBridge, -1, Integer::sum) > 0) {
          return;
        }
        GUARD_USERS.remove(guardedBridge);
        HostLock.with(() -> {
          // Dead nodes' guards on the bridge go too: counted as remaining, they would keep route_localnet
          // on after the last live node, with nothing left to turn it off.
          Leftovers.Plan guards = Leftovers.plan(List.of(), Iptables.rules("filter"),
              o -> o.sameProcess(me) || !o.alive());
          Leftovers.apply(new Leftovers.Plan(List.of(), List.of(),
              guards.filterRules().stream().filter(r -> guardedBridge.equals(Leftovers.guardedBridge(r))).toList(),
              guards.localnetOff().contains(guardedBridge) ? Set.of(guardedBridge) : Set.of()),
              "the loopback guard of this node's bridge");
          return null;
        });
      }
    }
  }

  /**
   * A connection from a loopback client DNATed to a container, or a container's DNATed to this node's
   * loopback address (its DNS), crosses the engine's bridge with a loopback address until it is
   * masqueraded or answered, which the kernel allows only where route_localnet is on (Docker turns it on
   * for the same reason without its userland proxy). That would also let the bridge's side deliver
   * packets to 127.0.0.0/8 on the host; the INPUT rule drops those unless they belong to a connection the
   * host made or DNATed, as Kubernetes does since CVE-2020-8558. Both go with the last node that relies on
   * them: the rule names its process, and says whether route_localnet was off before swarmd.
   * Returns the bridge, or null when its loopback cannot be used.
   */
  private static String guardBridge(String bridgeGateway) {
    if (bridgeGateway == null) {
      return null;
    }
    String bridge;
    try {
      NetworkInterface nif = NetworkInterface.getByInetAddress(InetAddress.getByName(bridgeGateway));
      if (nif == null) {
        LOG.info("mesh: no interface holds the engine's gateway {}", bridgeGateway);
        return null;
      }
      bridge = nif.getName();
    } catch (IOException e) {
      LOG.info("mesh: cannot find the interface of the engine's gateway {}: {}", bridgeGateway, e.toString());
      return null;
    }
    synchronized (GUARD_USERS) {
      if (GUARD_USERS.containsKey(bridge)) {
        GUARD_USERS.merge(bridge, 1, Integer::sum);
        return bridge;
      }
      if (!HostLock.with(() -> addGuard(bridge))) {
        return null;
      }
      GUARD_USERS.put(bridge, 1);
      return bridge;
    }
  }

  /** The loopback guard on bridge, and route_localnet on; false when either cannot be. */
  private static boolean addGuard(String bridge) {
    Path knob = Path.of("/proc/sys/net/ipv4/conf", bridge, "route_localnet");
    try {
      boolean off = !readProc(knob).trim().equals("1");
      // Off before swarmd, or turned on by a node whose guard says so: this one turns it off when it goes.
      boolean localnet = off || Iptables.rules("filter").stream()
          .filter(r -> bridge.equals(Leftovers.guardedBridge(r)))
          .anyMatch(r -> Iptables.Owner.of(r).map(Iptables.Owner::localnet).orElse(false));
      List<String> rule = new ArrayList<>(List.of("-i", bridge, "-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8",
          "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT"));
      rule.addAll(Iptables.Owner.self(localnet).comment());
      rule.addAll(List.of("-j", "DROP"));
      Iptables.Result guard = Iptables.ensureRule("filter", "INPUT", rule);
      if (!guard.ok()) {
        LOG.info("mesh: cannot guard loopback on {} ({}); local tasks are reached through their published ports",
            bridge, guard.output());
        return false;
      }
      if (off) {
        Files.writeString(knob, "1");
      }
      return true;
    } catch (IOException e) {
      LOG.info("mesh: cannot turn on {} ({}); local tasks are reached through their published ports", knob,
          e.toString());
      return false;
    }
  }

  /** Files.readString trusts the size /proc reports, zero, and reads nothing. */
  private static String readProc(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static boolean isIpv4(String address) {
    if (address == null || !address.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      return false;
    }
    try {
      return InetAddress.getByName(address) instanceof Inet4Address;
    } catch (IOException e) {
      return false;
    }
  }

}

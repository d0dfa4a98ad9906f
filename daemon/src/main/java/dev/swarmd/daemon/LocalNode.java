package dev.swarmd.daemon;

import dev.swarmd.agent.Agent;
import dev.swarmd.agent.RemoteDispatcher;
import dev.swarmd.api.ApiException;
import dev.swarmd.api.NodeControl;
import dev.swarmd.dns.NodeDns;
import dev.swarmd.endpoint.AddressPool;
import dev.swarmd.engine.Engine;
import dev.swarmd.ingress.Ingress;
import dev.swarmd.ingress.KernelPath;
import dev.swarmd.ingress.Leftovers;
import dev.swarmd.join.JoinClient;
import dev.swarmd.join.JoinServer;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Cidr;
import dev.swarmd.protocol.Dispatcher;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.raft.RaftLog;
import dev.swarmd.swarm.SwarmCa;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.swarm.SwarmRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This machine's node: in no swarm, a swarm's manager, or one of its workers, with its agent
 * running its tasks on the engine. A worker that loses its cluster membership (its manager went
 * away, or it was cut off and downed itself) starts again and rejoins with its certificate.
 */
final class LocalNode implements NodeControl {
  private static final Logger LOG = LoggerFactory.getLogger(LocalNode.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration REJOIN_DELAY = Duration.ofSeconds(2);
  /**
   * How long a removed membership's system gets to stop before its stalled remoting streams are
   * stopped, and as long again after (see SwarmRuntime.stop).
   */
  private static final Duration STOP_WAIT = Duration.ofSeconds(5);
  private static final int DEFAULT_LISTEN_PORT = 2377;
  private static final int CLUSTER_PORT = 7946;

  private final Path swarmDir;
  private final Path certDir;
  private final String hostname;
  private final Engine engine;
  private final String apiHost;
  private final ActorSystem<?> apiSystem;
  private volatile SwarmRuntime runtime;
  /** The agent, ingress and DNS of the current membership. */
  private volatile List<ActorRef<?>> nodeActors = List.of();
  private volatile NodeState state;
  private volatile ServerBinding joinEndpoint;
  private volatile NodeDescription description;
  private final NetworkOptions options;
  /** What keeps this node from serving part of the swarm's network, for `docker info`. */
  private volatile List<String> warnings = List.of();
  /** The swarm subnet last checked against this host, and what the check found (null: clear). */
  private String subnetChecked;
  private volatile String subnetWarning;
  /** The mesh's kernel rules for the node's address, kept across memberships; null before the first or when off. */
  private KernelPath kernelPath;
  private final Object kernelLock = new Object();
  /** What the node's networking starts from, looked up while the cluster starts (see {@link #networkBase}). */
  private volatile NetworkBase networkBase;

  /**
   * How the node takes part in the swarm's network. kernelForwarding: let the mesh forward in the kernel
   * where it can (else all of it in user space, without virtual IPs or DNS for containers); dnsPort:
   * where on its address the node's DNS answers load balancers; resolvConf: the host's resolvers.
   */
  record NetworkOptions(boolean kernelForwarding, int dnsPort, Path resolvConf) {}

  LocalNode(Path dataRoot, String hostname, Engine engine, String apiHost, ActorSystem<?> apiSystem,
      NetworkOptions options) {
    this.options = options;
    this.swarmDir = dataRoot.resolve("swarm");
    this.certDir = swarmDir.resolve("certificates");
    this.hostname = hostname;
    this.engine = engine;
    this.apiHost = apiHost;
    this.apiSystem = apiSystem;
  }

  /** Comes back into the swarm this node was in before it stopped, if any. */
  synchronized void resume() throws IOException {
    Optional<NodeState> saved = NodeState.read(swarmDir);
    if (saved.isPresent()) {
      LOG.info("resuming swarm membership of node {} ({}) at {}", saved.get().nodeId(), saved.get().role(),
          saved.get().advertiseHost());
      start(saved.get());
    }
  }

  @Override
  public synchronized String init(InitRequest request) {
    if (request.forceNewCluster() && state != null) {
      return forceNewCluster(request);
    }
    refuseIfInSwarm();
    String host = advertiseHost(request.advertiseAddr());
    int listenPort = listenPort(request.listenAddr());
    AddressPool pool = addressPool(request.defaultAddrPool(), request.subnetSize());
    String nodeId = Ids.newId();
    String clusterId = Ids.newId();
    SwarmCa ca = SwarmCa.create(certDir, clusterId);
    KeyPair keys = SwarmCa.newKeyPair();
    String cert = ca.issue(keys.getPublic(), nodeId, "manager", clusterId, host,
        Duration.ofNanos(SwarmEntity.Settings.defaults().nodeCertExpiry()));
    SwarmCa.writeNodeIdentity(certDir, keys.getPrivate(), cert, ca.certPem());
    NodeState s = new NodeState(nodeId, "manager", host, listenPort, request.availability(), List.of(),
        host + ":" + listenPort);
    write(s);
    prepareNetwork(host);
    registerSelf(startManager(s, clusterId, pool, true), s);
    LOG.info("swarm {}: virtual IPs and the containers' resolver from {}", clusterId, pool.vipSubnet());
    return nodeId;
  }

  /**
   * `docker swarm init --force-new-cluster` on a manager of a swarm that lost its quorum: this manager
   * becomes the single manager of the same swarm (same IDs, services and history: its journal has every
   * committed event), in a new Raft group that the old members cannot reach. They leave and join again.
   */
  private String forceNewCluster(InitRequest request) {
    NodeState s = state;
    if (!s.manager()) {
      throw ApiException.badRequest("--force-new-cluster runs on a manager: this node is a worker");
    }
    String host = advertiseHost(request.advertiseAddr() == null || request.advertiseAddr().isEmpty()
        ? s.advertiseHost() : request.advertiseAddr());
    if (!host.equals(s.advertiseHost())) {
      throw ApiException.badRequest("--force-new-cluster keeps this manager's advertise address " + s.advertiseHost()
          + "; got " + host);
    }
    SwarmRuntime rt = runtime;
    runtime = null;
    if (joinEndpoint != null) {
      joinEndpoint.unbind();
      joinEndpoint = null;
    }
    if (rt != null) {
      rt.stop(Duration.ofSeconds(15));
    }
    deleteRecursively(swarmDir.resolve(SwarmRuntime.RAFT_DIR));
    SwarmRuntime.setRaftGroup(swarmDir, java.util.UUID.randomUUID());
    NodeState alone = new NodeState(s.nodeId(), "manager", host, s.listenPort(), s.availability(), List.of(),
        s.managerAddr());
    write(alone);
    registerSelf(startManager(alone, null, null, true), alone);
    LOG.warn("node {} forced a new cluster: it is the swarm's single manager, in a new raft group", s.nodeId());
    return s.nodeId();
  }

  /** The swarm's address pool, clear of everything the host uses; refused as Docker refuses a bad pool. */
  private AddressPool addressPool(List<String> asked, int subnetSize) {
    try {
      return AddressPool.choose(asked, subnetSize, HostNetworks.inUse(engine, options.resolvConf()));
    } catch (AddressPool.Refused e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }

  @Override
  public synchronized void join(JoinRequest request) {
    refuseIfInSwarm();
    JoinClient.checkToken(request.token());
    if (request.remoteAddrs().isEmpty()) {
      throw ApiException.badRequest("at least 1 RemoteAddr is required to join");
    }
    String host = advertiseHost(request.advertiseAddr());
    JoinClient.Joined joined = JoinClient.join(request.remoteAddrs().get(0), request.token(), host,
        request.availability(), describe());
    SwarmCa.writeNodeIdentity(certDir, joined.keys().getPrivate(), joined.certificate(), joined.caCertificate());
    if (joined.manager()) {
      SwarmCa.writeCaKey(certDir, joined.caKey());
      SwarmRuntime.setRaftGroup(swarmDir, java.util.UUID.fromString(joined.raftGroup()));
    }
    int listenPort = listenPort(request.listenAddr());
    NodeState s = new NodeState(joined.nodeId(), joined.role(), host, listenPort, request.availability(),
        joined.seeds(), joined.manager() ? host + ":" + listenPort : joined.managerAddr());
    write(s);
    if (joined.manager()) {
      prepareNetwork(host);
      SwarmRuntime rt = startManager(s, null, null, false);
      await(rt.raftLog().leaderKnown());
      registerSelf(rt, s);
    } else {
      start(s);
    }
  }

  private void start(NodeState s) {
    prepareNetwork(s.advertiseHost());
    if (s.manager()) {
      resumeManager(startManager(s, Ids.newId(), null, s.seeds().isEmpty()), s);
    } else {
      startWorker(s);
    }
  }

  /**
   * Starts the manager's runtime. The founder of a swarm (the node that ran init, restarting or not)
   * founds the Raft group alone if it has no Raft log yet (a new swarm, or a data root from before the
   * log), and creates the swarm object if the journal has none (a fresh init, or an init that a crash
   * cut short after the node's state was written: pool null, the default). A manager that joined waits
   * for the leader to add it to the group.
   */
  private SwarmRuntime startManager(NodeState s, String clusterId, AddressPool pool, boolean founder) {
    List<RaftLog.Peer> founding = founder
        ? List.of(new RaftLog.Peer(s.nodeId(), s.advertiseHost() + ":" + RaftLog.PORT)) : List.of();
    CompletionStage<SwarmRuntime> starting = SwarmRuntime.startManager(swarmDir, s.nodeId(), s.advertiseHost(),
        CLUSTER_PORT, RaftLog.PORT, founding, s.seeds());
    SwarmRuntime rt;
    try {
      rt = await(starting);
    } catch (RuntimeException e) {
      // A start that outlives the wait would hold the ports the next try needs.
      starting.thenAccept(late -> late.stop(Duration.ofSeconds(10)));
      throw e;
    }
    try {
      if (founder && !rt.view().swarm().exists()) {
        String ca = SwarmCa.load(certDir).certPem();
        AddressPool addresses = pool != null ? pool : addressPool(List.of(), 0);
        SwarmEntity.Reply r = await(rt.entities().swarm(reply -> new SwarmEntity.Init(clusterId,
            SwarmEntity.Settings.defaults(), addresses, ca, SwarmCa.joinToken(ca), SwarmCa.joinToken(ca),
            Cause.loop("swarm init", "node " + s.nodeId()), reply)));
        LOG.info("swarm {} created", r.state().clusterId());
      }
      joinEndpoint = await(JoinServer.start(apiSystem, rt, certDir, s.advertiseHost(), s.listenPort()));
    } catch (RuntimeException e) {
      rt.stop(Duration.ofSeconds(10));
      throw e;
    }
    return rt;
  }

  /** The manager registers itself (or refreshes its description) and starts its agent, in-process. */
  private void registerSelf(SwarmRuntime rt, NodeState s) {
    NodeEntity.Reply reg = await(register(rt, s));
    if (reg.failure() != null) {
      rt.stop(Duration.ofSeconds(10));
      throw new IllegalStateException(reg.failure().message());
    }
    startManagerNode(rt, s);
  }

  private CompletionStage<NodeEntity.Reply> register(SwarmRuntime rt, NodeState s) {
    NodeSpec spec = new NodeSpec(null, Map.of(), "manager", s.availability());
    return rt.entities().node(s.nodeId(), reply -> new NodeEntity.Register(spec, describe(), s.advertiseHost(),
        s.managerAddr(), "ready", Cause.loop("node " + s.nodeId(), "node started"), reply));
  }

  /**
   * A manager that comes back serves at once, leader or not (reads, and its tasks keep running); it
   * registers itself once the swarm has a leader, trying again until then.
   */
  private void resumeManager(SwarmRuntime rt, NodeState s) {
    startManagerNode(rt, s);
    registerWhenLed(rt, s);
  }

  private void registerWhenLed(SwarmRuntime rt, NodeState s) {
    register(rt, s).whenComplete((reg, error) -> {
      if (runtime != rt) {
        return;
      }
      if (error != null) {
        LOG.info("node {} not registered yet ({}); trying again in {}", s.nodeId(), error.getMessage(), REJOIN_DELAY);
        CompletableFuture.delayedExecutor(REJOIN_DELAY.toMillis(), TimeUnit.MILLISECONDS)
            .execute(() -> registerWhenLed(rt, s));
      } else if (reg.failure() != null) {
        LOG.error("node {} cannot register with the swarm: {}", s.nodeId(), reg.failure().message());
      }
    });
  }

  private void startManagerNode(SwarmRuntime rt, NodeState s) {
    List<ActorRef<?>> actors = startNodeActors(rt, s, rt.dispatcher());
    this.state = s;
    this.runtime = rt;
    this.nodeActors = actors;
    LOG.info("node {} ({}) is a manager of the swarm, advertising {}", s.nodeId(), hostname, s.managerAddr());
    // Runs when the cluster removes this manager (it was cut off or frozen, and the majority downed it)
    // and when its system stops.
    Cluster.get(Adapter.toClassic(rt.system())).registerOnMemberRemoved(() -> startAgainLater(rt));
  }

  /**
   * A node the cluster removed (cut off, or frozen, while the majority went on) cannot come back on the
   * same cluster system: it stops that membership, a manager's Raft member included, and starts it
   * again from its data root, as after a restart. Its tasks keep running meanwhile. Its actors stop at
   * once, not with the system: an agent must not act on stale assignments beside the new one's.
   */
  private void startAgainLater(SwarmRuntime ended) {
    if (runtime != ended) {
      // Stopped on purpose (shutdown, leave), by a caller that holds the lock while the system stops:
      // this runs inside that system, and waiting for the lock would keep it from stopping.
      return;
    }
    String nodeId;
    List<ActorRef<?>> actors;
    synchronized (this) {
      if (runtime != ended) {
        return;
      }
      runtime = null;
      nodeId = state.nodeId();
      actors = nodeActors;
      if (joinEndpoint != null) {
        joinEndpoint.unbind();
        joinEndpoint = null;
      }
    }
    LOG.warn("node {} was removed from the swarm's cluster; starting its membership again in {}", nodeId,
        REJOIN_DELAY);
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(ended.system());
    actors.forEach(a -> classic.stop(Adapter.toClassic(a)));
    CompletableFuture.supplyAsync(() -> ended.stop(STOP_WAIT)).exceptionally(error -> {
      LOG.warn("node {}: stopping the removed membership failed ({}); starting it again anyway", nodeId,
          error.toString());
      return false;
    }).thenAccept(stopped -> CompletableFuture.delayedExecutor(REJOIN_DELAY.toMillis(), TimeUnit.MILLISECONDS)
        .execute(() -> startAgain(stopped ? CLUSTER_PORT : 0)));
  }

  /**
   * Starts the membership again. A worker whose old system still holds the cluster port takes an
   * ephemeral one (its address reaches the managers by gossip); a manager keeps the port its peers know.
   */
  private synchronized void startAgain(int clusterPort) {
    NodeState s = state;
    if (runtime != null || s == null) {
      return;
    }
    LOG.info("node {}: starting its membership again", s.nodeId());
    try {
      if (s.manager()) {
        start(s);
      } else {
        startWorker(s, clusterPort);
      }
    } catch (RuntimeException | Error e) {
      LOG.warn("node {}: starting its membership again failed ({}); trying again in {}", s.nodeId(), e.toString(),
          REJOIN_DELAY);
      CompletableFuture.delayedExecutor(REJOIN_DELAY.toMillis(), TimeUnit.MILLISECONDS).execute(() -> startAgain(0));
    }
  }

  private void startWorker(NodeState s) {
    startWorker(s, CLUSTER_PORT);
  }

  private void startWorker(NodeState s, int clusterPort) {
    SwarmRuntime rt = SwarmRuntime.startWorker(swarmDir, s.nodeId(), s.advertiseHost(), clusterPort, s.seeds());
    List<ActorRef<?>> actors = startNodeActors(rt, s, new RemoteDispatcher(rt.system(), s.nodeId()));
    this.state = s;
    this.runtime = rt;
    this.nodeActors = actors;
    LOG.info("node {} ({}) is a worker of the swarm on cluster port {}, managers at {}", s.nodeId(), hostname,
        rt.clusterPort(), s.seeds());
    // Runs when the cluster removes this node (downed, or cut off) and when its system stops.
    Cluster.get(Adapter.toClassic(rt.system())).registerOnMemberRemoved(() -> startAgainLater(rt));
  }

  /** The node's agent and its share of the network; returns them, to be stopped with the membership. */
  private List<ActorRef<?>> startNodeActors(SwarmRuntime rt, NodeState s, Dispatcher dispatcher) {
    dispatcher.watch(() -> checkSubnet(s.nodeId(), dispatcher.subnet()));
    Agent.Networking net = networking(rt, s);
    ActorRef<Agent.Msg> agent = rt.system().systemActorOf(Agent.create(dispatcher, engine, s.nodeId(), hostname,
        s.advertiseHost(), net), "agent", Props.empty());
    return List.of(agent, net.ingress(), net.dns());
  }

  /**
   * The node's routing mesh (every ingress port of the swarm, on the node's advertise address, and the
   * virtual IPs) and its DNS, on that address and the DNS port, where load balancers ask it and where
   * the swarm's resolver address leads its containers. Virtual IPs and the resolver address are nat
   * rules of the kernel path: without one the node serves neither, and says so.
   */
  private Agent.Networking networking(SwarmRuntime rt, NodeState s) {
    NetworkBase base = networkBase(s.advertiseHost());
    KernelPath kernel = base.kernelPath().join();
    ActorRef<Ingress.Command> ingress = rt.system().systemActorOf(
        Ingress.create(s.advertiseHost(), kernel), "ingress", Props.empty());
    InetSocketAddress dnsServer = new InetSocketAddress(s.advertiseHost(), options.dnsPort());
    ActorRef<NodeDns.Command> dns = rt.system().systemActorOf(NodeDns.create(List.of(dnsServer),
        options.resolvConf()), "dns", Props.empty());
    boolean containerDns = kernel != null && (!dnsServer.getAddress().isLoopbackAddress()
        || kernel.bridgeReachesLoopback());
    List<String> now = new ArrayList<>();
    if (kernel == null) {
      now.add("WARNING: swarmd: this node forwards the routing mesh in user space (no iptables, or --mesh-forwarding "
          + "userspace): it serves no virtual IP (service names resolve to task addresses) and its containers "
          + "get no swarm DNS (no service discovery inside tasks)");
    } else if (!containerDns) {
      now.add("WARNING: swarmd: the engine's bridge cannot reach this node's DNS on " + dnsServer + " (a loopback address, "
          + "and the bridge's route_localnet cannot be used): its containers get no swarm DNS (no service "
          + "discovery inside tasks)");
    }
    now.forEach(w -> LOG.warn("node {}: {}", s.nodeId(), w));
    warnings = List.copyOf(now);
    return new Agent.Networking(ingress, dns, dnsServer, kernel != null, containerDns);
  }

  /**
   * Whether this host uses part of the swarm's subnet: chosen clear of the manager's host at init, it may
   * not be clear of every host that joins later, and then a virtual IP may take an address the host reaches.
   * Checked once per subnet, off the caller's thread (the dispatcher calls back on any thread).
   */
  private void checkSubnet(String nodeId, String subnet) {
    synchronized (kernelLock) {
      if (subnet == null || subnet.equals(subnetChecked)) {
        return;
      }
      subnetChecked = subnet;
    }
    CompletableFuture.runAsync(() -> {
      Cidr cidr = Cidr.parse(subnet);
      subnetWarning = HostNetworks.inUse(engine, options.resolvConf()).stream()
          .filter(u -> u.cidr().overlaps(cidr)).findFirst()
          .map(u -> "WARNING: swarmd: the swarm's subnet " + subnet + " overlaps " + u.what() + " on this host: a "
              + "virtual IP that is one of its addresses takes that address's traffic to the service's ports")
          .orElse(null);
      if (subnetWarning != null) {
        LOG.warn("node {}: {}", nodeId, subnetWarning);
      }
    });
  }

  /** The engine bridge's gateway (null if unknown) and the mesh's kernel path for addr (null if none). */
  private record NetworkBase(String addr, CompletableFuture<String> gateway, CompletableFuture<KernelPath> kernelPath) {}

  /**
   * Looks up the engine's bridge and sets up the kernel path for addr in the background: a few engine calls
   * and iptables runs that need not wait for the cluster, and a restart answers sooner.
   */
  private void prepareNetwork(String addr) {
    CompletableFuture<String> gateway = CompletableFuture.supplyAsync(this::bridgeGateway);
    networkBase = new NetworkBase(addr, gateway, gateway.thenApply(g -> kernelPath(addr, g)));
  }

  /** The base prepared for addr, or (another address) one prepared now. */
  private NetworkBase networkBase(String addr) {
    NetworkBase base = networkBase;
    if (base == null || !base.addr().equals(addr)) {
      prepareNetwork(addr);
      base = networkBase;
    }
    return base;
  }

  /** The kernel path for the node's address, set up on first use; null when off or not possible here. */
  private KernelPath kernelPath(String addr, String gateway) {
    synchronized (kernelLock) {
      if (!options.kernelForwarding()) {
        Leftovers.sweep();
        return null;
      }
      if (kernelPath != null && !kernelPath.nodeAddr().equals(addr)) {
        kernelPath.close();
        kernelPath = null;
      }
      if (kernelPath == null) {
        kernelPath = KernelPath.open(addr, gateway).orElse(null);
      }
      return kernelPath;
    }
  }

  private String bridgeGateway() {
    try {
      String gateway = engine.bridgeGateway();
      if (gateway == null) {
        LOG.warn("the engine has no default bridge network: the mesh reaches local tasks through their published "
            + "ports only");
      }
      return gateway;
    } catch (RuntimeException e) {
      LOG.warn("the engine's bridge network is not known ({}): the mesh reaches local tasks through their "
          + "published ports only", e.toString());
      return null;
    }
  }

  @Override
  public synchronized void leave(boolean force) {
    SwarmRuntime rt = runtime;
    NodeState s = state;
    if (rt == null || s == null) {
      throw ApiException.unavailable("This node is not part of a swarm");
    }
    runtime = null;
    state = null;
    if (joinEndpoint != null) {
      joinEndpoint.unbind();
      joinEndpoint = null;
    }
    rt.leave(Duration.ofSeconds(10));
    for (Engine.Container c : engine.list(s.nodeId())) {
      engine.stopAndRemove(c.id(), 0);
    }
    deleteRecursively(swarmDir);
    LOG.info("node {} left the swarm; its containers and swarm state are removed", s.nodeId());
  }

  synchronized void shutdown() {
    SwarmRuntime rt = runtime;
    runtime = null;
    if (rt != null) {
      // Twice this at most (see SwarmRuntime.stop), leaving time to take the node's rules off the host
      // before a service manager's stop timeout (systemd's is 90 s, the tests' 20 s) kills the process.
      rt.stop(Duration.ofSeconds(7));
    }
    synchronized (kernelLock) {
      if (kernelPath != null) {
        kernelPath.close();
        kernelPath = null;
      }
    }
  }

  private void refuseIfInSwarm() {
    if (runtime != null || state != null) {
      throw ApiException.unavailable("This node is already part of a swarm. Use \"docker swarm leave\" to leave "
          + "this swarm and join another one.");
    }
  }

  @Override
  public Optional<SwarmRuntime> runtime() {
    return Optional.ofNullable(runtime);
  }

  @Override
  public boolean isManager() {
    NodeState s = state;
    return s != null && s.manager() && runtime != null;
  }

  @Override
  public String localState() {
    if (state == null) {
      return "inactive";
    }
    SwarmRuntime rt = runtime;
    return rt == null || !rt.up() ? "pending" : "active";
  }

  @Override
  public String nodeId() {
    NodeState s = state;
    return s == null ? "" : s.nodeId();
  }

  @Override
  public String nodeAddr() {
    NodeState s = state;
    return s == null ? "" : s.advertiseHost();
  }

  @Override
  public String managerAddr() {
    NodeState s = state;
    return s == null ? null : s.managerAddr();
  }

  @Override
  public NodeDescription describe() {
    NodeDescription d = description;
    if (d == null) {
      d = engine.describe(hostname);
      description = d;
    }
    return d;
  }

  @Override
  public boolean imagePresent(String image) {
    return engine.imagePresent(image);
  }

  @Override
  public List<String> warnings() {
    if (state == null) {
      return List.of();
    }
    String subnet = subnetWarning;
    return subnet == null ? warnings : Stream.concat(warnings.stream(), Stream.of(subnet)).toList();
  }

  @Override
  public String engineInfo() {
    return engine.rawInfo();
  }

  private void write(NodeState s) {
    try {
      s.write(swarmDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The address to advertise: the one given (an IP, without a port), else the API's own address. */
  private String advertiseHost(String given) {
    String host = given == null || given.isEmpty() ? apiHost : given;
    int colon = host.lastIndexOf(':');
    if (colon > 0 && host.indexOf(':') == colon) {
      host = host.substring(0, colon);
    }
    if (host.equals("0.0.0.0") || host.isEmpty()) {
      throw ApiException.badRequest("advertise address must be a non-zero IP address or network interface "
          + "(with optional port number)");
    }
    try {
      InetAddress addr = InetAddress.getByName(host);
      if (!host.equals(addr.getHostAddress())) {
        throw ApiException.badRequest("advertise address must be an IP address, got \"" + given + "\"");
      }
    } catch (UnknownHostException e) {
      throw ApiException.badRequest("advertise address must be a non-zero IP address or network interface "
          + "(with optional port number)");
    }
    return host;
  }

  private static int listenPort(String listenAddr) {
    if (listenAddr == null || listenAddr.isEmpty()) {
      return DEFAULT_LISTEN_PORT;
    }
    int colon = listenAddr.lastIndexOf(':');
    if (colon < 0) {
      return DEFAULT_LISTEN_PORT;
    }
    try {
      int port = Integer.parseInt(listenAddr.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("invalid listen address " + listenAddr);
    }
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (Exception e) {
      throw new IllegalStateException("swarm start failed: " + e.getMessage(), e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

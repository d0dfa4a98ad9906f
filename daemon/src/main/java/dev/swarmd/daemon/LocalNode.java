package dev.swarmd.daemon;

import dev.swarmd.agent.Agent;
import dev.swarmd.api.ApiException;
import dev.swarmd.api.NodeControl;
import dev.swarmd.engine.Engine;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.swarm.SwarmCa;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.swarm.SwarmRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** This machine's node: in no swarm, or a manager of one, with its agent running tasks on the engine. */
final class LocalNode implements NodeControl {
  private static final Logger LOG = LoggerFactory.getLogger(LocalNode.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final int DEFAULT_LISTEN_PORT = 2377;
  private static final int CLUSTER_PORT = 7946;

  private final Path swarmDir;
  private final String hostname;
  private final Engine engine;
  private final String apiHost;
  private volatile SwarmRuntime runtime;
  private volatile NodeState state;
  private volatile NodeDescription description;

  LocalNode(Path dataRoot, String hostname, Engine engine, String apiHost) {
    this.swarmDir = dataRoot.resolve("swarm");
    this.hostname = hostname;
    this.engine = engine;
    this.apiHost = apiHost;
  }

  /** Comes back into the swarm this node was in before it stopped, if any. */
  synchronized void resume() throws IOException {
    Optional<NodeState> saved = NodeState.read(swarmDir);
    if (saved.isPresent()) {
      LOG.info("resuming swarm membership of node {} at {}", saved.get().nodeId(), saved.get().advertiseHost());
      start(saved.get());
    }
  }

  @Override
  public synchronized String init(InitRequest request) {
    if (runtime != null) {
      throw ApiException.unavailable("This node is already part of a swarm. Use \"docker swarm leave\" to leave "
          + "this swarm and join another one.");
    }
    String host = advertiseHost(request.advertiseAddr());
    int listenPort = listenPort(request.listenAddr());
    NodeState s = new NodeState(Ids.newId(), host, listenPort, request.availability());
    try {
      s.write(swarmDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    start(s);
    return s.nodeId();
  }

  private void start(NodeState s) {
    SwarmRuntime rt = await(SwarmRuntime.start(swarmDir, s.nodeId(), s.advertiseHost(), CLUSTER_PORT));
    try {
      if (!rt.view().swarm().exists()) {
        String clusterId = Ids.newId();
        SwarmCa.Root ca = SwarmCa.create(swarmDir.resolve("certificates"), clusterId);
        SwarmEntity.Reply r = await(rt.entities().swarm(reply -> new SwarmEntity.Init(clusterId,
            SwarmEntity.Settings.defaults(), ca.certPem(), SwarmCa.joinToken(ca.certPem()),
            SwarmCa.joinToken(ca.certPem()), Cause.loop("swarm init", "node " + s.nodeId()), reply)));
        LOG.info("swarm {} created", r.state().clusterId());
      }
      NodeDescription d = describe();
      NodeSpec spec = new NodeSpec(null, Map.of(), "manager", s.availability());
      NodeEntity.Reply reg = await(rt.entities().node(s.nodeId(), reply -> new NodeEntity.Register(spec, d,
          s.advertiseHost(), s.managerAddr(), Cause.loop("node " + s.nodeId(), "node started"), reply)));
      if (reg.failure() != null) {
        throw new IllegalStateException(reg.failure().message());
      }
      rt.system().systemActorOf(Agent.create(rt.dispatcher(), engine, s.nodeId(), hostname), "agent",
          Props.empty());
    } catch (RuntimeException e) {
      rt.stop(Duration.ofSeconds(10));
      throw e;
    }
    this.state = s;
    this.runtime = rt;
    LOG.info("node {} ({}) is a manager of the swarm, advertising {}", s.nodeId(), hostname, s.managerAddr());
  }

  @Override
  public synchronized void leave(boolean force) {
    SwarmRuntime rt = runtime;
    if (rt == null) {
      throw ApiException.unavailable("This node is not part of a swarm");
    }
    String nodeId = state.nodeId();
    runtime = null;
    state = null;
    rt.stop(Duration.ofSeconds(15));
    for (Engine.Container c : engine.list(nodeId)) {
      engine.stopAndRemove(c.id(), 0);
    }
    deleteRecursively(swarmDir);
    LOG.info("node {} left the swarm; its containers and swarm state are removed", nodeId);
  }

  void shutdown() {
    SwarmRuntime rt = runtime;
    if (rt != null) {
      rt.stop(Duration.ofSeconds(15));
    }
  }

  @Override
  public Optional<SwarmRuntime> runtime() {
    return Optional.ofNullable(runtime);
  }

  @Override
  public String localState() {
    return runtime == null ? "inactive" : "active";
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
  public String engineInfo() {
    return engine.rawInfo();
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

  private static void deleteRecursively(Path dir) {
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

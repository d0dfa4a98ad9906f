package dev.swarmd.agent;

import dev.swarmd.dns.DnsProbe;
import dev.swarmd.dns.NodeDns;
import dev.swarmd.engine.Engine;
import dev.swarmd.ingress.Ingress;
import dev.swarmd.protocol.Dispatcher;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.StatusReport;
import dev.swarmd.protocol.TaskAssignment;
import dev.swarmd.protocol.TaskState;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: makes this node's containers match the tasks assigned to it, walking each task
 * through Docker's states, and reports what it sees. After a restart it adopts the containers it
 * finds instead of starting new ones. Engine calls block, so they run on a pool of their own.
 */
public final class Agent extends AbstractBehavior<Agent.Msg> {
  public sealed interface Msg {}

  public record Poke() implements Msg {}

  private record Listed(List<Engine.Container> containers, Throwable error) implements Msg {}

  private record Done(String taskId) implements Msg {}

  /**
   * A container of this node died or turned unhealthy, as the engine's events or the process watch tell
   * (taskId null: something else changed).
   */
  private record ContainerDown(String taskId) implements Msg {}

  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  private static final long DEFAULT_GRACE = Duration.ofSeconds(10).toNanos();
  private static final String UNHEALTHY = "dockerexec: unhealthy container";
  private static final Duration DRAIN = Duration.ofSeconds(1);

  private final Dispatcher dispatcher;
  private final Engine engine;
  private final String nodeId;
  private final String hostname;
  private final String nodeAddr;
  private final Networking net;
  private List<IngressRoute> routes = List.of();
  /** Running tasks whose containers this node has seen exit or turn unhealthy: out of the mesh before the manager knows. */
  private Set<String> downHere = Set.of();
  /**
   * Tasks seen down by an event (the engine's, or the process watch's), kept out of the mesh at once, before
   * a listing shows it: a listing started just before the event may still show them running.
   */
  private final Set<String> reportedDown = new HashSet<>();
  private List<ServiceName> names = List.of();
  private final ExecutorService pool;
  private final ExecutorService stopPool;
  private final AutoCloseable exits;
  private final ProcessWatch processes;
  private final Set<String> busy = new HashSet<>();
  private boolean listing;
  private boolean dirty;

  /**
   * The node's share of the swarm's network, which the agent keeps on the dispatcher's tables: its
   * routing mesh, its DNS and where that listens, whether the node serves virtual IPs (as nat rules),
   * and whether its containers reach its DNS at the swarm's resolver address (a nat rule too).
   */
  public record Networking(ActorRef<Ingress.Command> ingress, ActorRef<NodeDns.Command> dns,
      InetSocketAddress dnsServer, boolean virtualIps, boolean containerDns) {}

  /** The name the resolver's rules go by in the mesh's logs. */
  private static final String RESOLVER_ROUTE = "(swarm DNS)";
  private static final int DNS_PORT = 53;

  /** nodeAddr: the node's advertise address, where task ports are published. */
  public static Behavior<Msg> create(Dispatcher dispatcher, Engine engine, String nodeId, String hostname,
      String nodeAddr, Networking net) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Poke(), Duration.ofSeconds(2));
      var self = ctx.getSelf();
      dispatcher.watch(() -> self.tell(new Poke()));
      AutoCloseable exits = engine.onContainerExit(nodeId, taskId -> self.tell(new ContainerDown(taskId)));
      ProcessWatch processes = new ProcessWatch(Path.of("/proc"), taskId -> self.tell(new ContainerDown(taskId)));
      self.tell(new Poke());
      return new Agent(ctx, dispatcher, engine, nodeId, hostname, nodeAddr, net, exits, processes);
    }));
  }

  private Agent(ActorContext<Msg> ctx, Dispatcher dispatcher, Engine engine, String nodeId, String hostname,
      String nodeAddr, Networking net, AutoCloseable exits, ProcessWatch processes) {
    super(ctx);
    this.processes = processes;
    this.nodeAddr = nodeAddr;
    this.net = net;
    this.dispatcher = dispatcher;
    this.engine = engine;
    this.nodeId = nodeId;
    this.hostname = hostname;
    this.exits = exits;
    this.pool = Executors.newFixedThreadPool(8, daemonThreads("agent-engine"));
    // Stops wait out each container's grace period: they get threads of their own so that a scale-down
    // of many tasks takes one grace period, not one per few tasks, and never holds up starts.
    this.stopPool = Executors.newCachedThreadPool(daemonThreads("agent-stop"));
  }

  @Override
  public Receive<Msg> createReceive() {
    return newReceiveBuilder()
        .onMessage(Poke.class, m -> poke())
        .onMessage(Listed.class, this::reconcile)
        .onMessage(Done.class, this::done)
        .onMessage(ContainerDown.class, this::containerDown)
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Msg> poke() {
    if (!dispatcher.synced()) {
      return this;
    }
    syncRoutes();
    List<ServiceName> nowNames = net.virtualIps() ? dispatcher.names()
        : dispatcher.names().stream().map(ServiceName::withoutVirtualIp).toList();
    if (!nowNames.equals(names)) {
      names = nowNames;
      net.dns().tell(new NodeDns.SetNames(nowNames));
    }
    if (listing) {
      dirty = true;
      return this;
    }
    listing = true;
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> engine.list(nodeId), pool),
        (list, err) -> new Listed(list, err));
    return this;
  }

  private Behavior<Msg> containerDown(ContainerDown m) {
    if (m.taskId() != null && reportedDown.add(m.taskId())) {
      LOG.info("node {}: task {} is down (its container's process ended or it turned unhealthy); "
          + "out of the mesh", nodeId, m.taskId());
      syncRoutes();
      dispatcher.processEnded(nodeId, m.taskId());
    }
    return poke();
  }

  private void syncRoutes() {
    Set<String> down = new HashSet<>(downHere);
    down.addAll(reportedDown);
    List<IngressRoute> now = new ArrayList<>(dispatcher.routes().stream()
        .filter(r -> net.virtualIps() || r.bindAddress() == null)
        .map(r -> r.without(down))
        .toList());
    now.addAll(resolverRoutes());
    if (!now.equals(routes)) {
      routes = List.copyOf(now);
      net.ingress().tell(new Ingress.SetRoutes(now));
    }
  }

  /**
   * The swarm's resolver address, port 53, to this node's DNS: how its containers reach the DNS
   * without it taking a port on any address of the host.
   */
  private List<IngressRoute> resolverRoutes() {
    String resolver = dispatcher.resolver();
    if (!net.containerDns() || resolver == null) {
      return List.of();
    }
    List<IngressRoute.Backend> dns = List.of(new IngressRoute.Backend("dns", net.dnsServer().getHostString(),
        net.dnsServer().getPort()));
    return List.of(new IngressRoute(resolver, DNS_PORT, "udp", RESOLVER_ROUTE, false, dns),
        new IngressRoute(resolver, DNS_PORT, "tcp", RESOLVER_ROUTE, false, dns));
  }

  private Behavior<Msg> done(Done m) {
    busy.remove(m.taskId());
    return poke();
  }

  private Behavior<Msg> reconcile(Listed m) {
    listing = false;
    if (m.error() != null) {
      LOG.warn("node {}: cannot list containers: {}", nodeId, m.error().toString());
      return this;
    }
    Map<String, Engine.Container> byTask = m.containers().stream()
        .filter(c -> c.taskId() != null)
        .collect(Collectors.toMap(Engine.Container::taskId, Function.identity(), (a, b) -> a));
    List<TaskAssignment> assignments = dispatcher.assignments(nodeId);
    Set<String> down = assignments.stream()
        .filter(a -> a.desired() == TaskState.RUNNING && a.state() == TaskState.RUNNING)
        .filter(a -> byTask.get(a.taskId()) == null || !byTask.get(a.taskId()).running()
            || "unhealthy".equals(byTask.get(a.taskId()).health()))
        .map(TaskAssignment::taskId)
        .collect(Collectors.toUnmodifiableSet());
    // A reported task stays out until its task is no longer running here or a listing shows it down too.
    Set<String> runningHere = assignments.stream()
        .filter(a -> a.desired() == TaskState.RUNNING && a.state() == TaskState.RUNNING)
        .map(TaskAssignment::taskId)
        .collect(Collectors.toSet());
    boolean forgotten = reportedDown.removeIf(t -> !runningHere.contains(t) || down.contains(t));
    // Watched from the start report on, which the manager may not have recorded yet: kept while wanted running.
    processes.retain(assignments.stream().filter(a -> a.desired() == TaskState.RUNNING)
        .map(TaskAssignment::taskId).collect(Collectors.toSet()));
    // Containers this agent did not start (it restarted, and adopted them) are looked up once to be watched.
    for (String taskId : runningHere) {
      Engine.Container c = byTask.get(taskId);
      if (c != null && c.running() && processes.claim(taskId)) {
        pool.execute(() -> {
          try {
            engine.inspect(c.id()).filter(Engine.Container::running)
                .ifPresent(found -> processes.watch(taskId, found.pid()));
          } catch (RuntimeException e) {
            LOG.warn("node {}: cannot look up the process of task {}: {}", nodeId, taskId, e.toString());
          }
        });
      }
    }
    if (!down.equals(downHere) || forgotten) {
      downHere = down;
      syncRoutes();
    }
    Set<String> assigned = new HashSet<>();
    for (TaskAssignment a : assignments) {
      assigned.add(a.taskId());
      if (!busy.contains(a.taskId())) {
        act(a, byTask.get(a.taskId()));
      }
    }
    for (Engine.Container c : m.containers()) {
      if ((c.taskId() == null || !assigned.contains(c.taskId())) && busy.add("container:" + c.id())) {
        LOG.info("node {}: removing container {} of no current task", nodeId, c.id());
        work("container:" + c.id(), () -> engine.stopAndRemove(c.id(), 0), stopPool);
      }
    }
    if (dirty) {
      dirty = false;
      return poke();
    }
    return this;
  }

  /** Decides what one task needs, given its container (null when there is none). */
  private void act(TaskAssignment a, Engine.Container c) {
    boolean wanted = a.desired() == TaskState.RUNNING;
    if (wanted && a.state().compareTo(TaskState.RUNNING) < 0) {
      work(a.taskId(), () -> new TaskRun(a, c).run(), pool);
    } else if (wanted && a.state() == TaskState.RUNNING && (c == null || !c.running())) {
      work(a.taskId(), () -> reportExit(a, c, null), pool);
    } else if (wanted && a.state() == TaskState.RUNNING && "unhealthy".equals(c.health())) {
      work(a.taskId(), () -> unhealthy(a, c.id()), stopPool);
    } else if (!wanted && c != null) {
      work(a.taskId(), () -> {
        drain(a, c);
        Integer exitCode = engine.stopAndRemove(c.id(), grace(a));
        if (!a.state().terminal()) {
          report(a, TaskState.SHUTDOWN, "shutdown", null, c.id(), exitCode, null);
        }
      }, stopPool);
    } else if (!wanted && !a.state().terminal()) {
      work(a.taskId(), () -> report(a, TaskState.SHUTDOWN, "shutdown", null, null, null, null), pool);
    }
  }

  private void work(String key, Runnable job, ExecutorService on) {
    busy.add(key);
    getContext().pipeToSelf(CompletableFuture.runAsync(job, on), (ok, err) -> {
      if (err != null) {
        LOG.warn("node {}: work on {} failed: {}", nodeId, key, err.toString());
      }
      return new Done(key);
    });
  }

  /**
   * A started task whose container stopped or vanished. cause: why swarmd stopped it, if it did
   * (Docker's "task: non-zero exit (137): dockerexec: unhealthy container").
   */
  private void reportExit(TaskAssignment a, Engine.Container listed, String cause) {
    Engine.Container c = listed == null ? null : engine.inspect(listed.id()).orElse(null);
    if (c == null) {
      report(a, TaskState.FAILED, "started", "task: container removed", a.containerId(), null, null);
    } else if (!c.running()) {
      int code = (int) c.exitCode();
      if (code == 0 && cause == null) {
        report(a, TaskState.COMPLETE, "finished", null, c.id(), 0, null);
      } else {
        report(a, TaskState.FAILED, "started",
            "task: non-zero exit (" + code + ")" + (cause == null ? "" : ": " + cause), c.id(), code, null);
      }
    }
  }

  /** As Docker's executor: an unhealthy container is stopped and its task fails, for the orchestrator to replace. */
  private void unhealthy(TaskAssignment a, String containerId) {
    LOG.info("task {} ({}): container {} is unhealthy; stopping it", a.taskId(), a.containerName(), containerId);
    engine.stop(containerId, grace(a));
    reportExit(a, engine.inspect(containerId).orElse(null), UNHEALTHY);
  }

  private void report(TaskAssignment a, TaskState state, String message, String err, String containerId,
      Integer exitCode, Integer pid) {
    report(a, state, message, err, containerId, exitCode, pid, null, null);
  }

  private void report(TaskAssignment a, TaskState state, String message, String err, String containerId,
      Integer exitCode, Integer pid, List<ServiceSpec.PortConfig> ports, String address) {
    if (state.terminal() || state == TaskState.RUNNING) {
      LOG.info("task {} ({}) {}{}", a.taskId(), a.containerName(), state.apiName(),
          err == null ? "" : ": " + err);
    }
    dispatcher.report(new StatusReport(a.taskId(), nodeId, state, message, err, containerId, exitCode, pid, ports,
        address))
        .toCompletableFuture().join();
  }

  /**
   * A task that takes routing-mesh traffic left the routing table when it was told to stop; every
   * node's ingress learns that with the same push as this agent. Waiting a moment before stopping
   * the container lets them all stop sending it new connections first.
   */
  private static void drain(TaskAssignment a, Engine.Container c) {
    boolean meshed = a.endpointPorts().stream().anyMatch(p -> p.publishMode().equals("ingress"));
    if (meshed && c.running() && a.state() == TaskState.RUNNING) {
      try {
        Thread.sleep(DRAIN.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static long grace(TaskAssignment a) {
    Long g = a.spec().container().stopGracePeriod();
    return g == null ? DEFAULT_GRACE : g;
  }

  /** One task from assigned to running, resuming where a crash left it. */
  private final class TaskRun {
    private final TaskAssignment a;
    private final Engine.Container existing;

    TaskRun(TaskAssignment a, Engine.Container existing) {
      this.a = a;
      this.existing = existing;
    }

    void run() {
      if (existing != null && a.state() == TaskState.STARTING && !existing.running()
          && !"created".equals(existing.state())) {
        // Started, then ended before it was healthy (or before a crash let it be reported running).
        reportExit(a, existing, null);
        return;
      }
      step(TaskState.ACCEPTED, "accepted", null);
      step(TaskState.PREPARING, "preparing", null);
      String image = a.spec().container().image();
      String id;
      if (existing != null) {
        id = existing.id();
      } else {
        if (!engine.imagePresent(image) && !engine.pull(image)) {
          report(a, TaskState.REJECTED, "preparing", "No such image: " + image, null, null, null);
          return;
        }
        try {
          id = engine.create(a, nodeId, hostname, nodeAddr, resolvers(a));
        } catch (RuntimeException e) {
          report(a, TaskState.REJECTED, "preparing", "create container: " + e.getMessage(), null, null, null);
          return;
        }
      }
      step(TaskState.READY, "prepared", id);
      step(TaskState.STARTING, "starting", id);
      try {
        engine.start(id);
      } catch (RuntimeException e) {
        report(a, TaskState.FAILED, "starting", "starting container failed: " + e.getMessage(), id, null, null);
        return;
      }
      Engine.Container c = engine.inspect(id).orElse(null);
      if (c == null || !c.running()) {
        // It ran and exited already; the exit report follows from the next reconcile.
        report(a, TaskState.RUNNING, "started", null, id, null, null);
        return;
      }
      // With a health check a task stays starting until the engine calls it healthy: the updater, the
      // CLI's progress and the routing mesh count it only then. Each health event brings it back here.
      if ("unhealthy".equals(c.health())) {
        unhealthy(a, id);
      } else if (!c.healthChecked() || "healthy".equals(c.health())) {
        report(a, TaskState.RUNNING, "started", null, id, null, c.pid(), bound(a, c), c.address());
        processes.watch(a.taskId(), c.pid());
      }
    }

    /** The swarm's resolver for the container, once this node's DNS answers for the task's service. */
    private List<String> resolvers(TaskAssignment a) {
      String resolver = dispatcher.resolver();
      return net.containerDns() && resolver != null && DnsProbe.answersFor(net.dnsServer(), a.serviceName())
          ? List.of(resolver) : List.of();
    }

    /** The task's endpoint ports as bound on this node: the host port the engine chose, in publishedPort. */
    private List<ServiceSpec.PortConfig> bound(TaskAssignment a, Engine.Container c) {
      List<ServiceSpec.PortConfig> out = new ArrayList<>();
      for (ServiceSpec.PortConfig p : a.endpointPorts()) {
        Integer host = c.hostPorts().get(p.targetPort() + "/" + p.protocol());
        if (host != null) {
          out.add(new ServiceSpec.PortConfig(p.name(), p.protocol(), p.targetPort(), host, p.publishMode()));
        }
      }
      return out;
    }

    private void step(TaskState state, String message, String containerId) {
      if (a.state().compareTo(state) < 0) {
        report(a, state, message, null, containerId, null, null);
      }
    }
  }

  private Behavior<Msg> stopped() throws Exception {
    exits.close();
    processes.close();
    pool.shutdownNow();
    stopPool.shutdownNow();
    return this;
  }

  private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}

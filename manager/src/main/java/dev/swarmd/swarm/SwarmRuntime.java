package dev.swarmd.swarm;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.swarmd.dispatcher.ManagerDispatcher;
import dev.swarmd.node.Membership;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.orchestrator.ControlLoop;
import dev.swarmd.persistence.Journal;
import dev.swarmd.dispatcher.DispatcherService;
import dev.swarmd.raft.ClusterJoin;
import dev.swarmd.raft.EntityHost;
import dev.swarmd.raft.LeaderDuties;
import dev.swarmd.raft.RaftLog;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.Entities;
import dev.swarmd.store.Stamp;
import dev.swarmd.store.VersionClock;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.view.SwarmView;
import dev.swarmd.view.ViewSnapshot;
import dev.swarmd.view.ViewSnapshotter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.Leave;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's membership in a swarm: the Pekko cluster system bound to the node's advertise
 * address; for a manager its Raft member, the entities it hosts while it leads, the read view and the
 * control loops.
 */
public final class SwarmRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(SwarmRuntime.class);

  private final ActorSystem<Void> system;
  private final SwarmView view = new SwarmView();
  private final VersionClock clock = new VersionClock();
  private final Entities entities;
  private final ManagerDispatcher dispatcher;
  private final String nodeId;
  private final boolean manager;
  private final Path swarmDir;
  private volatile RaftLog raftLog;
  /** Under the swarm directory: the Raft log, and the ID of its group. */
  public static final String RAFT_DIR = "raft";
  private static final String RAFT_GROUP = "raft-group";
  private volatile org.apache.pekko.actor.typed.ActorRef<EntityHost.Msg> entityHost;

  private SwarmRuntime(Path swarmDir, String nodeId, String advertiseHost, int clusterPort, boolean manager) {
    this.nodeId = nodeId;
    this.manager = manager;
    this.swarmDir = swarmDir;
    Path certs = swarmDir.resolve("certificates");
    String tls = "pekko.remote.artery.ssl.rotating-keys-engine.";
    Config config = ConfigFactory.parseResources("swarmd-cluster.conf")
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(advertiseHost))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(clusterPort))
        .withValue("pekko.cluster.roles",
            ConfigValueFactory.fromIterable(List.of(manager ? "manager" : "worker", "node:" + nodeId)))
        .withValue(tls + "key-file", ConfigValueFactory.fromAnyRef(certs.resolve(SwarmCa.NODE_KEY).toString()))
        .withValue(tls + "cert-file", ConfigValueFactory.fromAnyRef(certs.resolve(SwarmCa.NODE_CERT).toString()))
        .withValue(tls + "ca-cert-file", ConfigValueFactory.fromAnyRef(certs.resolve(SwarmCa.CA_CERT).toString()))
        .withFallback(Journal.config(swarmDir))
        .withFallback(ConfigFactory.load());
    this.system = ActorSystem.create(Behaviors.empty(), "swarm", config);
    this.entities = new Entities(system, clock, () -> Optional.ofNullable(raftLog), () -> entityHost);
    this.dispatcher = new ManagerDispatcher(view, entities);
  }

  /**
   * Starts a manager's cluster system, replays the journal into the view, starts its member of the
   * swarm's Raft group (on advertiseHost:raftPort; founding: the group to found if it has no log yet)
   * and the control loops. Completes when the API may serve from the view.
   */
  public static CompletionStage<SwarmRuntime> startManager(Path swarmDir, String nodeId, String advertiseHost,
      int clusterPort, int raftPort, List<RaftLog.Peer> founding, List<String> seeds) {
    SwarmRuntime rt = new SwarmRuntime(swarmDir, nodeId, advertiseHost, clusterPort, true);
    CompletableFuture<SwarmRuntime> started = new CompletableFuture<>();
    rt.boot(new RaftLog.Peer(nodeId, advertiseHost + ":" + raftPort), founding, seeds).whenComplete((v, e) -> {
      if (e == null) {
        started.complete(rt);
        return;
      }
      // Frees the ports and the journal, or every later try would find them taken.
      rt.stop(Duration.ofSeconds(30));
      started.completeExceptionally(e);
    });
    return started;
  }

  /**
   * The swarm's Raft group, kept beside the log: a manager that joins is given it, and
   * `--force-new-cluster` founds a new one, so that the old group's members reach nothing of it. A
   * data root without one (the first start of a swarm's founder) takes a new one.
   */
  public static UUID raftGroup(Path swarmDir) {
    Path file = swarmDir.resolve(RAFT_GROUP);
    try {
      if (Files.exists(file)) {
        return UUID.fromString(Files.readString(file).trim());
      }
      UUID group = UUID.randomUUID();
      setRaftGroup(swarmDir, group);
      return group;
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot read the swarm's raft group in " + file + ": " + e.getMessage(), e);
    }
  }

  /** Names the Raft group this data root's manager is (or is to be) a member of. */
  public static void setRaftGroup(Path swarmDir, UUID group) {
    try {
      Files.createDirectories(swarmDir);
      Path tmp = swarmDir.resolve(RAFT_GROUP + ".tmp");
      Files.writeString(tmp, group.toString());
      Files.move(tmp, swarmDir.resolve(RAFT_GROUP), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the swarm's raft group: " + e.getMessage(), e);
    }
  }

  /**
   * Starts a worker's cluster system and joins the managers at seeds (pekko://swarm@host:port). A
   * worker hosts no entity and reads no journal: its agent talks to the managers' dispatcher.
   * Port 0 binds an ephemeral port.
   */
  public static SwarmRuntime startWorker(Path swarmDir, String nodeId, String advertiseHost, int clusterPort,
      List<String> seeds) {
    SwarmRuntime rt = new SwarmRuntime(swarmDir, nodeId, advertiseHost, clusterPort, false);
    Cluster.get(rt.system).manager().tell(new JoinSeedNodes(
        seeds.stream().map(org.apache.pekko.actor.AddressFromURIString::parse).toList()));
    return rt;
  }

  public boolean manager() {
    return manager;
  }

  /**
   * Whether this node is an up member of its swarm's cluster (a worker is not until it has joined);
   * weakly up counts, as the managers count it ready.
   */
  public boolean up() {
    org.apache.pekko.cluster.MemberStatus status = Cluster.get(system).selfMember().status();
    return status == org.apache.pekko.cluster.MemberStatus.up()
        || status == org.apache.pekko.cluster.MemberStatus.weaklyUp();
  }

  /**
   * Rebuilds the view: from the view snapshot, if there is one, then the journal's events after it;
   * then keeps the snapshot following the journal.
   */
  private CompletionStage<Void> boot(RaftLog.Peer self, List<RaftLog.Peer> founding, List<String> seeds) {
    long t0 = System.nanoTime();
    Optional<ViewSnapshot> snapshot = ViewSnapshot.read(system, swarmDir);
    snapshot.ifPresent(sn -> {
      sn.restore(view);
      clock.restore(sn.index(), sn.headIndex(), sn.head());
    });
    long from = snapshot.map(ViewSnapshot::offset).orElse(0L);
    AtomicLong events = new AtomicLong();
    AtomicLong offset = new AtomicLong(from);
    return Journal.events(system, false, from).runForeach(e -> {
      events.incrementAndGet();
      offset.set(Journal.offset(e));
      Stamp stamp = view.replay(e.persistenceId(), e.event());
      if (stamp != null) {
        clock.observe(stamp);
      }
    }, system).thenAccept(done -> {
      LOG.info("journal replayed: {} events after the view snapshot at offset {}, version index {}, in {} ms",
          events.get(), from, clock.current(), (System.nanoTime() - t0) / 1_000_000);
      ViewSnapshot now = ViewSnapshot.of(offset.get(), clock.current(), clock.headIndex(), clock.head(), view);
      if (events.get() >= ViewSnapshotter.EVERY) {
        ViewSnapshotter.save(system, swarmDir, now);
      }
      ViewSnapshotter.start(system, swarmDir, now);
      startRaft(self, founding);
    }).thenCompose(v -> relogIfFounded(events.get())).thenAccept(v -> {
      Map<String, Function<String, Behavior<?>>> kinds = Map.of(
          ServiceEntity.KEY.name(), id -> ServiceEntity.create(id, clock),
          TaskEntity.KEY.name(), id -> TaskEntity.create(id, clock),
          NodeEntity.KEY.name(), id -> NodeEntity.create(id, clock),
          SwarmEntity.KEY.name(), id -> SwarmEntity.create(clock));
      entityHost = system.systemActorOf(EntityHost.create(raftLog, kinds), EntityHost.NAME,
          org.apache.pekko.actor.typed.Props.empty());
      raftLog.watchLeader(entities::leadershipMoved);
      system.systemActorOf(ClusterJoin.create(raftLog,
          seeds.stream().map(org.apache.pekko.actor.AddressFromURIString::parse).toList()), "cluster-join",
          org.apache.pekko.actor.typed.Props.empty());
      Map<String, Supplier<Behavior<?>>> duties = new LinkedHashMap<>();
      duties.put("membership", () -> Membership.create(entities, view));
      duties.put("control-loop", () -> ControlLoop.create(view, entities));
      duties.put("dispatcher", () -> DispatcherService.create(dispatcher, view));
      system.systemActorOf(LeaderDuties.create(raftLog, duties), "leader-duties",
          org.apache.pekko.actor.typed.Props.empty());
    });
  }

  /**
   * A manager that founds a group on a journal with a history puts that history into the log first
   * (see {@link RaftLog#relog}), before its entities may write.
   */
  private CompletionStage<Void> relogIfFounded(long replayed) {
    if (!raftLog.founded() || (replayed == 0 && !view.swarm().exists())) {
      return CompletableFuture.completedFuture(null);
    }
    long t0 = System.nanoTime();
    return raftLog.leaderReady().thenCompose(v -> raftLog.relog(system)).thenAccept(n ->
        LOG.info("raft member {} founded its group on the journal's history: {} events logged in {} ms", nodeId, n,
            (System.nanoTime() - t0) / 1_000_000));
  }

  /**
   * Starts this manager's Raft member. Each committed event is folded into the served view (and the
   * version clock) once the local journal has it: the view is one fold of the committed log, the
   * same on every manager.
   */
  private void startRaft(RaftLog.Peer self, List<RaftLog.Peer> founding) {
    Path certs = swarmDir.resolve("certificates");
    SwarmCa.Tls tls = SwarmCa.tls(certs);
    try {
      raftLog = RaftLog.start(Adapter.toClassic(system), swarmDir.resolve(RAFT_DIR), raftGroup(swarmDir), self, founding,
          tls.keys(), tls.trust(), (pid, seq, event) -> {
            Stamp stamp = view.replay(pid, event);
            if (stamp != null) {
              clock.observe(stamp);
            }
          });
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot start the raft member: " + e.getMessage(), e);
    }
  }

  /** This manager's member of the swarm's Raft group. */
  public RaftLog raftLog() {
    return raftLog;
  }

  /** The ID of the swarm's Raft group, which a joining manager is given. */
  public UUID raftGroup() {
    return raftGroup(swarmDir);
  }

  public SwarmView view() {
    return view;
  }

  public Entities entities() {
    return entities;
  }

  public ManagerDispatcher dispatcher() {
    return dispatcher;
  }

  public String nodeId() {
    return nodeId;
  }

  /** The port the cluster transport bound (the one asked for, or an ephemeral one for port 0). */
  public int clusterPort() {
    return Cluster.get(system).selfMember().address().getPort().orElse(-1);
  }

  /** Stops the Raft member before the system its journal writer runs in. */
  private void closeRaft() {
    RaftLog log = raftLog;
    raftLog = null;
    if (log != null) {
      log.close();
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** Leaves the cluster (so that the others see this node go at once), then stops. */
  public void leave(Duration timeout) {
    closeRaft();
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Leave.create(cluster.selfMember().address()));
    try {
      system.getWhenTerminated().toCompletableFuture().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.info("leave did not complete within {}; stopping", timeout);
    }
    stop(timeout);
  }

  /**
   * Stops the Raft member, then the system. Pekko 1.7.0's Artery waits without a deadline for its
   * streams to complete before it unbinds (apache/pekko#3247): a TLS stream that a frozen or cut-off
   * peer left half-open can keep the system, its cluster port and its journal forever, and a manager
   * that starts its membership again would find them taken. So a system still there after the
   * timeout has its remaining stream actors stopped, which fails those streams and lets it finish.
   * Returns whether the system stopped.
   */
  public boolean stop(Duration timeout) {
    closeRaft();
    system.terminate();
    if (terminated(timeout)) {
      return true;
    }
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
    LOG.warn("swarm system {} did not stop within {}; stopping the streams still running:\n{}", nodeId, timeout,
        ((org.apache.pekko.actor.ActorSystemImpl) classic).printTree());
    classic.actorSelection("/system/Materializers/*/*").tell(org.apache.pekko.actor.PoisonPill.getInstance(),
        org.apache.pekko.actor.ActorRef.noSender());
    if (terminated(timeout)) {
      return true;
    }
    LOG.error("swarm system {} still has not stopped; its actors:\n{}", nodeId,
        ((org.apache.pekko.actor.ActorSystemImpl) classic).printTree());
    return false;
  }

  private boolean terminated(Duration timeout) {
    try {
      system.getWhenTerminated().toCompletableFuture().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    }
  }
}

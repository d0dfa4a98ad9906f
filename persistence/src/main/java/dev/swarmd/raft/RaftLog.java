package dev.swarmd.raft;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.PersistentRepr$;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This manager's member of the swarm's Raft group (Apache Ratis): the replicated log every journal
 * write goes through. A write is acknowledged once a majority of the managers has it on disk and
 * this manager has applied it to its own journal; every manager applies the same entries in the same
 * order. Raft traffic is gRPC over mutual TLS with the swarm CA's node certificates.
 */
public final class RaftLog implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftLog.class);
  /** A write that is not committed and applied within this is failed (its outcome is then unknown). */
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);
  /** How long the leader keeps trying to add a manager that joined. */
  private static final Duration ADD_PEER_TIMEOUT = Duration.ofMinutes(2);
  /** Relogged entries in flight at once: enough for Raft to put many in each disk write. */
  private static final int RELOG_WINDOW = 256;
  /** How long a read through a follower waits to catch up with the leader before it is served as it is. */
  private static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(5);
  /** How long a write waits for this member to become a ready leader, when it is about to be one. */
  private static final Duration LEADER_WAIT = Duration.ofSeconds(5);
  /** The port of the managers' Raft traffic, on each manager's advertise address. */
  public static final int PORT = 7947;
  /** The local journal every manager applies committed entries to. */
  public static final String LOCAL_JOURNAL = "pekko.persistence.journal.leveldb";

  /** A manager in the group: its node ID and its Raft address (host:port). */
  public record Peer(String id, String address) {
    RaftPeer toRaft() {
      return RaftPeer.newBuilder().setId(id).setAddress(address).build();
    }

    static Peer of(RaftPeer p) {
      return new Peer(p.getId().toString(), p.getAddress());
    }
  }

  private final RaftServer server;
  private final RaftGroupId groupId;
  private final RaftPeerId self;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "raft-log-timer");
    t.setDaemon(true);
    return t;
  });
  private final List<Consumer<Optional<String>>> leaderWatchers = new CopyOnWriteArrayList<>();
  private final List<Consumer<Boolean>> leadingWatchers = new CopyOnWriteArrayList<>();
  private volatile CompletableFuture<Void> ready = new CompletableFuture<>();

  /** Whether this member started with no log and founded the group (its journal may hold a history). */
  private final boolean founded;

  private RaftLog(RaftServer server, RaftGroupId groupId, RaftPeerId self, boolean founded) {
    this.server = server;
    this.groupId = groupId;
    this.self = self;
    this.founded = founded;
  }

  /** This member started with no log and founded the group (see {@link #relog}). */
  public boolean founded() {
    return founded;
  }

  /**
   * Starts this manager's member. dir holds the Raft log; peers is the group to found (the first
   * manager: itself) or empty to wait for the leader to add it (a manager that joins). A member that
   * has a log already comes back with the configuration in it. Committed entries go to the local
   * journal of system and then to listener.
   */
  public static RaftLog start(ActorSystem system, Path dir, UUID group, Peer self, List<Peer> peers,
      KeyManager keys, TrustManager trust, AppliedListener listener) throws IOException {
    RaftProperties p = new RaftProperties();
    boolean fresh = !Files.isDirectory(dir) || isEmpty(dir);
    Files.createDirectories(dir);
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    String host = self.address().substring(0, self.address().lastIndexOf(':'));
    int port = Integer.parseInt(self.address().substring(self.address().lastIndexOf(':') + 1));
    GrpcConfigKeys.Server.setHost(p, host);
    GrpcConfigKeys.Server.setPort(p, port);
    // A dead leader is replaced within about 2 s; a busy 2-core host does not call a live one dead.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2000, TimeUnit.MILLISECONDS));
    // Right after a start the member asks for votes sooner: a single manager leads within a second.
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(5, TimeUnit.SECONDS));
    // Reads through a follower first wait for everything committed before them (see barrier()).
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // The log is the history every manager catches up from: no snapshot, so nothing is purged.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, false);
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, false);
    Parameters params = GrpcFactory.newRaftParameters(new GrpcTlsConfig(keys, trust, true));

    RaftGroupId groupId = RaftGroupId.valueOf(group);
    RaftPeerId selfId = RaftPeerId.valueOf(self.id());
    AtomicReference<RaftLog> made = new AtomicReference<>();
    ActorRef journal = Persistence.get(system).journalFor(LOCAL_JOURNAL, com.typesafe.config.ConfigFactory.empty());
    ActorRef writer = ((ExtendedActorSystem) system).systemActorOf(AppliedWriter.props(journal, listener::applied),
        "raft-applied-writer");
    JournalStateMachine machine = new JournalStateMachine(writer, new JournalStateMachine.Roles() {
      @Override
      public void leaderChanged(RaftPeerId leaderId) {
        RaftLog log = made.get();
        if (log != null) {
          log.onLeaderChanged(leaderId);
        }
      }

      @Override
      public void leaderReady() {
        RaftLog log = made.get();
        if (log != null) {
          log.onLeaderReady();
        }
      }
    });
    // A member with a log takes the group's configuration from it alone: given peers here, it would start
    // from them (a restarted member of three, alone, electing itself).
    RaftGroup raftGroup = RaftGroup.valueOf(groupId, fresh ? peers.stream().map(Peer::toRaft).toList() : List.of());
    RaftServer server = RaftServer.newBuilder()
        .setServerId(selfId)
        .setGroup(raftGroup)
        .setStateMachine(machine)
        .setProperties(p)
        .setParameters(params)
        .setOption(fresh ? RaftStorage.StartupOption.FORMAT : RaftStorage.StartupOption.RECOVER)
        .build();
    RaftLog log = new RaftLog(server, groupId, selfId, fresh && !peers.isEmpty());
    made.set(log);
    server.start();
    LOG.info("raft member {} started on {} ({}), group {}", self.id(), self.address(),
        fresh ? "new log, peers " + peers : "log recovered", groupId);
    Registry.get(system).log.set(log);
    return log;
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  /** Takes each committed journal event, in log order, once the local journal has it. */
  public interface AppliedListener {
    void applied(String persistenceId, long sequenceNr, Object event);
  }

  /**
   * Replicates one journal write. entryForTerm makes the entry, given the term this member leads;
   * completes once a majority has it and this manager applied it, and fails if this member is not the
   * leader, the entry is refused where it is applied (see {@link WriteCheck}), or the group cannot
   * commit it in time.
   */
  public CompletableFuture<Void> write(LongFunction<byte[]> entryForTerm) {
    return append(entryForTerm).thenAccept(outcome -> {
      if (!outcome.equals(JournalStateMachine.APPLIED)) {
        throw new Refused(outcome);
      }
    });
  }

  /** As {@link #write}, completing with the outcome where it was applied ("applied", or why it was refused). */
  private CompletableFuture<String> append(LongFunction<byte[]> entryForTerm) {
    CompletableFuture<String> result = new CompletableFuture<>();
    submitWhenLeader(entryForTerm, System.nanoTime() + LEADER_WAIT.toNanos(), result);
    return result.orTimeout(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Puts this manager's whole journal into the log, once, when it founds a group with a history (a data
   * root from before the log, or `--force-new-cluster`): the managers that join then get every event by
   * replication. Here each entry is refused as already applied; a member that joins applies it. Run
   * before any other write, since a member applies an entity's events only in order.
   */
  public CompletableFuture<Long> relog(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    Serialization serialization = SerializationExtension.get(system);
    AtomicLong count = new AtomicLong();
    return dev.swarmd.persistence.Journal.events(system, false, 0)
        .mapAsync(RELOG_WINDOW, e -> {
          PersistentRepr repr = PersistentRepr$.MODULE$.apply(
              new Tagged(e.event(), java.util.Set.of(dev.swarmd.persistence.Journal.ALL)), e.sequenceNr(),
              e.persistenceId(), "", false, ActorRef.noSender(), "relog").withTimestamp(e.timestamp());
          count.incrementAndGet();
          return append(term -> JournalEntry.of(term, List.of(repr), serialization).toBytes());
        })
        .runWith(org.apache.pekko.stream.javadsl.Sink.ignore(), system)
        .toCompletableFuture()
        .thenApply(done -> count.get());
  }

  private void submitWhenLeader(LongFunction<byte[]> entryForTerm, long deadline, CompletableFuture<String> result) {
    DivisionInfo info;
    try {
      info = server.getDivision(groupId).getInfo();
    } catch (IOException e) {
      result.completeExceptionally(e);
      return;
    }
    if (!info.isLeader() || !info.isLeaderReady()) {
      RaftPeerId leader = info.getLeaderId();
      boolean mayLead = leader == null || leader.equals(self);
      if (mayLead && System.nanoTime() < deadline) {
        timers.schedule(() -> submitWhenLeader(entryForTerm, deadline, result), 50, TimeUnit.MILLISECONDS);
      } else {
        result.completeExceptionally(new NotLeader(leader == null ? null : leader.toString()));
      }
      return;
    }
    byte[] entry = entryForTerm.apply(info.getCurrentTerm());
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(self)
        .setGroupId(groupId)
        .setCallId(callIds.incrementAndGet())
        .setMessage(Message.valueOf(ByteString.copyFrom(entry)))
        .setType(RaftClientRequest.writeRequestType())
        .build();
    try {
      server.submitClientRequestAsync(request).whenComplete((reply, error) -> {
        if (error != null) {
          result.completeExceptionally(error);
        } else if (!reply.isSuccess()) {
          result.completeExceptionally(reply.getNotLeaderException() != null
              ? new NotLeader(String.valueOf(reply.getNotLeaderException().getSuggestedLeader()))
              : reply.getException());
        } else {
          result.complete(reply.getMessage().getContent().toString(StandardCharsets.UTF_8));
        }
      });
    } catch (IOException e) {
      result.completeExceptionally(e);
    }
  }

  /** This member is not the leader: it may not write (leader: the one it knows, if any). */
  public static final class NotLeader extends RuntimeException {
    public NotLeader(String leader) {
      super(leader == null ? "the swarm does not have a leader" : "this manager is not the leader (" + leader + " is)");
    }
  }

  /** The entry was committed but refused where it was applied: written on a stale state. */
  public static final class Refused extends RuntimeException {
    public Refused(String reason) {
      super("write refused: " + reason);
    }
  }

  /**
   * Adds a manager to the group (run on the leader). Raft first brings the new member's log up to
   * date, then commits the configuration that counts it as a voter; completes when that is committed.
   */
  public CompletableFuture<Void> addPeer(Peer peer) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    addPeer(peer, System.nanoTime() + ADD_PEER_TIMEOUT.toNanos(), done);
    return done;
  }

  /**
   * The new manager's Raft member starts once its process has the join's answer, some seconds later on a
   * busy host; a change that makes no progress meanwhile is tried again, while this member leads.
   */
  private void addPeer(Peer peer, long deadline, CompletableFuture<Void> done) {
    addPeerOnce(peer).whenComplete((v, error) -> {
      if (error == null) {
        done.complete(null);
      } else if (System.nanoTime() < deadline && isLeader()) {
        LOG.info("raft member {} not added yet ({}); trying again", peer.id(), error.toString());
        timers.schedule(() -> addPeer(peer, deadline, done), 1, TimeUnit.SECONDS);
      } else {
        done.completeExceptionally(error);
      }
    });
  }

  private CompletableFuture<Void> addPeerOnce(Peer peer) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      SetConfigurationRequest request = new SetConfigurationRequest(clientId, self, groupId,
          callIds.incrementAndGet(), SetConfigurationRequest.Arguments.newBuilder()
              .setServersInNewConf(List.of(peer.toRaft()))
              .setMode(SetConfigurationRequest.Mode.ADD)
              .build());
      server.setConfigurationAsync(request).whenComplete((reply, error) -> {
        if (error != null) {
          done.completeExceptionally(error);
        } else if (!reply.isSuccess()) {
          done.completeExceptionally(reply.getException());
        } else {
          LOG.info("raft member {} added to the group: {}", peer.id(), peers());
          done.complete(null);
        }
      });
    } catch (IOException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  /**
   * Completes once this manager has applied every entry committed before the call: at once on the
   * leader (it acknowledges a write only after applying it), after asking the leader for its commit
   * index on a follower (Raft's ReadIndex). Fails if no leader answers in time.
   */
  public CompletableFuture<Void> barrier() {
    if (isLeader()) {
      return CompletableFuture.completedFuture(null);
    }
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(self)
        .setGroupId(groupId)
        .setCallId(callIds.incrementAndGet())
        .setMessage(Message.EMPTY)
        .setType(RaftClientRequest.readRequestType())
        .build();
    try {
      return server.submitClientRequestAsync(request).thenAccept(reply -> {
        if (!reply.isSuccess()) {
          throw new java.util.concurrent.CompletionException(reply.getException());
        }
      }).orTimeout(BARRIER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The leader's node ID, if the group has one this member knows. */
  public Optional<String> leader() {
    try {
      RaftPeerId id = server.getDivision(groupId).getInfo().getLeaderId();
      return Optional.ofNullable(id).map(RaftPeerId::toString);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public boolean isLeader() {
    try {
      DivisionInfo info = server.getDivision(groupId).getInfo();
      return info.isLeader() && info.isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  /** The group's members as this member knows them (its latest configuration). */
  public List<Peer> peers() {
    try {
      return server.getDivision(groupId).getRaftConf().getCurrentPeers().stream().map(Peer::of).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  public String selfId() {
    return self.toString();
  }

  /** Completes when this member has become a leader whose term's first entry is applied. */
  public CompletableFuture<Void> leaderReady() {
    return ready;
  }

  /**
   * Completes when this member is in the group's configuration and knows its leader: at once for a
   * member that has a log, once the leader has added and caught it up for a manager that joins.
   */
  public CompletableFuture<String> leaderKnown() {
    CompletableFuture<String> known = new CompletableFuture<>();
    pollLeaderKnown(known);
    return known;
  }

  private void pollLeaderKnown(CompletableFuture<String> known) {
    Optional<String> leader = leader();
    boolean member = peers().stream().anyMatch(p -> p.id().equals(self.toString()));
    if (leader.isPresent() && member) {
      known.complete(leader.get());
    } else if (!timers.isShutdown()) {
      timers.schedule(() -> pollLeaderKnown(known), 50, TimeUnit.MILLISECONDS);
    }
  }

  /** Calls watcher with the leader's ID (empty: none) each time leadership moves. */
  public void watchLeader(Consumer<Optional<String>> watcher) {
    leaderWatchers.add(watcher);
  }

  /**
   * Calls watcher with true once this member leads (its term's first entry applied: it has every
   * committed entry), and with false when it stops leading.
   */
  public void watchLeading(Consumer<Boolean> watcher) {
    leadingWatchers.add(watcher);
    if (isLeader()) {
      watcher.accept(true);
    }
  }

  private void onLeaderReady() {
    LOG.info("raft member {} leads the group", self);
    ready.complete(null);
    leadingWatchers.forEach(w -> w.accept(true));
  }

  private void onLeaderChanged(RaftPeerId leaderId) {
    Optional<String> leader = Optional.ofNullable(leaderId).map(RaftPeerId::toString);
    LOG.info("raft member {}: the leader is now {}", self, leader.orElse("unknown"));
    if (!self.equals(leaderId) && ready.isDone()) {
      ready = new CompletableFuture<>();
      leadingWatchers.forEach(w -> w.accept(false));
    }
    leaderWatchers.forEach(w -> w.accept(leader));
  }

  @Override
  public void close() {
    timers.shutdownNow();
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("raft member {} did not close cleanly: {}", self, e.toString());
    }
  }

  /** Where the journal plugin of a system finds the system's Raft member. */
  public static final class Registry implements Extension {
    private final AtomicReference<RaftLog> log = new AtomicReference<>();

    public static Registry get(ActorSystem system) {
      return Id.INSTANCE.get(system);
    }

    public Optional<RaftLog> log() {
      return Optional.ofNullable(log.get());
    }
  }

  private static final class Id extends AbstractExtensionId<Registry> {
    static final Id INSTANCE = new Id();

    @Override
    public Registry createExtension(ExtendedActorSystem system) {
      return new Registry();
    }
  }
}

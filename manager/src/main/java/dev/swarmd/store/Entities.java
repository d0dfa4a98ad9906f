package dev.swarmd.store;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.raft.EntityHost;
import dev.swarmd.raft.RaftLog;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Asks the entities, with the one timeout every caller uses. The entities live on the Raft leader
 * ({@link EntityHost}); a reply is passed on once this manager's view has folded the state it
 * names, so that a client reads its own writes from whichever manager it asked.
 */
public final class Entities {
  public static final Duration ASK_TIMEOUT = Duration.ofSeconds(15);
  /** How long a reply waits for this manager to apply the write it reports. */
  private static final Duration CATCH_UP = Duration.ofSeconds(5);
  private static final Duration RESOLVE_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration ELECTION_WAIT = Duration.ofSeconds(3);
  private final ActorSystem<?> system;
  private final VersionClock applied;
  private final Supplier<Optional<RaftLog>> raft;
  private final Supplier<ActorRef<EntityHost.Msg>> localHost;
  /** The leader's host, by leader ID: resolved once per leadership (cleared when leadership moves). */
  private final Map<String, CompletionStage<ActorRef<EntityHost.Msg>>> hosts = new ConcurrentHashMap<>();
  /**
   * The next move of leadership (to the leader it names, "" for none), each linked to the one after: a
   * command sent to a leader that is no longer one gets no answer.
   */
  private record Move(String leader, CompletableFuture<Move> next) {}

  private volatile CompletableFuture<Move> nextMove = new CompletableFuture<>();

  /** The swarm has no leader: no write can be made, as Docker says. */
  public static final class NoLeader extends RuntimeException {
    public NoLeader() {
      super("The swarm does not have a leader. It's possible that too few managers are online. Make sure more "
          + "than half of the managers are online.");
    }
  }

  /**
   * applied: the version clock this manager's view moves as it folds the committed log; localHost:
   * this manager's entity host, used while it leads.
   */
  public Entities(ActorSystem<?> system, VersionClock applied, Supplier<Optional<RaftLog>> raft,
      Supplier<ActorRef<EntityHost.Msg>> localHost) {
    this.system = system;
    this.applied = applied;
    this.raft = raft;
    this.localHost = localHost;
  }

  public CompletionStage<ServiceEntity.Reply> service(String id,
      Function<ActorRef<ServiceEntity.Reply>, ServiceEntity.Command> command) {
    return ask(ServiceEntity.KEY, id, command, r -> r.state() == null ? 0 : r.state().version());
  }

  public CompletionStage<TaskEntity.Reply> task(String id,
      Function<ActorRef<TaskEntity.Reply>, TaskEntity.Command> command) {
    return ask(TaskEntity.KEY, id, command, r -> r.state() == null ? 0 : r.state().version());
  }

  public CompletionStage<NodeEntity.Reply> node(String id,
      Function<ActorRef<NodeEntity.Reply>, NodeEntity.Command> command) {
    return ask(NodeEntity.KEY, id, command, r -> r.state() == null ? 0 : r.state().version());
  }

  public CompletionStage<SwarmEntity.Reply> swarm(
      Function<ActorRef<SwarmEntity.Reply>, SwarmEntity.Command> command) {
    return ask(SwarmEntity.KEY, SwarmEntity.ID, command, r -> r.state() == null ? 0 : r.state().version());
  }

  private <C extends CborSerializable, R> CompletionStage<R> ask(EntityTypeKey<C> key, String id,
      Function<ActorRef<R>, C> command, ToLongFunction<R> version) {
    CompletableFuture<Move> moves = nextMove;
    return leaderHost().thenCompose(host -> AskPattern.<EntityHost.Msg, R>ask(host.ref(),
            replyTo -> new EntityHost.Deliver(key.name(), id, command.apply(replyTo)), ASK_TIMEOUT, system.scheduler())
            .toCompletableFuture()
            .applyToEither(movedAwayFrom(host.leader(), moves).<R>thenApply(v -> {
              throw new NoLeader();
            }), r -> r))
        .thenCompose(r -> caughtUp(version.applyAsLong(r), System.nanoTime() + CATCH_UP.toNanos()).thenApply(v -> r));
  }

  /** Completes once leadership has moved away from leader, from the moves that follow moves. */
  private static CompletableFuture<Void> movedAwayFrom(String leader, CompletableFuture<Move> moves) {
    return moves.thenCompose(m -> m.leader().equals(leader) ? movedAwayFrom(leader, m.next())
        : CompletableFuture.completedFuture(null));
  }

  /**
   * Leadership moved (to leader, empty: none known): the commands in flight to another leader fail at
   * once (as Docker's do, with no leader to answer them) rather than wait out their timeout; the
   * client tries again.
   */
  public synchronized void leadershipMoved(Optional<String> leader) {
    // A leader's host is found again: the same manager may lead again after a restart, as a new incarnation.
    hosts.clear();
    CompletableFuture<Move> current = nextMove;
    CompletableFuture<Move> next = new CompletableFuture<>();
    nextMove = next;
    current.complete(new Move(leader.orElse(""), next));
  }

  /** A leader's entity host. */
  private record Host(String leader, ActorRef<EntityHost.Msg> ref) {}

  /**
   * The leader's entity host: this manager's if it leads, else the one at the leader's cluster address.
   * Without a leader it waits a little (an election takes a second or two), then gives up.
   */
  private CompletionStage<Host> leaderHost() {
    return leaderHost(System.nanoTime() + ELECTION_WAIT.toNanos());
  }

  private CompletionStage<Host> leaderHost(long deadline) {
    RaftLog log = raft.get().orElse(null);
    String leader = log == null ? null : log.leader().orElse(null);
    // This manager's host is made once its log holds its journal's history: until then it leads nothing.
    if (leader == null || (leader.equals(log.selfId()) && localHost.get() == null)) {
      if (System.nanoTime() > deadline) {
        return CompletableFuture.failedFuture(new NoLeader());
      }
      return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS))
          .thenCompose(v -> leaderHost(deadline));
    }
    if (leader.equals(log.selfId())) {
      return CompletableFuture.completedFuture(new Host(leader, localHost.get()));
    }
    return hosts.compute(leader, (id, known) -> known != null && !known.toCompletableFuture().isCompletedExceptionally()
        ? known : resolve(log, id)).thenApply(ref -> new Host(leader, ref));
  }

  private CompletionStage<ActorRef<EntityHost.Msg>> resolve(RaftLog log, String leader) {
    Optional<RaftLog.Peer> peer = log.peers().stream().filter(p -> p.id().equals(leader)).findFirst();
    if (peer.isEmpty()) {
      return CompletableFuture.failedFuture(new NoLeader());
    }
    String host = peer.get().address().substring(0, peer.get().address().lastIndexOf(':'));
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
    Address self = org.apache.pekko.cluster.Cluster.get(classic).selfAddress();
    Address at = new Address(self.protocol(), self.system(), host, self.getPort().orElse(0));
    // A leader whose host does not answer is as good as none, for a write.
    return classic.actorSelection(at + "/system/" + EntityHost.NAME).resolveOne(RESOLVE_TIMEOUT)
        .handle((ref, error) -> {
          if (error != null) {
            throw new NoLeader();
          }
          return Adapter.<EntityHost.Msg>toTyped(ref);
        });
  }

  private CompletableFuture<Void> caughtUp(long version, long deadline) {
    if (applied.current() >= version || System.nanoTime() > deadline) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS))
        .thenCompose(v -> caughtUp(version, deadline));
  }
}

package dev.swarmd.raft;

import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Places every entity on the Raft leader's manager and moves them there when leadership moves: the
 * entities seal events with the leader's version clock, and only the leader may write to the log
 * (swarmkit runs its stores on the leader alike). Until the leader's region is known a shard goes
 * where it was asked for, and the next rebalance moves it.
 */
public final class LeaderAllocation extends ShardCoordinator.AbstractShardAllocationStrategy {
  /** Shards moved per rebalance round, so that a handover does not stall every entity at once. */
  private static final int MOVES_PER_ROUND = 50;
  private final Supplier<Optional<RaftLog>> raft;

  public LeaderAllocation(Supplier<Optional<RaftLog>> raft) {
    this.raft = raft;
  }

  @Override
  public Future<ActorRef> allocateShard(ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> current) {
    return Future.successful(leaderRegion(current).orElse(requester));
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> current, Set<String> inProgress) {
    Set<String> move = new HashSet<>();
    leaderRegion(current).ifPresent(leader -> current.forEach((region, shards) -> {
      if (!region.equals(leader)) {
        for (String shard : CollectionConverters.asJava(shards)) {
          if (move.size() < MOVES_PER_ROUND && !inProgress.contains(shard)) {
            move.add(shard);
          }
        }
      }
    }));
    return Future.successful(move);
  }

  /** The region on the leader's node: the local one if this node leads, else the one at its address. */
  private Optional<ActorRef> leaderRegion(Map<ActorRef, IndexedSeq<String>> current) {
    Optional<RaftLog> log = raft.get();
    Optional<String> leader = log.flatMap(RaftLog::leader);
    if (leader.isEmpty()) {
      return Optional.empty();
    }
    if (leader.get().equals(log.get().selfId())) {
      return current.keySet().stream().filter(r -> r.path().address().host().isEmpty()).findFirst();
    }
    Optional<String> host = log.get().peers().stream().filter(p -> p.id().equals(leader.get())).findFirst()
        .map(p -> p.address().substring(0, p.address().lastIndexOf(':')));
    return host.flatMap(h -> current.keySet().stream()
        .filter(r -> r.path().address().host().isDefined() && r.path().address().host().get().equals(h))
        .findFirst());
  }
}

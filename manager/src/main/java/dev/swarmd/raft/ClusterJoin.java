package dev.swarmd.raft;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which cluster a manager is a member of: the Raft leader's. The cluster carries the swarm's
 * messages (dispatcher, membership) and the Raft group decides who writes; if they parted (a
 * manager that formed a cluster alone while the others could not answer in time, or one cut off
 * and back), the node list and the dispatcher would serve a cluster the leader is not in.
 *
 * <p>So a manager never forms a cluster on a guess: it asks the Raft leader's address to let it in,
 * forms one alone only when it is the only member of the group or it leads the group and nobody
 * let it in, and a follower whose cluster lacks the leader for {@link #RESTART_AFTER} starts its
 * membership again to join the leader's.
 */
public final class ClusterJoin {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterJoin.class);
  /** How long a leader asks the others before it forms the cluster alone. */
  public static final Duration FORM_AFTER = Duration.ofSeconds(5);
  /** How long a follower stays in a cluster without the leader before it leaves it for the leader's. */
  public static final Duration RESTART_AFTER = Duration.ofSeconds(15);
  private static final Duration TICK = Duration.ofSeconds(1);

  /** What this manager sees at one tick. */
  public record Situation(boolean joined, Address self, List<Address> others, Optional<Address> leader,
      boolean leading, Set<Address> members, long nowMillis) {}

  public sealed interface Action {}

  /** Ask these addresses to let this manager in (the first that answers does). */
  public record Ask(List<Address> addresses) implements Action {}

  /** Form the cluster alone. */
  public record Form() implements Action {}

  /** Leave this cluster, which lacks the leader, to join the leader's. */
  public record Restart(Address leader) implements Action {}

  public record Wait() implements Action {}

  /**
   * The joiner's memory between ticks: since when it has not been let in, what it last asked (asked
   * again only when that changes), since when its cluster has lacked the leader (-1: not so).
   */
  public record State(long notJoinedSince, List<Address> asked, long leaderAbsentSince) {
    public static State start(long nowMillis) {
      return new State(nowMillis, List.of(), -1);
    }
  }

  public record Step(State next, Action action) {}

  private ClusterJoin() {}

  public static Step step(State s, Situation now) {
    if (now.joined()) {
      return whileJoined(s, now);
    }
    State waiting = new State(s.notJoinedSince() < 0 ? now.nowMillis() : s.notJoinedSince(), s.asked(), -1);
    if (now.others().isEmpty()) {
      return new Step(waiting, new Form());
    }
    if (now.leading() && now.nowMillis() - waiting.notJoinedSince() >= FORM_AFTER.toMillis()) {
      return new Step(waiting, new Form());
    }
    List<Address> ask = now.leader().filter(l -> !now.leading() && !l.equals(now.self()))
        .map(List::of).orElse(now.others());
    if (ask.equals(s.asked())) {
      return new Step(waiting, new Wait());
    }
    return new Step(new State(waiting.notJoinedSince(), ask, -1), new Ask(ask));
  }

  private static Step whileJoined(State s, Situation now) {
    boolean leaderAbsent = now.leader().isPresent() && !now.leading() && !now.leader().get().equals(now.self())
        && !now.members().contains(now.leader().get());
    if (!leaderAbsent) {
      return new Step(new State(-1, List.of(), -1), new Wait());
    }
    long since = s.leaderAbsentSince() < 0 ? now.nowMillis() : s.leaderAbsentSince();
    State next = new State(-1, List.of(), since);
    if (now.nowMillis() - since >= RESTART_AFTER.toMillis()) {
      return new Step(next, new Restart(now.leader().get()));
    }
    return new Step(next, new Wait());
  }

  /**
   * The actor that applies {@link #step} each second. seeds: the managers a join named; the Raft
   * group's members are the others, at the same cluster port as this manager.
   */
  public static Behavior<Object> create(RaftLog log, List<Address> seeds) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      timers.startTimerWithFixedDelay("tick", "tick", Duration.ZERO, TICK);
      State[] state = {State.start(System.currentTimeMillis())};
      org.apache.pekko.cluster.Cluster classic = org.apache.pekko.cluster.Cluster.get(
          org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(ctx.getSystem()));
      return Behaviors.receive(Object.class).onMessageEquals("tick", () -> {
        if (classic.isTerminated()) {
          return Behaviors.stopped(); // removed: the membership starts again in a new system
        }
        Situation now = situation(cluster, log, seeds);
        Step step = step(state[0], now);
        state[0] = step.next();
        if (step.action() instanceof Ask a) {
          LOG.info("manager {} asks {} to let it into the swarm's cluster", log.selfId(), a.addresses());
          cluster.manager().tell(new JoinSeedNodes(a.addresses()));
        } else if (step.action() instanceof Form) {
          LOG.info("manager {} forms the swarm's cluster{}", log.selfId(), now.others().isEmpty()
              ? " (the only manager)" : " (it leads the Raft group and none of " + now.others() + " let it in)");
          cluster.manager().tell(new JoinSeedNodes(List.of(now.self())));
        } else if (step.action() instanceof Restart r) {
          LOG.warn("manager {} has been in a cluster without the swarm's leader {} for {}: starting its membership"
              + " again", log.selfId(), r.leader(), RESTART_AFTER);
          cluster.manager().tell(new Down(now.self()));
          return Behaviors.stopped();
        }
        return Behaviors.same();
      }).build();
    }));
  }

  private static Situation situation(Cluster cluster, RaftLog log, List<Address> seeds) {
    Member self = cluster.selfMember();
    // Removed is also the status before the first join; once in a cluster, a member never asks again.
    boolean joined = self.status() != MemberStatus.removed();
    Address selfAddress = self.address();
    int port = selfAddress.getPort().orElse(7946);
    List<Address> others = new ArrayList<>();
    List<RaftLog.Peer> peers = log.peers();
    // The join's seeds matter until the group counts this manager in; then its members are the others.
    if (peers.stream().noneMatch(p -> p.id().equals(log.selfId()))) {
      seeds.stream().filter(a -> !a.equals(selfAddress)).forEach(others::add);
    }
    Optional<Address> leader = Optional.empty();
    Optional<String> leaderId = log.leader();
    for (RaftLog.Peer p : peers) {
      Address a = new Address(selfAddress.protocol(), selfAddress.system(),
          p.address().substring(0, p.address().lastIndexOf(':')), port);
      if (!a.equals(selfAddress) && !others.contains(a)) {
        others.add(a);
      }
      if (leaderId.isPresent() && leaderId.get().equals(p.id())) {
        leader = Optional.of(a);
      }
    }
    Set<Address> members = new HashSet<>();
    cluster.state().getMembers().forEach(m -> {
      if (m.status() != MemberStatus.down() && m.status() != MemberStatus.removed()) {
        members.add(m.address());
      }
    });
    return new Situation(joined, selfAddress, others, leader, log.isLeader(), members, System.currentTimeMillis());
  }
}

package dev.swarmd.node;

import dev.swarmd.protocol.Cause;
import dev.swarmd.store.Entities;
import dev.swarmd.view.SwarmView;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Cluster membership is the node list's status: a node is ready while one incarnation of it is an
 * up, reachable member, down otherwise. Each member carries its node ID as the role "node:<id>".
 *
 * <p>Membership events of two incarnations of one node (a restarted worker on the same address)
 * may interleave, so the status is derived from all the members seen, never from one event; a
 * periodic resync corrects whatever a lost or reordered status write left behind. A member whose
 * node was removed from the swarm is downed: its certificate no longer gets it in.
 */
public final class Membership {
  /** After a manager restart, nodes get this long to come back before the journal's "ready" is corrected. */
  private static final Duration GRACE = Duration.ofSeconds(15);
  private static final Duration RESYNC = Duration.ofSeconds(5);

  private record Resync() implements ClusterEvent.ClusterDomainEvent {}

  /** One incarnation of a node in the cluster. */
  private record Incarnation(String nodeId, boolean up, boolean reachable) {
    boolean live() {
      return up && reachable;
    }
  }

  private final ActorContext<ClusterEvent.ClusterDomainEvent> ctx;
  private final Entities entities;
  private final SwarmView view;
  private final Map<UniqueAddress, Incarnation> members = new HashMap<>();
  /** The status last written per node: the view lags the writes in flight. */
  private final Map<String, Boolean> written = new HashMap<>();

  private Membership(ActorContext<ClusterEvent.ClusterDomainEvent> ctx, Entities entities, SwarmView view) {
    this.ctx = ctx;
    this.entities = entities;
    this.view = view;
  }

  public static Behavior<ClusterEvent.ClusterDomainEvent> create(Entities entities, SwarmView view) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      cluster.subscriptions().tell(
          Subscribe.<ClusterEvent.MemberEvent>create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.<ClusterEvent.ReachabilityEvent>create(ctx.getSelf().narrow(),
          ClusterEvent.ReachabilityEvent.class));
      timers.startTimerWithFixedDelay(new Resync(), GRACE, RESYNC);
      return new Membership(ctx, entities, view).behavior();
    }));
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> behavior() {
    return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
        .onMessage(ClusterEvent.MemberUp.class, e -> up(e.member()))
        .onMessage(ClusterEvent.MemberWeaklyUp.class, e -> up(e.member()))
        .onMessage(ClusterEvent.ReachableMember.class, e -> reachable(e.member(), true, null))
        .onMessage(ClusterEvent.UnreachableMember.class, e -> reachable(e.member(), false, "heartbeat failure"))
        .onMessage(ClusterEvent.MemberDowned.class, e -> gone(e.member(), "heartbeat failure"))
        .onMessage(ClusterEvent.MemberLeft.class, e -> gone(e.member(), "node left the cluster"))
        .onMessage(ClusterEvent.MemberExited.class, e -> gone(e.member(), "node left the cluster"))
        .onMessage(ClusterEvent.MemberRemoved.class, e -> removed(e.member()))
        .onMessage(Resync.class, r -> resync())
        .onAnyMessage(e -> Behaviors.same())
        .build();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> up(Member member) {
    Optional<String> nodeId = nodeId(member);
    if (nodeId.isEmpty()) {
      return Behaviors.same();
    }
    if (view.node(nodeId.get()).isEmpty() && !member.hasRole("manager")) {
      ctx.getLog().warn("member {} claims node {}, which is not in the swarm: downing it", member.address(),
          nodeId.get());
      Cluster.get(ctx.getSystem()).manager().tell(new Down(member.address()));
      return Behaviors.same();
    }
    Incarnation was = members.get(member.uniqueAddress());
    members.put(member.uniqueAddress(), new Incarnation(nodeId.get(), true, was == null || was.reachable()));
    return settle(nodeId.get(), "heartbeat failure");
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> reachable(Member member, boolean reachable, String reason) {
    Optional<String> nodeId = nodeId(member);
    if (nodeId.isEmpty()) {
      return Behaviors.same();
    }
    Incarnation was = members.get(member.uniqueAddress());
    boolean up = was == null
        ? member.status() == MemberStatus.up() || member.status() == MemberStatus.weaklyUp() : was.up();
    members.put(member.uniqueAddress(), new Incarnation(nodeId.get(), up, reachable));
    return settle(nodeId.get(), reason);
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> gone(Member member, String reason) {
    Optional<String> nodeId = nodeId(member);
    if (nodeId.isEmpty()) {
      return Behaviors.same();
    }
    members.put(member.uniqueAddress(), new Incarnation(nodeId.get(), false, false));
    return settle(nodeId.get(), reason);
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> removed(Member member) {
    Optional<String> nodeId = nodeId(member);
    if (nodeId.isEmpty()) {
      return Behaviors.same();
    }
    members.remove(member.uniqueAddress());
    return settle(nodeId.get(), "node left the cluster");
  }

  /** Writes the node's derived status if it differs from what the node list says. */
  private Behavior<ClusterEvent.ClusterDomainEvent> settle(String nodeId, String downReason) {
    boolean live = live(nodeId);
    view.node(nodeId).ifPresent(n -> {
      if (live != written.getOrDefault(nodeId, n.ready())) {
        write(nodeId, live ? "ready" : "down", live ? null : downReason, "member " + (live ? "up" : "gone"));
      }
    });
    return Behaviors.same();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> resync() {
    view.nodes().stream().filter(NodeEntity.State::exists).forEach(n -> {
      boolean live = live(n.id());
      if (live && !n.ready()) {
        write(n.id(), "ready", null, "member up (resync)");
      } else if (!live && n.ready()) {
        write(n.id(), "down", "heartbeat failure", "not an up member (resync)");
      }
    });
    return Behaviors.same();
  }

  private boolean live(String nodeId) {
    return members.values().stream().anyMatch(i -> i.nodeId().equals(nodeId) && i.live());
  }

  private void write(String nodeId, String state, String message, String reason) {
    written.put(nodeId, state.equals("ready"));
    ctx.getLog().info("node {} is {} ({})", nodeId, state, reason);
    entities.node(nodeId, r -> new NodeEntity.SetStatus(state, message, Cause.loop("membership", reason), r));
  }

  private static Optional<String> nodeId(Member member) {
    return member.getRoles().stream().filter(r -> r.startsWith("node:")).findFirst()
        .map(r -> r.substring("node:".length()));
  }
}

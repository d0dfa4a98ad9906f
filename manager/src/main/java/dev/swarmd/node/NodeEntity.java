package dev.swarmd.node;

import dev.swarmd.persistence.Journal;
import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.store.Sealable;
import dev.swarmd.store.Stamp;
import dev.swarmd.store.VersionClock;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/** A swarm node: what the user set (spec), what it reported (description), and whether it is up. */
public final class NodeEntity extends EventSourcedBehavior<NodeEntity.Command, NodeEntity.Event, NodeEntity.State> {

  public static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "Node");

  public sealed interface Command extends CborSerializable {}

  /**
   * Creates the node or refreshes its description. status is the new node's: "ready" for a node
   * registering itself, "unknown" for one the join endpoint admits before it is a cluster member.
   */
  public record Register(
      NodeSpec spec, NodeDescription description, String addr, String managerAddr, String status, Cause cause,
      ActorRef<Reply> replyTo)
      implements Command {}

  public record UpdateSpec(NodeSpec spec, long expectedVersion, Cause cause, ActorRef<Reply> replyTo)
      implements Command {}

  /** state: ready, down, unknown, disconnected (Docker's NodeState). */
  public record SetStatus(String state, String message, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Remove(Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  public record Reply(State state, Failure failure) implements CborSerializable {}

  public sealed interface Event extends CborSerializable, Sealable<Event> {}

  public record Registered(NodeSpec spec, NodeDescription description, String addr, String managerAddr,
      String status, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Registered(spec, description, addr, managerAddr, status, s);
    }
  }

  public record DescriptionChanged(NodeDescription description, String addr, String managerAddr, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new DescriptionChanged(description, addr, managerAddr, s);
    }
  }

  public record SpecUpdated(NodeSpec spec, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new SpecUpdated(spec, s);
    }
  }

  public record StatusChanged(String state, String message, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new StatusChanged(state, message, s);
    }
  }

  public record Removed(Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Removed(s);
    }
  }

  public record State(
      String id,
      boolean exists,
      NodeSpec spec,
      NodeDescription description,
      String addr,
      String managerAddr,
      String statusState,
      String statusMessage,
      long version,
      Instant createdAt,
      Instant updatedAt)
      implements CborSerializable {

    public static State empty(String id) {
      return new State(id, false, null, null, null, null, "unknown", null, 0, null, null);
    }

    public State apply(Event event) {
      Stamp st = event.stamp();
      if (event instanceof Registered r) {
        return new State(id, true, r.spec(), r.description(), r.addr(), r.managerAddr(), r.status(), null,
            st.index(), st.at(), st.at());
      }
      if (event instanceof DescriptionChanged d) {
        return new State(id, true, spec, d.description(), d.addr(), d.managerAddr(), statusState, statusMessage,
            st.index(), createdAt, st.at());
      }
      if (event instanceof SpecUpdated s) {
        return new State(id, true, s.spec(), description, addr, managerAddr, statusState, statusMessage,
            st.index(), createdAt, st.at());
      }
      if (event instanceof StatusChanged s) {
        return new State(id, true, spec, description, addr, managerAddr, s.state(), s.message(),
            st.index(), createdAt, st.at());
      }
      return new State(id, false, spec, description, addr, managerAddr, "down", statusMessage, st.index(),
          createdAt, st.at());
    }

    public boolean ready() {
      return "ready".equals(statusState);
    }
  }

  private final String id;
  private final VersionClock clock;

  public static Behavior<Command> create(String id, VersionClock clock) {
    return new NodeEntity(id, clock);
  }

  private NodeEntity(String id, VersionClock clock) {
    super(PersistenceId.of(KEY.name(), id));
    this.id = id;
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return State.empty(id);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Register.class, this::onRegister)
        .onCommand(UpdateSpec.class, this::onUpdateSpec)
        .onCommand(SetStatus.class, this::onSetStatus)
        .onCommand(Remove.class, this::onRemove)
        .onCommand(Get.class, (s, c) -> s.exists() ? Effect().reply(c.replyTo(), ok(s)) : notFound(c.replyTo()))
        .build();
  }

  private Effect<Event, State> onRegister(State s, Register c) {
    if (!s.exists()) {
      if (s.version() > 0) {
        return refuse(c.replyTo(), Failure.Kind.PRECONDITION, "node " + id + " was removed from the swarm");
      }
      return persist(new Registered(c.spec(), c.description(), c.addr(), c.managerAddr(), c.status(),
          Stamp.of(c.cause())), c.replyTo());
    }
    if (Objects.equals(s.description(), c.description()) && Objects.equals(s.addr(), c.addr())
        && Objects.equals(s.managerAddr(), c.managerAddr())) {
      return Effect().reply(c.replyTo(), ok(s));
    }
    return persist(new DescriptionChanged(c.description(), c.addr(), c.managerAddr(), Stamp.of(c.cause())),
        c.replyTo());
  }

  private Effect<Event, State> onUpdateSpec(State s, UpdateSpec c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (c.expectedVersion() != s.version()) {
      return refuse(c.replyTo(), Failure.Kind.OUT_OF_SEQUENCE, "update out of sequence");
    }
    return persist(new SpecUpdated(c.spec(), Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onSetStatus(State s, SetStatus c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (c.state().equals(s.statusState()) && Objects.equals(c.message(), s.statusMessage())) {
      return Effect().reply(c.replyTo(), ok(s));
    }
    return persist(new StatusChanged(c.state(), c.message(), Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onRemove(State s, Remove c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    return persist(new Removed(Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> persist(Event e, ActorRef<Reply> replyTo) {
    return Effect().persist(clock.seal(persistenceId().id(), e))
        .thenReply(replyTo, NodeEntity::ok);
  }

  private static Reply ok(State s) {
    return new Reply(s, null);
  }

  private Effect<Event, State> refuse(ActorRef<Reply> replyTo, Failure.Kind kind, String message) {
    return Effect().reply(replyTo, new Reply(null, Failure.of(kind, message)));
  }

  private Effect<Event, State> notFound(ActorRef<Reply> replyTo) {
    return refuse(replyTo, Failure.Kind.NOT_FOUND, "node " + id + " not found");
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(Journal.ALL);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}

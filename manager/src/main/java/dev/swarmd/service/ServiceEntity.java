package dev.swarmd.service;

import dev.swarmd.persistence.Journal;
import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.store.Sealable;
import dev.swarmd.store.Stamp;
import dev.swarmd.store.VersionClock;
import java.time.Instant;
import java.util.List;
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

/** A service: its spec, the spec before the last update, and its version. */
public final class ServiceEntity
    extends EventSourcedBehavior<ServiceEntity.Command, ServiceEntity.Event, ServiceEntity.State> {

  public static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "Service");

  public sealed interface Command extends CborSerializable {}

  /**
   * ports: the endpoint ports allocated for the spec (dynamic published ports filled in); virtualIp:
   * the address allocated for its name in endpoint mode vip, null in dnsrr.
   */
  public record Create(ServiceSpec spec, List<ServiceSpec.PortConfig> ports, String virtualIp, Cause cause,
      ActorRef<Reply> replyTo) implements Command {}

  /** expectedVersion is the Version.Index the client read; a stale one is refused. */
  public record Update(ServiceSpec spec, List<ServiceSpec.PortConfig> ports, String virtualIp, long expectedVersion,
      Cause cause, ActorRef<Reply> replyTo) implements Command {}

  /** Swaps the spec and the previous spec (and their ports), as `docker service rollback` does. */
  public record Rollback(long expectedVersion, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Remove(Cause cause, ActorRef<Reply> replyTo) implements Command {}

  /** FailureAction rollback: the updater saw failedTaskId (of the current spec) fail. */
  public record AutoRollback(String failedTaskId, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  /** From the orchestrator: how the rollout of the current spec goes (Docker's UpdateStatus). */
  /**
   * From the control loop, decided on the service at expectedVersion: ignored if the service has
   * changed since, or a status meant for one update would land on the next.
   */
  public record SetUpdateStatus(UpdateStatus status, long expectedVersion, Cause cause, ActorRef<Reply> replyTo)
      implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  public record Reply(State state, Failure failure) implements CborSerializable {
    static Reply ok(State s) {
      return new Reply(s, null);
    }

    static Reply fail(Failure.Kind kind, String message) {
      return new Reply(null, Failure.of(kind, message));
    }
  }

  public sealed interface Event extends CborSerializable, Sealable<Event> {}

  /** virtualIp: null for a dnsrr service, and in events journaled before virtual IPs existed. */
  public record Created(ServiceSpec spec, List<ServiceSpec.PortConfig> ports, String virtualIp, Stamp stamp)
      implements Event {
    public Created(ServiceSpec spec, List<ServiceSpec.PortConfig> ports, Stamp stamp) {
      this(spec, ports, null, stamp);
    }

    @Override
    public Event withStamp(Stamp s) {
      return new Created(spec, ports, virtualIp, s);
    }
  }

  public record Updated(ServiceSpec spec, ServiceSpec previous, List<ServiceSpec.PortConfig> ports,
      List<ServiceSpec.PortConfig> previousPorts, String virtualIp, UpdateStatus updateStatus, Stamp stamp)
      implements Event {
    public Updated(ServiceSpec spec, ServiceSpec previous, List<ServiceSpec.PortConfig> ports,
        List<ServiceSpec.PortConfig> previousPorts, UpdateStatus updateStatus, Stamp stamp) {
      this(spec, previous, ports, previousPorts, null, updateStatus, stamp);
    }

    @Override
    public Event withStamp(Stamp s) {
      return new Updated(spec, previous, ports, previousPorts, virtualIp, updateStatus, s);
    }
  }

  public record Removed(Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Removed(s);
    }
  }

  public record UpdateStatusChanged(UpdateStatus status, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new UpdateStatusChanged(status, s);
    }
  }

  /** Docker's UpdateStatus; state is one of updating, paused, completed, rollback_*. */
  public record UpdateStatus(String state, Instant startedAt, Instant completedAt, String message)
      implements CborSerializable {}

  public record State(
      String id,
      boolean exists,
      ServiceSpec spec,
      ServiceSpec previousSpec,
      long version,
      Instant createdAt,
      Instant updatedAt,
      UpdateStatus updateStatus,
      List<ServiceSpec.PortConfig> ports,
      List<ServiceSpec.PortConfig> previousPorts,
      String virtualIp)
      implements CborSerializable {

    public State(String id, boolean exists, ServiceSpec spec, ServiceSpec previousSpec, long version,
        Instant createdAt, Instant updatedAt, UpdateStatus updateStatus, List<ServiceSpec.PortConfig> ports,
        List<ServiceSpec.PortConfig> previousPorts) {
      this(id, exists, spec, previousSpec, version, createdAt, updatedAt, updateStatus, ports, previousPorts, null);
    }

    public static State empty(String id) {
      return new State(id, false, null, null, 0, null, null, null, null, null, null);
    }

    public State apply(Event event) {
      Stamp st = event.stamp();
      if (event instanceof Created c) {
        return new State(id, true, c.spec(), null, st.index(), st.at(), st.at(), null, c.ports(), null,
            c.virtualIp());
      }
      if (event instanceof Updated u) {
        return new State(id, true, u.spec(), u.previous(), st.index(), createdAt, st.at(), u.updateStatus(),
            u.ports(), u.previousPorts(), u.virtualIp());
      }
      if (event instanceof UpdateStatusChanged u) {
        return new State(id, true, spec, previousSpec, st.index(), createdAt, st.at(), u.status(), ports,
            previousPorts, virtualIp);
      }
      return new State(id, false, spec, previousSpec, st.index(), createdAt, st.at(), updateStatus, ports,
          previousPorts, virtualIp);
    }

    /** The virtual IP the service's name answers with: its own in endpoint mode vip, none in dnsrr. */
    public String activeVirtualIp() {
      boolean vip = spec.endpoint() == null || spec.endpoint().mode() == null || spec.endpoint().mode().equals("vip");
      return vip ? virtualIp : null;
    }

    /**
     * The endpoint's ports as allocated (Docker's Endpoint.Ports): the spec's, with dynamic
     * published ports filled in. Services journaled before allocation existed have the spec's own.
     */
    public List<ServiceSpec.PortConfig> endpointPorts() {
      return ports != null ? ports : spec.endpoint() == null ? List.of() : spec.endpoint().ports();
    }

    private List<ServiceSpec.PortConfig> previousEndpointPorts() {
      return previousPorts != null ? previousPorts
          : previousSpec.endpoint() == null ? List.of() : previousSpec.endpoint().ports();
    }
  }

  private final String id;
  private final VersionClock clock;

  public static Behavior<Command> create(String id, VersionClock clock) {
    return new ServiceEntity(id, clock);
  }

  private ServiceEntity(String id, VersionClock clock) {
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
        .onCommand(Create.class, this::onCreate)
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Rollback.class, this::onRollback)
        .onCommand(Remove.class, this::onRemove)
        .onCommand(SetUpdateStatus.class, this::onSetUpdateStatus)
        .onCommand(AutoRollback.class, this::onAutoRollback)
        .onCommand(Get.class, (s, c) -> reply(c.replyTo(), s))
        .build();
  }

  private Effect<Event, State> onCreate(State s, Create c) {
    if (s.exists() || s.version() > 0) {
      return Effect().reply(c.replyTo(), Reply.fail(Failure.Kind.CONFLICT, "service " + id + " already exists"));
    }
    return persist(new Created(c.spec(), List.copyOf(c.ports()), c.virtualIp(), Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onUpdate(State s, Update c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (c.expectedVersion() != s.version()) {
      return Effect().reply(c.replyTo(), Reply.fail(Failure.Kind.OUT_OF_SEQUENCE, "update out of sequence"));
    }
    // As swarmkit: the spec being replaced becomes PreviousSpec and UpdateStatus is cleared.
    return persist(new Updated(c.spec(), s.spec(), List.copyOf(c.ports()), s.endpointPorts(), c.virtualIp(), null,
        Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onRollback(State s, Rollback c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (c.expectedVersion() != s.version()) {
      return Effect().reply(c.replyTo(), Reply.fail(Failure.Kind.OUT_OF_SEQUENCE, "update out of sequence"));
    }
    if (s.previousSpec() == null) {
      return Effect().reply(c.replyTo(),
          Reply.fail(Failure.Kind.PRECONDITION, "service " + id + " does not have a previous spec"));
    }
    Stamp stamp = Stamp.of(c.cause());
    UpdateStatus started = new UpdateStatus("rollback_started", stamp.at(), null, "manually requested rollback");
    return persist(rollback(s, started, stamp), c.replyTo());
  }

  private Effect<Event, State> onRemove(State s, Remove c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    return persist(new Removed(Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onAutoRollback(State s, AutoRollback c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    Stamp stamp = Stamp.of(c.cause());
    String why = "failure or early termination of task " + c.failedTaskId();
    if (s.previousSpec() == null) {
      UpdateStatus paused = new UpdateStatus("paused", startedAt(s, stamp), null, "update paused due to " + why);
      return persist(new UpdateStatusChanged(paused, stamp), c.replyTo());
    }
    UpdateStatus rolling = new UpdateStatus("rollback_started", stamp.at(), null, "update rolled back due to " + why);
    return persist(rollback(s, rolling, stamp), c.replyTo());
  }

  private static Updated rollback(State s, UpdateStatus status, Stamp stamp) {
    return new Updated(s.previousSpec(), s.spec(), s.previousEndpointPorts(), s.endpointPorts(), s.virtualIp(), status,
        stamp);
  }

  private static Instant startedAt(State s, Stamp stamp) {
    return s.updateStatus() != null && s.updateStatus().startedAt() != null ? s.updateStatus().startedAt() : stamp.at();
  }

  private Effect<Event, State> onSetUpdateStatus(State s, SetUpdateStatus c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (s.version() != c.expectedVersion()) {
      return Effect().reply(c.replyTo(), Reply.ok(s));
    }
    return persist(new UpdateStatusChanged(c.status(), Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> persist(Event e, ActorRef<Reply> replyTo) {
    return Effect().persist(clock.seal(persistenceId().id(), e))
        .thenReply(replyTo, Reply::ok);
  }

  private Effect<Event, State> reply(ActorRef<Reply> replyTo, State s) {
    return s.exists() ? Effect().reply(replyTo, Reply.ok(s)) : notFound(replyTo);
  }

  private Effect<Event, State> notFound(ActorRef<Reply> replyTo) {
    return Effect().reply(replyTo, Reply.fail(Failure.Kind.NOT_FOUND, "service " + id + " not found"));
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

package dev.swarmd.task;

import dev.swarmd.persistence.Journal;
import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
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

/**
 * One task: a slot of a service (or a node, for global services) running one container. Its
 * observed state only moves forward, as in swarmkit.
 */
public final class TaskEntity extends EventSourcedBehavior<TaskEntity.Command, TaskEntity.Event, TaskEntity.State> {

  public static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "Task");

  public sealed interface Command extends CborSerializable {}

  public record Create(Definition definition, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Assign(String nodeId, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  /** A status from the agent of nodeId, or from a manager loop (nodeId null). */
  public record Report(String nodeId, Status status, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record SetDesired(TaskState desired, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Delete(Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  public record Reply(State state, Failure failure) implements CborSerializable {}

  /**
   * What a task is created with. nodeId is set up front for global tasks. notBefore: the restart delay, before
   * which no node is handed the task (the scheduler does not place it, the dispatcher does not hand it over).
   * ports: the service's endpoint ports then (a change of them replaces the task, as in swarmkit).
   */
  public record Definition(
      String serviceId,
      String serviceName,
      int slot,
      String nodeId,
      ServiceSpec.TaskSpec spec,
      long specVersion,
      TaskState desired,
      Instant notBefore,
      List<ServiceSpec.PortConfig> ports)
      implements CborSerializable {
    public List<ServiceSpec.PortConfig> endpointPorts() {
      return ports == null ? List.of() : ports;
    }
  }

  /** ports: how the container's ports were bound on its node (host port in publishedPort), once it runs. */
  public record Status(
      TaskState state, String message, String err, Instant timestamp, String containerId, Integer exitCode,
      Integer pid, List<ServiceSpec.PortConfig> ports, String address)
      implements CborSerializable {
    public static Status of(TaskState state, String message) {
      return new Status(state, message, null, Instant.now(), null, null, null, null, null);
    }

    public List<ServiceSpec.PortConfig> boundPorts() {
      return ports == null ? List.of() : ports;
    }
  }

  public sealed interface Event extends CborSerializable, Sealable<Event> {}

  public record Created(Definition definition, Status status, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Created(definition, status, s);
    }
  }

  public record Assigned(String nodeId, Status status, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Assigned(nodeId, status, s);
    }
  }

  public record StatusChanged(Status status, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new StatusChanged(status, s);
    }
  }

  public record DesiredChanged(TaskState desired, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new DesiredChanged(desired, s);
    }
  }

  public record Deleted(Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Deleted(s);
    }
  }

  /** runningAt: when the task was first reported running (null until then), for the updater's Monitor window. */
  public record State(
      String id,
      boolean exists,
      Definition definition,
      String nodeId,
      TaskState desired,
      Status status,
      long version,
      Instant createdAt,
      Instant updatedAt,
      Instant runningAt)
      implements CborSerializable {

    public static State empty(String id) {
      return new State(id, false, null, null, null, null, 0, null, null, null);
    }

    public State apply(Event event) {
      Stamp st = event.stamp();
      if (event instanceof Created c) {
        return new State(id, true, c.definition(), c.definition().nodeId(), c.definition().desired(), c.status(),
            st.index(), st.at(), st.at(), null);
      }
      if (event instanceof Assigned a) {
        return new State(id, true, definition, a.nodeId(), desired, a.status(), st.index(), createdAt, st.at(),
            runningAt);
      }
      if (event instanceof StatusChanged s) {
        Instant running = runningAt == null && s.status().state() == TaskState.RUNNING ? s.status().timestamp()
            : runningAt;
        return new State(id, true, definition, nodeId, desired, s.status(), st.index(), createdAt, st.at(), running);
      }
      if (event instanceof DesiredChanged d) {
        return new State(id, true, definition, nodeId, d.desired(), status, st.index(), createdAt, st.at(),
            runningAt);
      }
      return new State(id, false, definition, nodeId, desired, status, st.index(), createdAt, st.at(), runningAt);
    }

    public TaskState state() {
      return status.state();
    }
  }

  private final String id;
  private final VersionClock clock;

  public static Behavior<Command> create(String id, VersionClock clock) {
    return new TaskEntity(id, clock);
  }

  private TaskEntity(String id, VersionClock clock) {
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
        .onCommand(Assign.class, this::onAssign)
        .onCommand(Report.class, this::onReport)
        .onCommand(SetDesired.class, this::onSetDesired)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(Get.class, (s, c) -> s.exists() ? Effect().reply(c.replyTo(), ok(s)) : notFound(c.replyTo()))
        .build();
  }

  private Effect<Event, State> onCreate(State s, Create c) {
    if (s.version() > 0) {
      return refuse(c.replyTo(), Failure.Kind.CONFLICT, "task " + id + " already exists");
    }
    Definition d = c.definition();
    Status initial = d.nodeId() == null
        ? Status.of(TaskState.PENDING, "pending task scheduling")
        : Status.of(TaskState.ASSIGNED, "scheduler assigned task to node");
    return persist(new Created(d, initial, Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onAssign(State s, Assign c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (s.nodeId() != null || s.state() != TaskState.PENDING) {
      return refuse(c.replyTo(), Failure.Kind.CONFLICT, "task " + id + " is already assigned");
    }
    Status assigned = Status.of(TaskState.ASSIGNED, "scheduler assigned task to node");
    return persist(new Assigned(c.nodeId(), assigned, Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onReport(State s, Report c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (c.nodeId() != null && !c.nodeId().equals(s.nodeId())) {
      return refuse(c.replyTo(), Failure.Kind.PRECONDITION, "task " + id + " is not assigned to node " + c.nodeId());
    }
    Status next = c.status();
    boolean forward = next.state().compareTo(s.state()) > 0;
    // Only a pending task's message may change in place ("no suitable node"); states never go back.
    boolean newMessage = next.state() == s.state() && s.state() == TaskState.PENDING
        && !java.util.Objects.equals(next.err(), s.status().err());
    if (!forward && !newMessage) {
      return Effect().reply(c.replyTo(), ok(s));
    }
    return persist(new StatusChanged(next, Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onSetDesired(State s, SetDesired c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    if (s.desired() == c.desired()) {
      return Effect().reply(c.replyTo(), ok(s));
    }
    return persist(new DesiredChanged(c.desired(), Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> onDelete(State s, Delete c) {
    if (!s.exists()) {
      return notFound(c.replyTo());
    }
    return persist(new Deleted(Stamp.of(c.cause())), c.replyTo());
  }

  private Effect<Event, State> persist(Event e, ActorRef<Reply> replyTo) {
    return Effect().persist(clock.seal(persistenceId().id(), e))
        .thenReply(replyTo, TaskEntity::ok);
  }

  private static Reply ok(State s) {
    return new Reply(s, null);
  }

  private Effect<Event, State> refuse(ActorRef<Reply> replyTo, Failure.Kind kind, String message) {
    return Effect().reply(replyTo, new Reply(null, Failure.of(kind, message)));
  }

  private Effect<Event, State> notFound(ActorRef<Reply> replyTo) {
    return refuse(replyTo, Failure.Kind.NOT_FOUND, "task " + id + " not found");
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
    return RetentionCriteria.snapshotEvery(20, 2);
  }
}

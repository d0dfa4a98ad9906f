package dev.swarmd.audit;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.Stamp;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The journal told as Docker's events: folds the events in write order into the states of their
 * objects and, with the state before and after each event in hand, says what changed as {@link
 * AuditEntry}s. A task's changes are told as its container's ("start", "die", "destroy"). Not
 * thread-safe: one reader of the journal drives it.
 */
public final class AuditTrail {
  public static final String SERVICE_ID = "com.docker.swarm.service.id";
  public static final String SERVICE_NAME = "com.docker.swarm.service.name";
  public static final String TASK_ID = "com.docker.swarm.task.id";
  public static final String NODE_ID = "com.docker.swarm.node.id";

  private final boolean taskEntries;
  private final Map<String, ServiceEntity.State> services = new HashMap<>();
  private final Map<String, Task> tasks = new HashMap<>();
  private final Map<String, NodeEntity.State> nodes = new HashMap<>();
  private SwarmEntity.State swarm = SwarmEntity.State.empty();

  /**
   * A task's state and its container's ID as last reported: later statuses (a shutdown ordered by the
   * manager, say) may not carry it, yet its destroy is told under it.
   */
  private record Task(TaskEntity.State state, String containerId) {}

  /** Docker's events: a task is told through its container only. */
  public AuditTrail() {
    this(false);
  }

  /**
   * taskEntries: also tell every task event as a "task" entry (created, assigned, its state and desired
   * state changed, removed) with its cause: the scheduler's placements, restarts, replacements of the tasks
   * of a node gone down, update steps. The audit's own view; Docker's events have no task type.
   */
  public AuditTrail(boolean taskEntries) {
    this.taskEntries = taskEntries;
  }

  /** The entries for the journal's next event; unknown persistence IDs and events give none. */
  public List<AuditEntry> apply(String persistenceId, long sequenceNr, Object event) {
    int bar = persistenceId.indexOf('|');
    if (bar < 0) {
      return List.of();
    }
    String type = persistenceId.substring(0, bar);
    String id = persistenceId.substring(bar + 1);
    Where where = new Where(persistenceId, sequenceNr);
    if (type.equals(ServiceEntity.KEY.name()) && event instanceof ServiceEntity.Event e) {
      return service(id, e, where);
    }
    if (type.equals(TaskEntity.KEY.name()) && event instanceof TaskEntity.Event e) {
      return task(id, e, where);
    }
    if (type.equals(NodeEntity.KEY.name()) && event instanceof NodeEntity.Event e) {
      return node(id, e, where);
    }
    if (type.equals(SwarmEntity.KEY.name()) && event instanceof SwarmEntity.Event e) {
      return swarm(id, e, where);
    }
    return List.of();
  }

  /** Where in the journal an event comes from. */
  private record Where(String persistenceId, long sequenceNr) {
    List<AuditEntry> entry(Stamp st, String type, String action, String id, Map<String, String> attributes) {
      return List.of(new AuditEntry(st.index(), st.at(), st.cause(), type, action, id,
          AuditEntry.attributes(attributes), persistenceId, sequenceNr));
    }
  }

  private List<AuditEntry> service(String id, ServiceEntity.Event e, Where where) {
    ServiceEntity.State before = services.getOrDefault(id, ServiceEntity.State.empty(id));
    ServiceEntity.State after = before.apply(e);
    keep(services, id, after, after.exists());
    if (after.spec() == null) {
      return List.of(); // an event for a service whose creation we never saw: nothing to name it by
    }
    Map<String, String> attrs = new TreeMap<>();
    attrs.put("name", after.spec().name());
    String action = "update";
    if (e instanceof ServiceEntity.Created) {
      action = "create";
    } else if (e instanceof ServiceEntity.Removed) {
      action = "remove";
    } else {
      if (e instanceof ServiceEntity.Updated && before.exists()) {
        changed(attrs, "image", image(before.spec()), image(after.spec()));
        changed(attrs, "replicas", replicas(before.spec()), replicas(after.spec()));
      }
      updateState(attrs, before.updateStatus(), after.updateStatus());
    }
    return where.entry(e.stamp(), "service", action, id, attrs);
  }

  /** Holds an object's state while it exists, so that memory follows the live objects, not the history. */
  private static <S> void keep(Map<String, S> states, String id, S state, boolean exists) {
    if (exists) {
      states.put(id, state);
    } else {
      states.remove(id);
    }
  }

  private static String image(ServiceSpec spec) {
    return spec.task().container().image();
  }

  /** The replica count of a replicated service; null for a global one, which has none to tell. */
  private static String replicas(ServiceSpec spec) {
    return spec.mode() != null && spec.mode().kind() == ServiceSpec.ModeKind.REPLICATED
        ? String.valueOf(spec.mode().replicas()) : null;
  }

  /** updatestate.new whenever there is an update status; .old when it was another state. */
  private static void updateState(Map<String, String> attrs, ServiceEntity.UpdateStatus before,
      ServiceEntity.UpdateStatus after) {
    if (after == null) {
      return;
    }
    attrs.put("updatestate.new", after.state());
    if (before != null && !before.state().equals(after.state())) {
      attrs.put("updatestate.old", before.state());
    }
  }

  /** key.old and key.new when both are known and differ, as Docker's update attributes. */
  private static void changed(Map<String, String> attrs, String key, String before, String after) {
    if (before != null && after != null && !before.equals(after)) {
      attrs.put(key + ".old", before);
      attrs.put(key + ".new", after);
    }
  }

  private List<AuditEntry> node(String id, NodeEntity.Event e, Where where) {
    NodeEntity.State before = nodes.getOrDefault(id, NodeEntity.State.empty(id));
    NodeEntity.State after = before.apply(e);
    keep(nodes, id, after, after.exists());
    if (after.spec() == null || after.description() == null) {
      return List.of(); // an event for a node whose registration we never saw: nothing to name it by
    }
    Map<String, String> attrs = new TreeMap<>();
    attrs.put("name", nodeName(after));
    String action = "update";
    if (e instanceof NodeEntity.DescriptionChanged) {
      return List.of(); // Docker has no event for what a node reports about itself
    }
    if (e instanceof NodeEntity.Registered) {
      // A node that exists registering again (after a restart) is an update, not a new node.
      if (!before.exists()) {
        action = "create";
      } else {
        changed(attrs, "state", before.statusState(), after.statusState());
      }
    } else if (e instanceof NodeEntity.SpecUpdated && before.exists()) {
      changed(attrs, "name", nodeName(before), nodeName(after));
      changed(attrs, "availability", before.spec().availability(), after.spec().availability());
      changed(attrs, "role", before.spec().role(), after.spec().role());
    } else if (e instanceof NodeEntity.StatusChanged) {
      if (Objects.equals(before.statusState(), after.statusState())) {
        return List.of(); // only its message changed, which Docker does not tell
      }
      changed(attrs, "state", before.statusState(), after.statusState());
    } else if (e instanceof NodeEntity.Removed) {
      action = "remove";
    }
    return where.entry(e.stamp(), "node", action, id, attrs);
  }

  /** Docker's node name: the one the user set, else the node's hostname. */
  private static String nodeName(NodeEntity.State n) {
    String name = n.spec().name();
    return name != null && !name.isEmpty() ? name : n.description().hostname();
  }

  private List<AuditEntry> task(String id, TaskEntity.Event e, Where where) {
    Task before = tasks.getOrDefault(id, new Task(TaskEntity.State.empty(id), null));
    TaskEntity.State state = before.state().apply(e);
    String reported = state.status() == null ? null : state.status().containerId();
    Task after = new Task(state, reported != null ? reported : before.containerId());
    keep(tasks, id, after, state.exists());
    if (state.definition() == null) {
      return List.of(); // an event for a task whose creation we never saw: nothing to name it by
    }
    List<AuditEntry> entries = new ArrayList<>(2);
    if (taskEntries) {
      entries.addAll(where.entry(e.stamp(), "task", taskAction(e), id, taskAttributes(before.state(), state, e)));
    }
    String action = containerAction(before, after, e);
    if (action != null) {
      Map<String, String> attrs = containerAttributes(after.state());
      if (action.equals("die") && state.status().exitCode() != null) {
        attrs.put("exitCode", String.valueOf(state.status().exitCode()));
      }
      String containerId = after.containerId() != null ? after.containerId() : id;
      entries.addAll(where.entry(e.stamp(), "container", action, containerId, attrs));
    }
    return entries;
  }

  private static String taskAction(TaskEntity.Event e) {
    if (e instanceof TaskEntity.Created) {
      return "create";
    }
    if (e instanceof TaskEntity.Assigned) {
      return "assign";
    }
    return e instanceof TaskEntity.Deleted ? "remove" : "update";
  }

  /** A task as `docker service ps` names it, its service and node, and what the event changed. */
  private static Map<String, String> taskAttributes(TaskEntity.State before, TaskEntity.State after,
      TaskEntity.Event e) {
    TaskEntity.Definition d = after.definition();
    Map<String, String> attrs = new TreeMap<>();
    attrs.put("name", d.serviceName() + "." + (d.slot() > 0 ? String.valueOf(d.slot()) : after.nodeId()));
    attrs.put(SERVICE_ID, d.serviceId());
    attrs.put(SERVICE_NAME, d.serviceName());
    if (after.nodeId() != null) {
      attrs.put(NODE_ID, after.nodeId());
    }
    if (e instanceof TaskEntity.Created) {
      attrs.put("desiredstate.new", name(after.desired()));
      attrs.put("state.new", name(after.state()));
    } else {
      changed(attrs, "state", name(before.state()), name(after.state()));
      changed(attrs, "desiredstate", name(before.desired()), name(after.desired()));
    }
    TaskEntity.Status status = e instanceof TaskEntity.StatusChanged c ? c.status()
        : e instanceof TaskEntity.Assigned a ? a.status() : null;
    if (status != null) {
      if (status.err() != null && !status.err().isEmpty()) {
        attrs.put("error", status.err());
      } else if (status.message() != null && !status.message().isEmpty()) {
        attrs.put("message", status.message());
      }
    }
    return attrs;
  }

  private static String name(TaskState s) {
    return s == null ? null : s.apiName();
  }

  /**
   * What happened to the task's container, if anything: it started when the task came to run, died
   * when a task that had started it ended, and was destroyed with the task. A task that never got
   * as far as starting its container (rejected, or failed before) tells nothing.
   */
  private static String containerAction(Task before, Task after, TaskEntity.Event e) {
    if (e instanceof TaskEntity.Deleted) {
      return before.containerId() != null ? "destroy" : null;
    }
    if (!(e instanceof TaskEntity.StatusChanged) || before.state().status() == null) {
      return null;
    }
    TaskState from = before.state().state();
    TaskState to = after.state().state();
    if (to == from) {
      return null;
    }
    if (to == TaskState.RUNNING) {
      return "start";
    }
    boolean started = from == TaskState.STARTING || from == TaskState.RUNNING;
    boolean ended = to == TaskState.COMPLETE || to == TaskState.FAILED || to == TaskState.SHUTDOWN;
    return started && ended ? "die" : null;
  }

  /** The labels swarm puts on a task's container, which Docker's container events carry. */
  private static Map<String, String> containerAttributes(TaskEntity.State t) {
    TaskEntity.Definition d = t.definition();
    Map<String, String> attrs = new TreeMap<>();
    attrs.put("name", containerName(t));
    attrs.put("image", d.spec().container().image());
    attrs.put(SERVICE_ID, d.serviceId());
    attrs.put(SERVICE_NAME, d.serviceName());
    attrs.put(TASK_ID, t.id());
    if (t.nodeId() != null) {
      attrs.put(NODE_ID, t.nodeId());
    }
    return attrs;
  }

  /** The agent's container name (TaskAssignment.containerName): service.slot.task, or service.node.task. */
  private static String containerName(TaskEntity.State t) {
    TaskEntity.Definition d = t.definition();
    return d.serviceName() + "." + (d.slot() > 0 ? String.valueOf(d.slot()) : t.nodeId()) + "." + t.id();
  }

  private List<AuditEntry> swarm(String id, SwarmEntity.Event e, Where where) {
    swarm = swarm.apply(e);
    String action = e instanceof SwarmEntity.Initialized ? "create" : "update";
    // Docker's swarm is always named "default", as is our one Swarm entity.
    String swarmId = swarm.clusterId() != null ? swarm.clusterId() : id;
    return where.entry(e.stamp(), "swarm", action, swarmId, Map.of("name", id));
  }
}

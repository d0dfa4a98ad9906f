package dev.swarmd.audit;

import static dev.swarmd.testsupport.Fixtures.T0;
import static dev.swarmd.testsupport.Fixtures.description;
import static dev.swarmd.testsupport.Fixtures.global;
import static dev.swarmd.testsupport.Fixtures.nodeSpec;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.taskSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.Stamp;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AuditTrailTest {
  private static final Cause CAUSE = Cause.api("test", "audit");
  private static final ServiceSpec WEB = replicated("web", 2);

  private final AuditTrail trail = new AuditTrail();
  private final Map<String, Long> sequenceNrs = new HashMap<>();
  private long index;

  /** What an entry tells, without where and when. */
  private record Told(String type, String action, String id, Map<String, String> attributes) {}

  private static Told told(String type, String action, String id, String... keyValues) {
    Map<String, String> attrs = new TreeMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      attrs.put(keyValues[i], keyValues[i + 1]);
    }
    return new Told(type, action, id, attrs);
  }

  private Stamp stamp() {
    index++;
    return new Stamp(index, T0.plusSeconds(index), CAUSE);
  }

  /** Feeds the event as the journal's next, numbering it in its persistence ID as the journal does. */
  private List<AuditEntry> feed(String persistenceId, Object event) {
    long sequenceNr = sequenceNrs.merge(persistenceId, 1L, Long::sum);
    return trail.apply(persistenceId, sequenceNr, event);
  }

  private List<Told> tell(String persistenceId, Object event) {
    return feed(persistenceId, event).stream()
        .map(e -> new Told(e.type(), e.action(), e.id(), e.attributes()))
        .toList();
  }

  private static ServiceSpec withReplicas(ServiceSpec s, long n) {
    return new ServiceSpec(s.name(), s.labels(), s.task(), ServiceSpec.Mode.replicated(n), s.update(), s.rollback(),
        s.endpoint());
  }

  private static ServiceSpec withImage(ServiceSpec s, String image) {
    return new ServiceSpec(s.name(), s.labels(), taskSpec(image), s.mode(), s.update(), s.rollback(), s.endpoint());
  }

  private ServiceEntity.Updated updated(ServiceSpec spec, ServiceSpec previous, ServiceEntity.UpdateStatus status) {
    return new ServiceEntity.Updated(spec, previous, List.of(), List.of(), status, stamp());
  }

  private static ServiceEntity.UpdateStatus updateStatus(String state) {
    return new ServiceEntity.UpdateStatus(state, T0, null, state);
  }

  @Test
  void tellsAServiceFromCreateToRemove() {
    String pid = "Service|s1";
    ServiceSpec scaled = withReplicas(WEB, 3);
    ServiceSpec nginx2 = withImage(scaled, "nginx:2");

    assertEquals(List.of(told("service", "create", "s1", "name", "web")),
        tell(pid, new ServiceEntity.Created(WEB, List.of(), stamp())));
    assertEquals(List.of(told("service", "update", "s1", "name", "web", "replicas.old", "2", "replicas.new", "3")),
        tell(pid, updated(scaled, WEB, null)));
    assertEquals(List.of(told("service", "update", "s1",
            "name", "web", "image.old", "nginx:1", "image.new", "nginx:2")),
        tell(pid, updated(nginx2, scaled, null)));
    assertEquals(List.of(told("service", "update", "s1", "name", "web", "updatestate.new", "updating")),
        tell(pid, new ServiceEntity.UpdateStatusChanged(updateStatus("updating"), stamp())));
    assertEquals(List.of(told("service", "update", "s1",
            "name", "web", "updatestate.old", "updating", "updatestate.new", "completed")),
        tell(pid, new ServiceEntity.UpdateStatusChanged(updateStatus("completed"), stamp())));
    assertEquals(List.of(told("service", "update", "s1", "name", "web", "image.old", "nginx:2", "image.new", "nginx:1",
            "updatestate.old", "completed", "updatestate.new", "rollback_started")),
        tell(pid, updated(scaled, nginx2, updateStatus("rollback_started"))));
    assertEquals(List.of(told("service", "remove", "s1", "name", "web")),
        tell(pid, new ServiceEntity.Removed(stamp())));
  }

  @Test
  void aSpecUpdateThatChangesNeitherImageNorReplicasTellsTheNameOnly() {
    feed("Service|s1", new ServiceEntity.Created(WEB, List.of(), stamp()));
    feed("Service|s1", new ServiceEntity.UpdateStatusChanged(updateStatus("completed"), stamp()));
    ServiceSpec relabeled = new ServiceSpec("web", Map.of("team", "api"), WEB.task(), WEB.mode(), null, null,
        WEB.endpoint());

    // The update clears the update status, so there is no new one to tell.
    assertEquals(List.of(told("service", "update", "s1", "name", "web")),
        tell("Service|s1", updated(relabeled, WEB, null)));
  }

  @Test
  void aGlobalServiceHasNoReplicasToTell() {
    ServiceSpec g = global("agent", taskSpec("agent:1"));
    feed("Service|g1", new ServiceEntity.Created(g, List.of(), stamp()));

    assertEquals(List.of(told("service", "update", "g1", "name", "agent", "image.old", "agent:1", "image.new",
            "agent:2")),
        tell("Service|g1", updated(withImage(g, "agent:2"), g, null)));
  }

  @Test
  void tellsANodeFromRegisterToRemove() {
    String pid = "Node|n1";
    NodeSpec active = nodeSpec("worker", "active", Map.of());
    NodeSpec drain = nodeSpec("worker", "drain", Map.of());

    assertEquals(List.of(told("node", "create", "n1", "name", "host-1")),
        tell(pid, new NodeEntity.Registered(active, description("host-1"), "10.0.0.1", null, "ready", stamp())));
    assertEquals(List.of(told("node", "update", "n1", "name", "host-1", "availability.old", "active",
            "availability.new", "drain")),
        tell(pid, new NodeEntity.SpecUpdated(drain, stamp())));
    assertEquals(List.of(told("node", "update", "n1", "name", "host-1", "state.old", "ready", "state.new", "down")),
        tell(pid, new NodeEntity.StatusChanged("down", "heartbeat failure", stamp())));
    assertEquals(List.of(), tell(pid, new NodeEntity.StatusChanged("down", "still down", stamp())));
    assertEquals(List.of(told("node", "update", "n1", "name", "host-1", "state.old", "down", "state.new", "ready")),
        tell(pid, new NodeEntity.StatusChanged("ready", null, stamp())));
    assertEquals(List.of(),
        tell(pid, new NodeEntity.DescriptionChanged(description("host-1b"), "10.0.0.2", null, stamp())));
    assertEquals(List.of(told("node", "update", "n1", "name", "edge", "name.old", "host-1b", "name.new", "edge",
            "role.old", "worker", "role.new", "manager")),
        tell(pid, new NodeEntity.SpecUpdated(new NodeSpec("edge", Map.of(), "manager", "drain"), stamp())));
    assertEquals(List.of(told("node", "remove", "n1", "name", "edge")),
        tell(pid, new NodeEntity.Removed(stamp())));
  }

  @Test
  void aNodeRegisteringAgainIsAnUpdate() {
    NodeSpec spec = nodeSpec("worker", "active", Map.of());
    feed("Node|n1", new NodeEntity.Registered(spec, description("host-1"), "10.0.0.1", null, "ready", stamp()));
    feed("Node|n1", new NodeEntity.StatusChanged("down", null, stamp()));

    assertEquals(List.of(told("node", "update", "n1", "name", "host-1", "state.old", "down", "state.new", "ready")),
        tell("Node|n1", new NodeEntity.Registered(spec, description("host-1"), "10.0.0.1", null, "ready", stamp())));
  }

  private TaskEntity.Definition definition(String serviceId, ServiceSpec spec, int slot, String nodeId) {
    return new TaskEntity.Definition(serviceId, spec.name(), slot, nodeId, spec.task(), 1, TaskState.RUNNING, null,
        List.of());
  }

  private static TaskEntity.Status status(TaskState state, String containerId, Integer exitCode) {
    return new TaskEntity.Status(state, state.apiName(), null, T0, containerId, exitCode, null, null, null);
  }

  private TaskEntity.StatusChanged reported(TaskState state, String containerId) {
    return new TaskEntity.StatusChanged(status(state, containerId, null), stamp());
  }

  private static Told container(String action, String id, String... more) {
    String[] base = {"name", "web.2.t1", "image", "nginx:1", AuditTrail.SERVICE_ID, "s1",
        AuditTrail.SERVICE_NAME, "web", AuditTrail.TASK_ID, "t1", AuditTrail.NODE_ID, "n1"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return told("container", action, id, all);
  }

  @Test
  void tellsATaskAsItsContainer() {
    String pid = "Task|t1";
    TaskEntity.Status pending = status(TaskState.PENDING, null, null);

    assertEquals(List.of(), tell(pid, new TaskEntity.Created(definition("s1", WEB, 2, null), pending, stamp())));
    assertEquals(List.of(),
        tell(pid, new TaskEntity.Assigned("n1", status(TaskState.ASSIGNED, null, null), stamp())));
    assertEquals(List.of(), tell(pid, reported(TaskState.ACCEPTED, null)));
    assertEquals(List.of(), tell(pid, reported(TaskState.PREPARING, null)));
    assertEquals(List.of(), tell(pid, reported(TaskState.READY, "c1")));
    assertEquals(List.of(), tell(pid, reported(TaskState.STARTING, "c1")));
    assertEquals(List.of(container("start", "c1")), tell(pid, reported(TaskState.RUNNING, "c1")));
    assertEquals(List.of(container("die", "c1", "exitCode", "1")),
        tell(pid, new TaskEntity.StatusChanged(status(TaskState.FAILED, "c1", 1), stamp())));
    assertEquals(List.of(), tell(pid, new TaskEntity.DesiredChanged(TaskState.SHUTDOWN, stamp())));
    assertEquals(List.of(container("destroy", "c1")), tell(pid, new TaskEntity.Deleted(stamp())));
  }

  @Test
  void theAuditAlsoTellsTheTaskItselfWithEachCause() {
    AuditTrail audit = new AuditTrail(true);
    String pid = "Task|t1";
    Cause placed = Cause.loop("scheduler", "placed on n1");
    Cause failed = Cause.loop("agent n1", "task: non-zero exit (1)");
    Cause restart = Cause.loop("orchestrator", "restart policy");
    String[] base = {"name", "web.2", AuditTrail.SERVICE_ID, "s1", AuditTrail.SERVICE_NAME, "web"};

    List<AuditEntry> created = audit.apply(pid, 1, new TaskEntity.Created(definition("s1", WEB, 2, null),
        status(TaskState.PENDING, null, null), stamp()));
    assertEquals(List.of(told("task", "create", "t1", concat(base, "desiredstate.new", "running", "state.new",
        "pending"))), told(created));
    List<AuditEntry> assigned = audit.apply(pid, 2, new TaskEntity.Assigned("n1",
        status(TaskState.ASSIGNED, null, null), new Stamp(++index, T0, placed)));
    assertEquals(List.of(told("task", "assign", "t1", concat(base, AuditTrail.NODE_ID, "n1", "state.old", "pending",
        "state.new", "assigned", "message", "assigned"))), told(assigned));
    assertEquals(placed, assigned.get(0).cause());
    audit.apply(pid, 3, reported(TaskState.RUNNING, "c1"));
    List<AuditEntry> died = audit.apply(pid, 4, new TaskEntity.StatusChanged(new TaskEntity.Status(TaskState.FAILED,
        "failed", "task: non-zero exit (1)", T0, "c1", 1, null, null, null), new Stamp(++index, T0, failed)));
    assertEquals(List.of(
        told("task", "update", "t1", concat(base, AuditTrail.NODE_ID, "n1", "state.old", "running", "state.new",
            "failed", "error", "task: non-zero exit (1)")),
        container("die", "c1", "exitCode", "1")), told(died));
    List<AuditEntry> shutdown = audit.apply(pid, 5, new TaskEntity.DesiredChanged(TaskState.SHUTDOWN,
        new Stamp(++index, T0, restart)));
    assertEquals(List.of(told("task", "update", "t1", concat(base, AuditTrail.NODE_ID, "n1", "desiredstate.old",
        "running", "desiredstate.new", "shutdown"))), told(shutdown));
    assertEquals(restart, shutdown.get(0).cause());
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static List<Told> told(List<AuditEntry> entries) {
    return entries.stream().map(e -> new Told(e.type(), e.action(), e.id(), e.attributes())).toList();
  }

  @Test
  void aShutdownWithoutTheContainerIdStillTellsTheContainer() {
    String pid = "Task|t1";
    feed(pid, new TaskEntity.Created(definition("s1", WEB, 2, "n1"), status(TaskState.ASSIGNED, null, null),
        stamp()));
    feed(pid, reported(TaskState.RUNNING, "c1"));

    assertEquals(List.of(container("die", "c1")), tell(pid, reported(TaskState.SHUTDOWN, null)));
    assertEquals(List.of(container("destroy", "c1")), tell(pid, new TaskEntity.Deleted(stamp())));
  }

  @Test
  void aTaskThatNeverStartedItsContainerTellsNothing() {
    String pid = "Task|t1";
    feed(pid, new TaskEntity.Created(definition("s1", WEB, 2, "n1"), status(TaskState.ASSIGNED, null, null),
        stamp()));

    assertEquals(List.of(), tell(pid, reported(TaskState.PREPARING, null)));
    assertEquals(List.of(), tell(pid, reported(TaskState.REJECTED, null)));
    assertEquals(List.of(), tell(pid, new TaskEntity.Deleted(stamp())));
  }

  @Test
  void aGlobalTasksContainerIsNamedAfterItsNode() {
    ServiceSpec g = global("agent", taskSpec("agent:1"));
    feed("Task|t9", new TaskEntity.Created(definition("g1", g, 0, "n2"), status(TaskState.ASSIGNED, null, null),
        stamp()));

    assertEquals(List.of(told("container", "start", "t9", "name", "agent.n2.t9", "image", "agent:1",
            AuditTrail.SERVICE_ID, "g1", AuditTrail.SERVICE_NAME, "agent", AuditTrail.TASK_ID, "t9",
            AuditTrail.NODE_ID, "n2")),
        tell("Task|t9", reported(TaskState.RUNNING, null)));
  }

  @Test
  void tellsTheSwarm() {
    SwarmEntity.Settings settings = SwarmEntity.Settings.defaults();
    String pid = "Swarm|" + SwarmEntity.ID;

    assertEquals(List.of(told("swarm", "create", "cluster1", "name", "default")),
        tell(pid, new SwarmEntity.Initialized("cluster1", settings, null, "pem", "wt", "mt", stamp())));
    assertEquals(List.of(told("swarm", "update", "cluster1", "name", "default")),
        tell(pid, new SwarmEntity.Updated(settings, "wt2", "mt", stamp())));
  }

  @Test
  void anEntryTellsWhereAndWhenItsEventIs() {
    feed("Service|s0", new ServiceEntity.Created(WEB, List.of(), stamp()));
    Stamp st = new Stamp(42, T0.plusSeconds(42), Cause.loop("orchestrator", "tasks current"));

    List<AuditEntry> entries = feed("Service|s0", new ServiceEntity.UpdateStatusChanged(updateStatus("completed"),
        st));

    assertEquals(List.of(new AuditEntry(42, T0.plusSeconds(42), st.cause(), "service", "update", "s0",
        AuditEntry.attributes(Map.of("name", "web", "updatestate.new", "completed")), "Service|s0", 2)), entries);
  }

  @Test
  void unknownPersistenceIdsAndEventsTellNothing() {
    assertEquals(List.of(), feed("Secret|x", new ServiceEntity.Removed(stamp())));
    assertEquals(List.of(), feed("Service|s1", "not an event"));
    assertEquals(List.of(), feed("Task|t1", new ServiceEntity.Removed(stamp())));
    assertEquals(List.of(), feed("no-bar", new ServiceEntity.Removed(stamp())));
    // Events of objects whose creation was not folded: nothing to name them by.
    assertEquals(List.of(), feed("Service|s9", new ServiceEntity.Removed(stamp())));
    assertEquals(List.of(), feed("Node|n9", new NodeEntity.StatusChanged("down", null, stamp())));
    assertEquals(List.of(), feed("Task|t9", reported(TaskState.RUNNING, "c9")));
  }
}

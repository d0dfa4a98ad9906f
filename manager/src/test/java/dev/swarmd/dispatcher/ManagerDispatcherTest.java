package dev.swarmd.dispatcher;

import static dev.swarmd.testsupport.Fixtures.T0;
import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static dev.swarmd.testsupport.Fixtures.taskSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.ServiceSpec.PortConfig;
import dev.swarmd.protocol.TaskAssignment;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import dev.swarmd.view.SwarmView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ManagerDispatcherTest {
  private static final PortConfig WEB = new PortConfig(null, "tcp", 80, 8080, "ingress");
  /** A global service whose image cannot be had. */
  private static final ServiceEntity.State AGENT =
      service("svc-agent", Fixtures.global("agent", taskSpec("nosuch:1")), 3);

  private static TaskEntity.State running(String id, ServiceEntity.State s, int slot, String node, int hostPort) {
    TaskEntity.State t = task(id, s).slot(slot).on(node).state(TaskState.RUNNING).build();
    TaskEntity.Status st = t.status();
    return new TaskEntity.State(t.id(), true, t.definition(), t.nodeId(), t.desired(), new TaskEntity.Status(
        st.state(), st.message(), st.err(), st.timestamp(), st.containerId(), st.exitCode(), st.pid(),
        List.of(new PortConfig(null, "tcp", 80, hostPort, "ingress")), null), t.version(), t.createdAt(),
        t.updatedAt(), t.runningAt());
  }

  private static List<String> backends(ManagerDispatcher d) {
    return d.routes().get(0).backends().stream().map(IngressRoute.Backend::taskId).sorted().toList();
  }

  /** A task whose node saw its process end leaves every node's routes at once, until its state moves on. */
  @Test
  void anEndedProcessIsOutOfTheRoutesUntilTheTaskIsNoLongerRunning() {
    ServiceSpec spec = replicated("web", 2);
    ServiceSpec withPorts = new ServiceSpec(spec.name(), spec.labels(), spec.task(), spec.mode(), null, null,
        new ServiceSpec.Endpoint("vip", List.of(WEB)));
    ServiceEntity.State s = new ServiceEntity.State("svc", true, withPorts, null, 5, Fixtures.T0, Fixtures.T0, null,
        List.of(WEB), null);
    SwarmView view = new SwarmView();
    view.put(s);
    view.put(readyNode("n1"));
    view.put(readyNode("n2"));
    view.put(running("t1", s, 1, "n1", 32768));
    view.put(running("t2", s, 2, "n2", 32768));
    ManagerDispatcher d = new ManagerDispatcher(view, null);
    AtomicInteger pokes = new AtomicInteger();
    d.watch(pokes::incrementAndGet);
    assertEquals(List.of("t1", "t2"), backends(d));

    d.processEnded("n2", "t1");
    assertEquals(List.of("t1", "t2"), backends(d), "only the task's own node says so");

    int before = pokes.get();
    d.processEnded("n1", "t1");
    assertEquals(List.of("t2"), backends(d));
    assertEquals(before + 1, pokes.get(), "the nodes are told");

    TaskEntity.State t1 = view.task("t1").orElseThrow();
    view.put(new TaskEntity.State(t1.id(), true, t1.definition(), t1.nodeId(), TaskState.SHUTDOWN,
        TaskEntity.Status.of(TaskState.FAILED, "failed"), t1.version() + 1, t1.createdAt(), t1.updatedAt(),
        t1.runningAt()));
    assertEquals(List.of("t2"), backends(d));
    // (A task never runs again; were it to, it would be back: what its node said was forgotten.)
    view.put(running("t1", s, 1, "n1", 32768));
    assertEquals(List.of("t1", "t2"), backends(d), "forgotten once the task's state moved on");
  }

  /**
   * A global service whose image is missing: its node rejected g1, and the orchestrator created g2 on the same
   * node, to start no earlier than the restart delay. The scheduler never sees g2 (it was created assigned), so
   * the dispatcher keeps it from the node until then; handed over at once, it would be rejected at once, and
   * replaced again, as fast as the node can fail it.
   */
  @Test
  void aRestartIsHandedToItsNodeOnlyOnceItsDelayIsOver() {
    Instant rejectedAt = T0.plusSeconds(10);
    Instant due = rejectedAt.plusSeconds(5);
    SwarmView view = globalOnN1(
        task("g1", AGENT).slot(0).on("n1").at(rejectedAt).desired(TaskState.SHUTDOWN).state(TaskState.REJECTED)
            .err("No such image: nosuch:1").build(),
        task("g2", AGENT).slot(0).on("n1").at(rejectedAt).state(TaskState.ASSIGNED).notBefore(due).build());

    ManagerDispatcher early = dispatcherAt(view, due.minusSeconds(1));
    assertEquals(List.of("g1"), taskIds(early.assignments("n1")), "g2 is withheld while its delay runs");
    assertEquals(Optional.of(Duration.ofSeconds(1)), early.untilNextHandover(), "when to tell the node");

    ManagerDispatcher onTime = dispatcherAt(view, due);
    assertEquals(List.of("g1", "g2"), taskIds(onTime.assignments("n1")));
    assertEquals(Optional.empty(), onTime.untilNextHandover());
  }

  /** A withheld restart told to stop (its service removed) is handed over, so that its node reports it stopped. */
  @Test
  void aWithheldRestartToldToStopIsHandedOver() {
    Instant due = T0.plusSeconds(15);
    SwarmView view = globalOnN1(task("g2", AGENT).slot(0).on("n1").desired(TaskState.REMOVE)
        .state(TaskState.ASSIGNED).notBefore(due).build());

    assertEquals(List.of("g2"), taskIds(dispatcherAt(view, due.minusSeconds(1)).assignments("n1")));
  }

  /** Only a task its node has not taken up yet is withheld: a manager clock set back never takes one away. */
  @Test
  void aTaskItsNodeHasTakenUpIsNeverWithheld() {
    Instant due = T0.plusSeconds(15);
    SwarmView view = globalOnN1(task("g2", AGENT).slot(0).on("n1").state(TaskState.RUNNING).notBefore(due).build());

    assertEquals(List.of("g2"), taskIds(dispatcherAt(view, due.minusSeconds(60)).assignments("n1")));
  }

  /** The global service AGENT, on node n1 with these of its tasks. */
  private static SwarmView globalOnN1(TaskEntity.State... tasks) {
    SwarmView view = new SwarmView();
    view.put(AGENT);
    view.put(readyNode("n1"));
    for (TaskEntity.State t : tasks) {
      view.put(t);
    }
    return view;
  }

  private static ManagerDispatcher dispatcherAt(SwarmView view, Instant now) {
    return new ManagerDispatcher(view, null, Clock.fixed(now, ZoneOffset.UTC));
  }

  private static List<String> taskIds(List<TaskAssignment> assignments) {
    return assignments.stream().map(TaskAssignment::taskId).sorted().toList();
  }
}

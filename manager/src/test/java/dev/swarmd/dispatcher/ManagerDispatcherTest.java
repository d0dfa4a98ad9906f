package dev.swarmd.dispatcher;

import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.ServiceSpec.PortConfig;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import dev.swarmd.view.SwarmView;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A task whose node saw its process end leaves every node's routes at once, until its state moves on. */
class ManagerDispatcherTest {
  private static final PortConfig WEB = new PortConfig(null, "tcp", 80, 8080, "ingress");

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
}

package dev.swarmd.endpoint;

import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NamesTest {
  private static TaskEntity.State at(TaskEntity.State t, String address) {
    TaskEntity.Status s = t.status();
    TaskEntity.Status withAddress = new TaskEntity.Status(s.state(), s.message(), s.err(), s.timestamp(),
        s.containerId(), s.exitCode(), s.pid(), null, address);
    return new TaskEntity.State(t.id(), true, t.definition(), t.nodeId(), t.desired(), withAddress, t.version(),
        t.createdAt(), t.updatedAt(), t.runningAt());
  }

  @Test
  void aServiceNameListsTheAddressesOfItsRunningWantedTasksOnReadyNodes() {
    ServiceSpec rrSpec = replicated("rr", 3);
    ServiceEntity.State rr = service("svc-rr", new ServiceSpec(rrSpec.name(), rrSpec.labels(), rrSpec.task(),
        rrSpec.mode(), null, null, new ServiceSpec.Endpoint("dnsrr", List.of())), 3);
    ServiceEntity.State web = service("svc-web", replicated("web", 1), 4);
    NodeEntity.State down = Fixtures.node("n2", "h2", "worker", "active", "down", Map.of());
    List<TaskEntity.State> tasks = List.of(
        at(task("t2", rr).slot(2).on("n1").state(TaskState.RUNNING).build(), "172.17.0.3"),
        at(task("t1", rr).slot(1).on("n1").state(TaskState.RUNNING).build(), "172.17.0.2"),
        at(task("t3", rr).slot(3).on("n2").state(TaskState.RUNNING).build(), "172.17.0.4"),
        at(task("t4", rr).slot(3).on("n1").state(TaskState.RUNNING).desired(TaskState.SHUTDOWN).build(), "172.17.0.5"),
        task("t5", web).slot(1).on("n1").state(TaskState.STARTING).build());

    List<ServiceName> names = Names.of(List.of(web, rr), tasks, List.of(readyNode("n1"), down));

    assertEquals(List.of(
        new ServiceName("rr", "svc-rr", "dnsrr", null, List.of("172.17.0.2", "172.17.0.3")),
        new ServiceName("web", "svc-web", "vip", null, List.of())), names);
  }
}

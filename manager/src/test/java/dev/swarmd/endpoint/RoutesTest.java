package dev.swarmd.endpoint;

import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.ServiceSpec.PortConfig;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoutesTest {
  private static final PortConfig WEB = new PortConfig(null, "tcp", 80, 8080, "ingress");

  private static ServiceEntity.State web(Map<String, String> labels) {
    ServiceSpec spec = replicated("web", 3);
    ServiceSpec withPorts = new ServiceSpec(spec.name(), labels, spec.task(), spec.mode(), null, null,
        new ServiceSpec.Endpoint("vip", List.of(WEB)));
    return new ServiceEntity.State("svc", true, withPorts, null, 5, Fixtures.T0, Fixtures.T0, null, List.of(WEB),
        null);
  }

  /** The task running on node with its port 80 bound on host port hostPort. */
  private static TaskEntity.State bound(TaskEntity.State t, int hostPort) {
    return bound(t, hostPort, null);
  }

  private static TaskEntity.State bound(TaskEntity.State t, int hostPort, String containerAddress) {
    TaskEntity.Status s = t.status();
    TaskEntity.Status withPorts = new TaskEntity.Status(s.state(), s.message(), s.err(), s.timestamp(),
        s.containerId(), s.exitCode(), s.pid(), List.of(new PortConfig(null, "tcp", 80, hostPort, "ingress")), containerAddress);
    return new TaskEntity.State(t.id(), true, t.definition(), t.nodeId(), t.desired(), withPorts, t.version(),
        t.createdAt(), t.updatedAt(), t.runningAt());
  }

  @Test
  void runningWantedTasksOnReadyNodesAreTheBackends() {
    ServiceEntity.State s = web(Map.of());
    NodeEntity.State n1 = readyNode("n1");
    NodeEntity.State down = Fixtures.node("n2", "h2", "worker", "active", "down", Map.of());
    List<TaskEntity.State> tasks = List.of(
        bound(task("t1", s).slot(1).on("n1").state(TaskState.RUNNING).build(), 32768),
        bound(task("t2", s).slot(2).on("n2").state(TaskState.RUNNING).build(), 32769),
        bound(task("t3", s).slot(3).on("n1").state(TaskState.RUNNING).desired(TaskState.SHUTDOWN).build(), 32770),
        task("t4", s).slot(3).on("n1").state(TaskState.STARTING).at(Instant.now()).build());

    List<IngressRoute> routes = Routes.of(List.of(s), tasks, List.of(n1, down));

    assertEquals(1, routes.size());
    IngressRoute r = routes.get(0);
    assertEquals(8080, r.publishedPort());
    assertEquals("tcp", r.protocol());
    assertFalse(r.proxyProtocol());
    assertEquals(List.of(new IngressRoute.Backend("t1", n1.addr(), 32768)), r.backends(),
        "not the task on a down node, nor one told to stop, nor one not yet running (healthy)");
  }

  @Test
  void aVirtualIpForwardsEachTargetPortToThePublishedPortOrElseTheContainer() {
    ServiceEntity.State plain = web(Map.of());
    ServiceEntity.State s = new ServiceEntity.State(plain.id(), true, plain.spec(), null, 5, Fixtures.T0, Fixtures.T0,
        null, List.of(WEB, new PortConfig(null, "udp", 53, 0, "host")), null, "10.255.0.2");
    NodeEntity.State n1 = readyNode("n1");
    TaskEntity.State published = bound(task("t1", s).slot(1).on("n1").state(TaskState.RUNNING).build(), 32768);
    TaskEntity.State t2 = task("t2", s).slot(2).on("n1").state(TaskState.RUNNING).build();
    TaskEntity.Status st = t2.status();
    TaskEntity.State container = new TaskEntity.State(t2.id(), true, t2.definition(), t2.nodeId(), t2.desired(),
        new TaskEntity.Status(st.state(), st.message(), st.err(), st.timestamp(), st.containerId(), st.exitCode(),
            st.pid(), null, "172.17.0.9"), t2.version(), t2.createdAt(), t2.updatedAt(), t2.runningAt());

    List<IngressRoute> routes = Routes.of(List.of(s), List.of(published, container), List.of(n1));

    assertEquals(3, routes.size(), routes.toString());
    assertEquals(null, routes.get(0).bindAddress(), "the published port on the nodes' own addresses first");
    IngressRoute tcp = routes.get(2);
    assertEquals("10.255.0.2", tcp.bindAddress());
    assertEquals(80, tcp.publishedPort());
    assertEquals(List.of(new IngressRoute.Backend("t1", n1.addr(), 32768), new IngressRoute.Backend("t2", "172.17.0.9", 80)),
        tcp.backends());
    IngressRoute udp = routes.get(1);
    assertEquals(53, udp.publishedPort());
    assertEquals("udp", udp.protocol());
    assertEquals(List.of(new IngressRoute.Backend("t2", "172.17.0.9", 53)), udp.backends());
  }

  @Test
  void aBackendCarriesItsContainersOwnAddressForItsNodeToUse() {
    ServiceEntity.State s = web(Map.of());
    NodeEntity.State n1 = readyNode("n1");
    TaskEntity.State t1 = bound(task("t1", s).slot(1).on("n1").state(TaskState.RUNNING).build(), 32768, "172.17.0.4");

    assertEquals(List.of(new IngressRoute.Backend("t1", n1.addr(), 32768, "172.17.0.4", 80)),
        Routes.of(List.of(s), List.of(t1), List.of(n1)).get(0).backends());
  }

  @Test
  void theProxyProtocolLabelNamesAllOrSomePorts() {
    assertTrue(Routes.of(List.of(web(Map.of(Routes.PROXY_PROTOCOL_LABEL, "true"))), List.of(), List.of()).get(0)
        .proxyProtocol());
    assertTrue(Routes.proxyProtocol(Map.of(Routes.PROXY_PROTOCOL_LABEL, "8443, 8080"), 8080));
    assertFalse(Routes.proxyProtocol(Map.of(Routes.PROXY_PROTOCOL_LABEL, "8443"), 8080));
  }
}

package dev.swarmd.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventActor;
import com.github.dockerjava.api.model.Network;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's events as the agent reads them: which task went down. */
class DockerEngineTest {
  private static Event event(String action) {
    return new Event().withAction(action).withStatus(action).withEventActor(new EventActor().withId("c1")
        .withAttributes(Map.of(SwarmLabels.TASK_ID, "t1", "name", "web.1.t1")));
  }

  @Test
  void aDeathOrAnUnhealthyContainerNamesItsTask() {
    assertEquals("t1", DockerEngine.downTask(event("die")));
    assertEquals("t1", DockerEngine.downTask(event("health_status: unhealthy")));
  }

  @Test
  void otherEventsNameNone() {
    assertNull(DockerEngine.downTask(event("health_status: healthy")));
    assertNull(DockerEngine.downTask(event("start")));
    assertNull(DockerEngine.downTask(new Event().withAction("die")));
  }

  private static Network.Ipam.Config config(String subnet, String gateway) {
    return new Network.Ipam.Config().withSubnet(subnet).withGateway(gateway);
  }

  @Test
  void theBridgeGatewayComesFromWhereverTheEngineSaysIt() {
    assertEquals("172.18.0.1", DockerEngine.gatewayOf(List.of(config("172.18.0.0/16", "172.18.0.1")), "172.18.0.9"));
    // A fresh dockerd's bridge: a subnet and no gateway; the interface holds the address.
    assertEquals("172.17.0.1", DockerEngine.gatewayOf(List.of(config("172.17.0.0/16", null)), "172.17.0.1"));
    // No interface to read (another network namespace): the subnet's first host, the engine's choice.
    assertEquals("172.17.0.1", DockerEngine.gatewayOf(List.of(config("172.17.0.0/16", null)), null));
    assertEquals("172.17.0.1", DockerEngine.gatewayOf(List.of(config("172.17.0.0/16", null)), "10.9.9.9"));
    assertNull(DockerEngine.gatewayOf(List.of(), "172.17.0.1"));
  }
}

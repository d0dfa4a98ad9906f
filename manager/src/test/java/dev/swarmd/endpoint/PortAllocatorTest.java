package dev.swarmd.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.ServiceSpec.PortConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortAllocatorTest {
  private static PortConfig ingress(int target, int published, String protocol) {
    return new PortConfig(null, protocol, target, published, "ingress");
  }

  private static PortConfig host(int target, int published) {
    return new PortConfig(null, "tcp", target, published, "host");
  }

  private static ServiceSpec.Endpoint endpoint(PortConfig... ports) {
    return new ServiceSpec.Endpoint("vip", List.of(ports));
  }

  @Test
  void aPortAskedWithoutANumberGetsTheFirstFreeOneOfTheDynamicRange() {
    List<PortAllocator.Holder> holders = List.of(
        new PortAllocator.Holder("s1", "web", List.of(ingress(80, 30000, "tcp"))));

    List<PortConfig> ports = PortAllocator.allocate("s2", endpoint(ingress(80, 0, "tcp"), ingress(53, 0, "udp")),
        List.of(), holders);

    assertEquals(List.of(ingress(80, 30001, "tcp"), ingress(53, 30000, "udp")), ports);
  }

  @Test
  void anUpdateKeepsTheDynamicPortsItHad() {
    List<PortConfig> now = List.of(ingress(80, 30005, "tcp"));

    List<PortConfig> ports = PortAllocator.allocate("s1", endpoint(ingress(80, 0, "tcp"), ingress(81, 8081, "tcp")),
        now, List.of(new PortAllocator.Holder("s1", "web", now)));

    assertEquals(List.of(ingress(80, 30005, "tcp"), ingress(81, 8081, "tcp")), ports);
  }

  @Test
  void anIngressPortHeldByAnotherServiceIsRefusedWithDockersText() {
    List<PortAllocator.Holder> holders = List.of(
        new PortAllocator.Holder("s1", "web", List.of(ingress(80, 8080, "tcp"))));

    PortAllocator.Conflict e = assertThrows(PortAllocator.Conflict.class,
        () -> PortAllocator.allocate("s2", endpoint(ingress(81, 8080, "tcp")), List.of(), holders));
    assertEquals("port '8080' is already in use by service 'web' (s1) as an ingress port", e.getMessage());
    assertThrows(PortAllocator.Conflict.class,
        () -> PortAllocator.allocate("s2", endpoint(host(81, 8080)), List.of(), holders));
  }

  @Test
  void theSameNumberOnAnotherProtocolIsFreeAndHostPortsMayBeShared() {
    List<PortAllocator.Holder> holders = List.of(
        new PortAllocator.Holder("s1", "web", List.of(ingress(80, 8080, "tcp"), host(53, 5353))));

    assertEquals(List.of(ingress(80, 8080, "udp")),
        PortAllocator.allocate("s2", endpoint(ingress(80, 8080, "udp")), List.of(), holders));
    assertEquals(List.of(host(53, 5353)), PortAllocator.allocate("s2", endpoint(host(53, 5353)), List.of(), holders));
    PortAllocator.Conflict e = assertThrows(PortAllocator.Conflict.class,
        () -> PortAllocator.allocate("s2", endpoint(ingress(53, 5353, "tcp")), List.of(), holders));
    assertEquals("port '5353' is already in use by service 'web' (s1) as a host-published port", e.getMessage());
  }

  @Test
  void theServiceItselfIsNoConflict() {
    List<PortConfig> now = List.of(ingress(80, 8080, "tcp"));
    assertEquals(now, PortAllocator.allocate("s1", endpoint(ingress(80, 8080, "tcp")), now,
        List.of(new PortAllocator.Holder("s1", "web", now))));
  }
}

package dev.swarmd.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.swarmd.protocol.Cidr;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostNetworksTest {
  @Test
  void everyRouteOfEveryTableButTheDefaultOnesIsInUse() {
    String out = """
        default via 192.0.2.1 dev eth0
        10.8.0.0/16 via 192.0.2.1 dev eth0 proto static
        192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2
        unreachable 10.99.0.0/16 table 100
        local 10.255.0.0/16 dev lo table local scope host
        broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.2
        local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1
        default dev wg0 table 51820 scope link
        """;
    assertEquals(List.of("10.8.0.0/16", "192.0.2.0/24", "10.99.0.0/16", "10.255.0.0/16", "192.0.2.255/32",
        "127.0.0.1/32"), HostNetworks.parseRoutes(out).stream().map(Cidr::toString).toList());
  }
}

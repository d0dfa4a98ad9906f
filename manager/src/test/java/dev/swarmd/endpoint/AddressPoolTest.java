package dev.swarmd.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.swarmd.protocol.Cidr;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AddressPoolTest {
  private static AddressPool.HostUse use(String cidr, String what) {
    return new AddressPool.HostUse(Cidr.parse(cidr), what);
  }

  @Test
  void aHostThatUsesNothingOfTheDefaultPoolGetsItsFirstSubnet() {
    AddressPool p = AddressPool.choose(List.of(), 0, List.of(use("172.17.0.0/16", "engine network bridge")));
    assertEquals("10.0.0.0/24", p.vipSubnet());
    assertEquals(List.of("10.0.0.0/8"), p.pools());
    assertEquals(24, p.subnetSize());
    assertEquals("10.0.0.1", p.resolver());
  }

  @Test
  void theDefaultPoolStepsAroundTheHostsResolverAddressesAndRoutes() {
    AddressPool p = AddressPool.choose(null, 0, List.of(
        use("10.0.0.53/32", "resolver 10.0.0.53"),
        use("10.0.1.0/24", "route 10.0.1.0/24"),
        use("10.0.2.7/30", "address 10.0.2.7/30 of eth1")));
    assertEquals("10.0.3.0/24", p.vipSubnet());
  }

  @Test
  void aPoolTheUserNamesMustBeClearAsAWhole() {
    AddressPool.Refused r = assertThrows(AddressPool.Refused.class, () -> AddressPool.choose(List.of("10.255.0.0/16"),
        24, List.of(use("10.255.255.53/32", "resolver 10.255.255.53 (/etc/resolv.conf)"))));
    assertEquals("invalid default address pool 10.255.0.0/16: it overlaps resolver 10.255.255.53 (/etc/resolv.conf) "
        + "on this host; choose another with --default-addr-pool", r.getMessage());
    AddressPool ok = AddressPool.choose(List.of("10.20.0.0/16"), 26, List.of(use("10.255.255.53/32", "resolver")));
    assertEquals("10.20.0.0/26", ok.vipSubnet());
    assertEquals("10.20.0.1", ok.resolver());
  }

  @Test
  void badPoolsAndSizesGetDockersErrors() {
    assertEquals("invalid base pool 10.0.0/8: invalid CIDR address: 10.0.0/8", assertThrows(
        AddressPool.Refused.class, () -> AddressPool.choose(List.of("10.0.0/8"), 0, List.of())).getMessage());
    assertEquals("subnet size is out of range: 30", assertThrows(
        AddressPool.Refused.class, () -> AddressPool.choose(List.of(), 30, List.of())).getMessage());
    assertEquals("invalid CIDR: \"10.20.0.0/16\". Subnet size is too small for pool: 8", assertThrows(
        AddressPool.Refused.class, () -> AddressPool.choose(List.of("10.20.0.0/16"), 8, List.of())).getMessage());
  }

  @Test
  void virtualIpsFollowTheResolverAndStopBeforeBroadcast() {
    Cidr subnet = Cidr.parse("10.0.3.0/29");
    assertEquals("10.0.3.2", VirtualIps.allocate(subnet, Set.of()));
    assertEquals("10.0.3.4", VirtualIps.allocate(subnet, Set.of("10.0.3.2", "10.0.3.3")));
    assertThrows(VirtualIps.Exhausted.class, () -> VirtualIps.allocate(subnet,
        Set.of("10.0.3.2", "10.0.3.3", "10.0.3.4", "10.0.3.5", "10.0.3.6")));
  }
}

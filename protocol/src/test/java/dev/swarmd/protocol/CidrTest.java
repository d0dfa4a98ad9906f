package dev.swarmd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CidrTest {
  @Test
  void parsesAndClearsHostBitsAsGoDoes() {
    assertEquals("10.20.0.0/16", Cidr.parse("10.20.30.40/16").toString());
    assertEquals("10.255.255.53/32", Cidr.parse("10.255.255.53").toString());
    assertEquals("0.0.0.0/0", Cidr.parse("0.0.0.0/0").toString());
  }

  @Test
  void refusesWhatIsNoIpv4Prefix() {
    for (String bad : new String[] {"", "10.0.0/8", "10.0.0.0/33", "256.0.0.0/8", "fd00::/8", "10.0.0.0/", "x"}) {
      assertThrows(IllegalArgumentException.class, () -> Cidr.parse(bad), bad);
    }
  }

  @Test
  void overlapsWhenEitherHoldsTheOther() {
    Cidr pool = Cidr.parse("10.0.0.0/8");
    assertTrue(pool.overlaps(Cidr.parse("10.255.255.53/32")));
    assertTrue(Cidr.parse("10.255.255.53/32").overlaps(pool));
    assertFalse(Cidr.parse("10.0.0.0/24").overlaps(Cidr.parse("10.0.1.0/24")));
    assertTrue(Cidr.parse("0.0.0.0/0").overlaps(pool));
  }

  @Test
  void countsSubnetsAndHosts() {
    Cidr pool = Cidr.parse("10.0.0.0/8");
    assertEquals(65536, pool.subnets(24));
    assertEquals("10.0.1.0/24", pool.subnet(24, 1).toString());
    assertEquals("10.255.255.0/24", pool.subnet(24, 65535).toString());
    assertEquals("10.0.1.1", pool.subnet(24, 1).host(1));
    assertTrue(pool.contains("10.1.2.3"));
    assertFalse(pool.contains("11.0.0.1"));
  }
}

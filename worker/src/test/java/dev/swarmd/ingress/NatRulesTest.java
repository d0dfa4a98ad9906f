package dev.swarmd.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class NatRulesTest {
  private static InetSocketAddress at(String host, int port) {
    return new InetSocketAddress(host, port);
  }

  @Test
  void eachFrontendTakesItsTargetsInTurnAndIsMasqueraded() {
    NatRules rules = new NatRules("SWARMD-127.0.0.5", "SWARMD-127.0.0.5-POST", List.of(
        new NatRules.Frontend("127.0.0.5", 8080, "tcp",
            List.of(at("172.17.0.2", 80), at("127.0.0.6", 30001), at("127.0.0.7", 30002))),
        new NatRules.Frontend("10.255.0.2", 80, "tcp", List.of(at("172.17.0.2", 80)))));

    assertEquals("""
        *nat
        :SWARMD-127.0.0.5 - [0:0]
        :SWARMD-127.0.0.5-POST - [0:0]
        -F SWARMD-127.0.0.5
        -F SWARMD-127.0.0.5-POST
        -A SWARMD-127.0.0.5 -d 127.0.0.5/32 -p tcp -m tcp --dport 8080 -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 172.17.0.2:80
        -A SWARMD-127.0.0.5 -d 127.0.0.5/32 -p tcp -m tcp --dport 8080 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 127.0.0.6:30001
        -A SWARMD-127.0.0.5 -d 127.0.0.5/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 127.0.0.7:30002
        -A SWARMD-127.0.0.5-POST -p tcp -m conntrack --ctstate DNAT --ctorigdst 127.0.0.5/32 --ctorigdstport 8080 -j MASQUERADE
        -A SWARMD-127.0.0.5 -d 10.255.0.2/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:80
        -A SWARMD-127.0.0.5-POST -p tcp -m conntrack --ctstate DNAT --ctorigdst 10.255.0.2/32 --ctorigdstport 80 -j MASQUERADE
        COMMIT
        """, rules.script());
  }

  @Test
  void aFrontendWithoutTargetsHasNoRuleSoItsPortRefuses() {
    NatRules rules = new NatRules("C", "P", List.of(new NatRules.Frontend("127.0.0.5", 8080, "tcp", List.of())));

    assertEquals("*nat\n:C - [0:0]\n:P - [0:0]\n-F C\n-F P\nCOMMIT\n", rules.script());
  }

  @Test
  void aNodeSetsUpItsEmptyChainsAndHooksThemInUnderItsOwnName() {
    NatRules rules = new NatRules("C", "P", List.of());
    assertEquals("*nat\n:C - [0:0]\n:P - [0:0]\n-F C\n-F P\n"
        + "-I PREROUTING 1 -m comment --comment \"swarmd pid=7 start=9\" -j C\n"
        + "-I OUTPUT 1 -m comment --comment \"swarmd pid=7 start=9\" -j C\n"
        + "-I POSTROUTING 1 -m comment --comment \"swarmd pid=7 start=9\" -j P\nCOMMIT\n",
        rules.setUp(new Iptables.Owner(7, 9, false).comment()));
  }

  @Test
  void chainNamesMustFitIptables() {
    assertThrows(IllegalArgumentException.class,
        () -> new NatRules("SWARMD-0123456789abcdef0123456789", "P", List.of()));
  }
}
